"""Hidden checks for sequences.py: agreement with the reference on random shapes the learner never saw.

A failure names a mistake only when the learner's output is what that mistake computes on the same input
(grader/grading/diagnose.py); a candidate whose index does not exist for these sizes is left out, since the
learner's code would have raised there instead.
"""

import numpy as np
import pytest

from grader.core.errors import Misconception
from grader.grading.checks import expect_value_error
from grader.grading.diagnose import Mistake, expect_match
from grader.suites.public.sequences_checks import expect_windows
from solutions import sequences as ref

SHAPES = [(2, 5, 3), (4, 1, 2), (3, 3, 3), (1, 6, 4), (5, 2, 1)]  # (N, T, F): N == T == F once, T == 1 once


def batch(rng, shape):
    return rng.normal(size=shape)


@pytest.mark.hint("timestep returns x[:, t], shape (N, F), for any (N, T, F) batch and any t from -T to T - 1.")
@pytest.mark.points(2)
def test_timestep_matches_reference(learner, rng):
    """timestep equals the reference on random batches, for positive and negative t."""
    for N, T, F in SHAPES:
        x = batch(rng, (N, T, F))
        for t in {0, T - 1, -1, int(rng.integers(-T, T))}:
            mistakes = [Mistake("axis-confusion", "indexes axis 0 (the samples)", x[t]) if -N <= t < N else None,
                        Mistake("axis-confusion", "indexes axis 2 (the features)", x[:, :, t]) if -F <= t < F else None]
            expect_match(learner.sequences.timestep(x, t), ref.timestep(x, t), "timestep",
                         [m for m in mistakes if m is not None])


@pytest.mark.hint("feature_over_time returns x[n, :, f], shape (T,), for any (N, T, F) batch.")
@pytest.mark.points(1)
def test_feature_over_time_matches_reference(learner, rng):
    """feature_over_time equals the reference on random batches."""
    for N, T, F in SHAPES:
        x = batch(rng, (N, T, F))
        n, f = int(rng.integers(N)), int(rng.integers(F))
        mistakes = [Mistake("axis-confusion", "reads time from axis 0", x[:, n, f]) if n < T else None,
                    Mistake("axis-confusion", "swaps n and f", x[f, :, n]) if f < N and n < F else None,
                    Mistake("axis-confusion", "indexes time with f", x[n, f]) if f < T else None]
        expect_match(learner.sequences.feature_over_time(x, n, f), ref.feature_over_time(x, n, f),
                     "feature_over_time", [m for m in mistakes if m is not None])


def reordering_mistakes(x):
    """What swapping axes 0 and 1 of `x` gives under each mistake: every axis reversed, a reshape, no change."""
    first, second, rest = x.shape
    return [Mistake("transpose-all-axes", "reverses all three axes", x.T),
            Mistake("reshape-not-transpose", "reshapes instead of moving axes", x.reshape(second, first, rest)),
            Mistake(None, "returns its input's order", x)]


@pytest.mark.hint("to_time_major returns z with z[t, n, f] == x[n, t, f], shape (T, N, F): swap axes 0 and 1 only.")
@pytest.mark.points(1)
def test_to_time_major_matches_reference(learner, rng):
    """to_time_major equals the reference on random batches."""
    for shape in SHAPES:
        x = batch(rng, shape)
        expect_match(learner.sequences.to_time_major(x), ref.to_time_major(x), "to_time_major",
                     reordering_mistakes(x))


@pytest.mark.hint("to_batch_major returns x with x[n, t, f] == z[t, n, f], shape (N, T, F): swap axes 0 and 1 only.")
@pytest.mark.points(1)
def test_to_batch_major_matches_reference(learner, rng):
    """to_batch_major equals the reference on random time-major batches."""
    for N, T, F in SHAPES:
        z = batch(rng, (T, N, F))
        expect_match(learner.sequences.to_batch_major(z), ref.to_batch_major(z), "to_batch_major",
                     reordering_mistakes(z))


def window_mistakes(series, T):
    """What make_windows(series, T) returns under each mistake, as (id, what it does, (x, y))."""
    steps = series[:, None] if series.ndim == 1 else series
    L = len(steps)
    right_x, right_y = ref.make_windows(series, T)
    inside = np.stack([steps[i : i + T] for i in range(L - T + 1)])
    mistakes = [
        ("window-off-by-one", "targets each window's own last step", (right_x, steps[T - 1 : -1])),
        ("window-off-by-one", "adds a window and targets each window's own last step", (inside, steps[T - 1 :])),
        ("windows-not-overlapping", "starts windows T steps apart", (right_x[::T], right_y[::T])),
        ("last-window-missing", "leaves out the last window", (right_x[:-1], right_y[:-1])),
    ]
    if series.ndim == 1:
        mistakes.append(("series-1d-not-features", "gives a 1-D series no feature axis",
                         (right_x[..., 0], right_y[..., 0])))
    return mistakes


SERIES = [(9,), (7, 3), (2,), (5, 1), (12, 2)]  # (L,) or (L, F)


@pytest.mark.hint("make_windows returns x[i] = series[i : i + T] for i in range(L - T), shape (L - T, T, F), and "
                  "y[i] = series[i + T], shape (L - T, F), with F = 1 for a 1-D series.")
@pytest.mark.points(3)
def test_make_windows_matches_reference(learner, rng):
    """make_windows equals the reference on random series, 1-D and multi-feature, for T from 1 to L - 1."""
    failures = []
    for shape in SERIES:
        series = rng.normal(size=shape)
        L = shape[0]
        for T in {1, L - 1, int(rng.integers(1, L))}:
            try:
                expect_windows(learner.sequences.make_windows(series, T), ref.make_windows(series, T),
                               "make_windows", window_mistakes(series, T), atol=1e-6)
            except AssertionError as failure:
                failures.append(failure)
    # Some sizes cannot tell two mistakes apart (starting windows T = 2 steps apart in a series of 4 leaves out
    # the last window too), so a mistake that one size identifies is named, as long as no size names another.
    named = {failure.id: failure for failure in failures if isinstance(failure, Misconception)
             and failure.id != "wrong-shape"}
    if failures:
        raise next(iter(named.values())) if len(named) == 1 else failures[0]


@pytest.mark.hint("make_windows raises ValueError whenever T < 1 or T >= len(series), for 1-D and multi-feature "
                  "series.")
@pytest.mark.points(1)
def test_make_windows_refuses_what_has_no_window(learner, rng):
    """make_windows raises ValueError for T = L, T > L and T < 1."""
    for shape in [(4, 2), (6,)]:
        series = rng.normal(size=shape)
        L = shape[0]
        for T in (L, L + int(rng.integers(1, 5)), 0, -int(rng.integers(1, 3))):
            expect_value_error(lambda series=series, T=T: learner.sequences.make_windows(series, T), "make_windows",
                               "windows-no-error")
