"""Small assertions the suites share. Each failure names what was wrong in the learner's terms.

Values here come back from the worker as plain data (lists, dicts, numbers, strings, ndarrays),
so the checks never call anything the learner wrote.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from grader.core.errors import LearnerError, Misconception


def as_array(value: Any, what: str) -> np.ndarray:
    """`value` as a numeric ndarray, or an AssertionError naming `what` returned something else."""
    if not isinstance(value, np.ndarray):
        raise AssertionError(f"{what} returned {type(value).__name__}, expected a numpy array")
    return value


def expect_shape(value: Any, shape: Iterable[int], what: str, misconception: str = "wrong-shape") -> np.ndarray:
    array = as_array(value, what)
    if array.shape != tuple(shape):
        raise Misconception(misconception, f"{what} returned shape {array.shape}, expected {tuple(shape)}")
    return array


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


def expect_close(actual: Any, expected: ArrayLike, what: str, atol: float = 1e-5,
                 diagnose: Mapping[str, Any] | None = None) -> None:
    """Fail unless `actual` equals `expected` within `atol`.

    diagnose: optional {misconception id: what that mistake would have returned, or a list of the
    forms it can take}; the first match names the mistake in the failure.
    """
    array = as_array(actual, what)
    if close(array, expected, atol):
        return
    for misconception, wrong in (diagnose or {}).items():
        candidates = wrong if isinstance(wrong, list) else [wrong]
        if any(w is not None and same_mistake(array, w, atol) for w in candidates):
            raise Misconception(misconception, f"{what} returned what {misconception} would give")
    if array.shape != np.shape(expected):
        raise Misconception("wrong-shape", f"{what} returned shape {array.shape}, expected {np.shape(expected)}")
    worst = float(np.nanmax(np.abs(array - expected))) if np.all(np.isfinite(array)) else float("inf")
    raise AssertionError(f"{what} differs from the expected values by up to {worst:.3g} (tolerance {atol})")


def one_hot_rows(alphabet: Sequence[str], text: str) -> np.ndarray:
    """One-hot encoding of `text` as (len(text), len(alphabet)) float32: the checks' own inputs."""
    return np.eye(len(alphabet), dtype=np.float32)[[alphabet.index(c) for c in text]]


def expect_probabilities(actual: Any, expected: ArrayLike, what: str, atol: float = 1e-5) -> None:
    """Fail unless `actual` equals softmax `expected`; diagnose overflow and the wrong axis by behaviour."""
    array = as_array(actual, what)
    if close(array, expected, atol):
        return
    if array.shape == np.shape(expected) and not np.all(np.isfinite(array)):
        raise Misconception("softmax-unstable", f"{what} returned inf or nan for large logits")
    if array.shape == np.shape(expected) and array.ndim > 1:
        sums = [np.allclose(array.sum(axis=a), 1, atol=1e-4) for a in range(array.ndim - 1)]
        if any(sums) and not np.allclose(array.sum(axis=-1), 1, atol=1e-4):
            raise Misconception("softmax-wrong-axis", f"{what} normalises over axis {sums.index(True)}, not the last")
    expect_close(array, expected, what, atol)


def expect_value_error(call: Callable[[], Any], what: str) -> None:
    """Run `call()` (a call into learner code) and fail unless it raises ValueError.

    A stub's NotImplementedError and a failed import are passed on as they are: the function is
    missing, or cannot run in the grading environment, not wrong.
    """
    try:
        call()
    except LearnerError as error:
        if error.type_name == "NotImplementedError" or error.import_failed:
            raise
        if error.type_name != "ValueError":
            raise Misconception("encode-no-error", f"{what} raised {error.type_name}, expected ValueError") from None
        return
    raise Misconception("encode-no-error", f"{what} returned instead of raising ValueError")
