"""Naming a mistake on evidence: a failed check compares what the learner's function returned with what
each candidate mistake computes on the same inputs, and names the mistake only when the output matches.

A misconception id is a claim about what the learner did, so the checks pick inputs on which the
candidates differ from the right answer and from each other (random or worked-out weights, a W_hh that
is not symmetric, a bias that is not zero). A candidate that gives the right answer on these inputs is
no evidence and is left out. When no candidate matches, or candidates with different ids match alike,
the failure names none and says plainly what differs: the shape, where values are not finite, the
first step that differs.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from grader.core.errors import Misconception, SubmissionProblem
from grader.grading.checks import as_array, close, same_mistake


@dataclass(frozen=True)
class Mistake:
    """One form of a mistake on a check's inputs.

    id: a declared misconception id (`feedback.hint`), or None for a form the check recognises and
        describes but that has no id of its own.
    does: what the form does, as a clause after the function's name ("applies sigmoid, not tanh").
    value: what it computes on the check's inputs, or a function that computes it; a function is
        called only when the check fails, so it may call the learner's own functions.
    """

    id: str | None
    does: str
    value: ArrayLike | Callable[[], ArrayLike]


def expect_match(actual: Any, expected: ArrayLike, what: str, mistakes: Iterable[Mistake] = (),
                 atol: float = 1e-5, steps_axis: int | None = None) -> np.ndarray:
    """`actual` as an array if it equals `expected` within `atol`; else a failure that names the one id
    whose mistakes `actual` matches, or, failing that, describes what differs.

    steps_axis: the axis that counts steps (rnn_forward's time axis): the description then names the
    first step that differs.
    """
    array = as_array(actual, what)
    if close(array, expected, atol):
        return array
    found = matching(array, expected, mistakes, atol)
    if len({mistake.id for mistake in found}) == 1:
        does = " or ".join(dict.fromkeys(mistake.does for mistake in found))
        message = f"{what} {does} (its output matches that mistake's on this input)"
        if found[0].id is None:
            raise AssertionError(message)
        raise Misconception(found[0].id, message)
    raise difference(array, np.asarray(expected), what, atol, steps_axis)


def matching(array: np.ndarray, expected: ArrayLike, mistakes: Iterable[Mistake], atol: float) -> list[Mistake]:
    """The mistakes whose output on these inputs `array` equals and the right answer does not."""
    found = []
    for mistake in mistakes:
        value = computed(mistake)
        if value is not None and not same_mistake(value, expected, atol) and same_mistake(array, value, atol):
            found.append(mistake)
    return found


def computed(mistake: Mistake) -> np.ndarray | None:
    """What `mistake` computes; None when that needs a call into the learner's code that fails (the
    learner's function raised or returned something unusable on the mistake's inputs): no evidence."""
    try:
        value = mistake.value() if callable(mistake.value) else mistake.value
    except (AssertionError, SubmissionProblem):
        return None
    return np.asarray(value, dtype=float)


def difference(array: np.ndarray, expected: np.ndarray, what: str, atol: float,
               steps_axis: int | None) -> AssertionError:
    """A plain description of how `array` differs from `expected`, naming no mistake but the shape."""
    if array.shape != expected.shape:
        return Misconception("wrong-shape", f"{what} returned shape {array.shape}, expected {expected.shape}")
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(array.astype(float) - expected)
    wrong = ~(gap <= atol)
    where = ""
    if steps_axis is not None:
        first = int(np.flatnonzero(np.moveaxis(wrong, steps_axis, 0).reshape(wrong.shape[steps_axis], -1).any(1))[0])
        where = (f", first at step {first} of {wrong.shape[steps_axis]} (axis {steps_axis})"
                 + ("; the steps before it are right" if first else ""))
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array)))
        return AssertionError(f"{what} returned inf or nan in {bad} of {array.size} values{where}")
    worst = float(np.max(gap))
    return AssertionError(f"{what} differs from the expected values by up to {worst:.3g} (tolerance {atol}) in "
                          f"{int(wrong.sum())} of {array.size} values{where}")
