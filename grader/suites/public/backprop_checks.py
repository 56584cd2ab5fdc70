"""What the backprop checks, public and hidden, share: the gradients' names, judging returned gradients, and
random problems."""

from collections.abc import Sequence
from typing import Any

import numpy as np

from grader.grading.checks import as_array, as_data
from grader.grading.diagnose import Mistake, expect_match
from grader.isolation.wire import Ref

# What rnn_backward returns, in order, and what rnn_step_backward returns.
BACKWARD = ("dx", "dh0", "dW_xh", "dW_hh", "db")
STEP_BACKWARD = ("dx_t", "dh_prev", "dW_xh", "dW_hh", "db")


def expect_gradients(returned: Any, expected: Sequence[Any], what: str, names: Sequence[str],
                     mistakes: Sequence[tuple[str | None, str, Any]] = (), atol: float = 1e-6) -> None:
    """Fail unless the tuple `what` returned holds `expected`, gradient by gradient; a failure names the gradient,
    and a mistake when that gradient is what the mistake gives.

    mistakes: (id, what the mistake does, the tuple it returns, or a function computing it when needed).
    """
    got = as_data(returned, what, list, length=len(names))
    for i, name in enumerate(names):
        forms = [Mistake(id_, does, (lambda value=value, i=i: value()[i]) if callable(value) else value[i])
                 for id_, does, value in mistakes]
        expect_match(got[i], expected[i], f"{what}'s {name}", forms, atol=atol)


def kept(learner, func: str, *args: Any) -> Ref:
    """What backprop.func(*args) returns, left in your process (a function cannot travel to the grader)."""
    return as_data(learner.backprop.invoke(func, args, keep=True), func, Ref)


def random_problem(rng, N: int, T: int, D: int, H: int) -> dict[str, np.ndarray]:
    """Random inputs and weights, kept small enough that tanh does not flatten every gradient."""
    return {"x": rng.normal(size=(N, T, D)), "h0": rng.normal(size=(N, H)) * 0.5,
            "W_xh": rng.normal(size=(D, H)) * 0.5, "W_hh": rng.normal(size=(H, H)) * 0.5,
            "b": rng.normal(size=H) * 0.5, "dh": rng.normal(size=(N, T, H))}


def expect_shapes(returned: Any, what: str, names: Sequence[str], shapes: Sequence[tuple[int, ...]]) -> None:
    """Fail unless `returned` is len(names) arrays of these shapes, saying which gradient has which shape.

    Only the shape is known here, so a failure names no mistake: (H, D) for (D, H) may be a transpose, or not.
    """
    for name, value, shape in zip(names, as_data(returned, what, list, length=len(names)), shapes, strict=True):
        array = as_array(value, f"{what}'s {name}")
        if array.shape != shape:
            flipped = " (the documented shape reversed)" if array.shape == shape[::-1] and len(shape) > 1 else ""
            raise AssertionError(f"{what}'s {name} has shape {array.shape}{flipped}, expected {shape}")
