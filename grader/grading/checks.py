"""Small assertions the suites share. Each failure names what was wrong in the learner's terms.

Values here come back from the worker as plain data (lists, dicts, numbers, strings, ndarrays),
so the checks never call anything the learner wrote. A value is whatever the learner's function
returned (or a rigged worker sent): None, a bool, an integer too large for a float, NaN, a ragged or
nested list, an array of any numeric dtype and shape. A check passes each one through `as_array` or
`as_data` before it uses it, so a value of the wrong kind fails that check with a message saying
what came back and what was expected; any other exception in a check is an internal grader error.
"""

import math
from collections.abc import Callable, Iterable, Sequence, Sized
from typing import Any, NoReturn

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from grader.core.errors import LearnerError, Misconception
from grader.isolation.wire import Ref

NUMERIC_KINDS = "biuf"  # bool, signed and unsigned integers, floats: all the worker may send (safe_io)
KINDS = {list: "a list", dict: "a dict", str: "a str", Ref: "a model kept in your process", np.ndarray: "an array",
         bool: "a bool", int: "an int", float: "a float"}


def describe(value: Any) -> str:
    """What a returned value is, for a failure's message: its type, a container's size, an array's shape
    and dtype (never its contents, which may be large)."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, list):  # a tuple arrives as a list
        return f"a list (or tuple) of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return f"a dict of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, str):
        return f"a str of {len(value)} character{'' if len(value) == 1 else 's'}"
    return KINDS.get(type(value), f"a {type(value).__name__}")


def kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(KINDS.get(k, k.__name__) for k in kinds)


def as_data(value: Any, what: str, kind: type | tuple[type, ...], items: type | tuple[type, ...] | None = None,
            length: int | None = None) -> Any:
    """`value` if it is a `kind` (list, dict, str, Ref, ...), when given of `length` items and, for a list,
    each an `items`; else an AssertionError saying what `what` returned instead."""
    expected = kind_name(kind) + (f" of {length} items" if length is not None else "") + (
        f", each item {kind_name(items)}" if items is not None else "")
    if not isinstance(value, kind) or (length is not None and not (isinstance(value, Sized) and len(value) == length)):
        raise AssertionError(f"{what} returned {describe(value)}, expected {expected}")
    if items is not None and isinstance(value, list):
        for i, item in enumerate(value):
            if not isinstance(item, items):
                raise AssertionError(f"{what} returned {describe(value)} whose item {i} is {describe(item)}, "
                                     f"expected {expected}")
    return value


def as_array(value: Any, what: str, shape: Iterable[int] | None = None, dtype: DTypeLike | None = None,
             misconception: str = "wrong-shape") -> np.ndarray:
    """`value` if it is a numeric numpy array (of `shape` and `dtype`, when given), else a failure saying
    what `what` returned: an AssertionError for anything but an array, a `Misconception` for the wrong
    shape or dtype."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in NUMERIC_KINDS:
        wanted = f" of shape {tuple(shape)}" if shape is not None else ""
        raise AssertionError(f"{what} returned {describe(value)}, expected a numpy array{wanted}")
    if shape is not None and value.shape != tuple(shape):
        raise Misconception(misconception, f"{what} returned shape {value.shape}, expected {tuple(shape)}")
    if dtype is not None and value.dtype != np.dtype(dtype):
        raise Misconception(misconception, f"{what} returned dtype {value.dtype}, expected {np.dtype(dtype)}")
    return value


def as_float(value: int | float) -> float:
    """A returned number as a float: JSON's integers have no bound, so one beyond a float's range is +-inf."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def close(actual: ArrayLike, expected: ArrayLike, atol: float = 1e-5) -> bool:
    """True when `actual` has `expected`'s shape and agrees with it within `atol` everywhere."""
    actual = np.asarray(actual)
    return actual.shape == np.shape(expected) and bool(
        np.all(np.isfinite(actual)) and np.allclose(actual, expected, rtol=0, atol=atol)
    )


def same_mistake(actual: np.ndarray, wrong: ArrayLike, atol: float) -> bool:
    """True when `actual` equals what a mistake gives, inf and nan included (an overflowing softmax)."""
    with np.errstate(invalid="ignore"):
        return actual.shape == np.shape(wrong) and bool(np.allclose(actual, wrong, rtol=0, atol=atol, equal_nan=True))


def one_hot_rows(alphabet: Sequence[str], text: str) -> np.ndarray:
    """One-hot encoding of `text` as (len(text), len(alphabet)) float32: the checks' own inputs."""
    return np.eye(len(alphabet), dtype=np.float32)[[alphabet.index(c) for c in text]]


def expect_value_error(call: Callable[[], Any], what: str, misconception: str | None = None) -> None:
    """Run `call()` (a call into learner code) and fail unless it raises ValueError (or a subclass of it);
    the failure names `misconception` when one is given.

    A stub's NotImplementedError and a failed import are passed on as they are: the function is
    missing, or cannot run in the grading environment, not wrong.
    """
    try:
        call()
    except LearnerError as error:
        if error.type_name == "NotImplementedError" or error.import_failed:
            raise
        if "ValueError" not in (error.type_name, *error.ancestry):
            fail(f"{what} raised {error.type_name}, expected ValueError", misconception)
        return
    fail(f"{what} returned instead of raising ValueError", misconception)


def fail(message: str, misconception: str | None) -> NoReturn:
    """Fail the check: as `misconception` when one is named, else plainly."""
    if misconception:
        raise Misconception(misconception, message)
    raise AssertionError(message)
