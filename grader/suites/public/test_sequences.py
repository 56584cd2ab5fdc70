"""Public checks for sequences.py: small batches whose right answers are worked out by hand, no reference.

Most checks use one batch, x = np.arange(24).reshape(2, 3, 4): N = 2 samples, T = 3 steps, F = 4 features,
and x[n, t, f] = 12 n + 4 t + f. The three sizes differ, so the shape of a wrong answer already says which
axis was taken. A failure names a mistake only when the output is what that mistake gives on the same input
(grader/grading/diagnose.py); each mistake's value is that mistake's own computation, never the right answer.
"""


import numpy as np
import pytest

from grader.grading.checks import expect_value_error
from grader.grading.diagnose import Mistake, expect_match
from grader.suites.public.sequences_checks import expect_windows

X = np.arange(24).reshape(2, 3, 4)  # x[n, t, f] = 12 n + 4 t + f
# X in time-major order, z[t, n, f] = x[n, t, f]: row t holds step t of sample 0 (4 t ..) and of sample 1 (12 + 4 t ..)
Z = np.array([[[0, 1, 2, 3], [12, 13, 14, 15]],
              [[4, 5, 6, 7], [16, 17, 18, 19]],
              [[8, 9, 10, 11], [20, 21, 22, 23]]])


@pytest.mark.points(1)
def test_timestep_by_hand(learner):
    """timestep(x, 1) is step 1 of both samples: [[4, 5, 6, 7], [16, 17, 18, 19]] (x[n, 1, f] = 12 n + 4 + f)."""
    expect_match(learner.sequences.timestep(X, 1), [[4, 5, 6, 7], [16, 17, 18, 19]], "timestep(x, 1)", [
        Mistake("axis-confusion", "returns x[1], the whole of sample 1 (axis 0 is the batch, not time)", X[1]),
        Mistake("axis-confusion", "returns x[:, :, 1], feature 1 of every step (axis 2 is the features)", X[:, :, 1]),
    ], atol=0)


@pytest.mark.points(1)
def test_timestep_counts_back_from_the_end(learner):
    """timestep(x, -1) is the last step (t = 2) of both samples: [[8, 9, 10, 11], [20, 21, 22, 23]]."""
    expect_match(learner.sequences.timestep(X, -1), [[8, 9, 10, 11], [20, 21, 22, 23]], "timestep(x, -1)", [
        Mistake("axis-confusion", "returns x[-1], the whole of the last sample (axis 0 is the batch, not time)",
                X[-1]),
        Mistake("axis-confusion", "returns x[:, :, -1], the last feature of every step (axis 2 is the features)",
                X[:, :, -1]),
    ], atol=0)


@pytest.mark.points(1)
def test_feature_over_time_by_hand(learner):
    """feature_over_time(x, 1, 0) is feature 0 of sample 1 at steps 0, 1, 2: 12 + 4 t = [12, 16, 20]."""
    expect_match(learner.sequences.feature_over_time(X, 1, 0), [12, 16, 20], "feature_over_time(x, 1, 0)", [
        Mistake("axis-confusion", "returns x[:, 1, 0], feature 0 of step 1 in every sample (time is axis 1, "
                "the samples axis 0)", X[:, 1, 0]),
        Mistake("axis-confusion", "returns x[0, :, 1]: n indexes axis 0 (samples) and f axis 2 (features), not "
                "the other way round", X[0, :, 1]),
        Mistake("axis-confusion", "returns x[1, 0], every feature of step 0 (f indexes axis 2, not axis 1)",
                X[1, 0]),
    ], atol=0)


@pytest.mark.points(1)
def test_to_time_major_by_hand(learner):
    """to_time_major(x) has shape (3, 2, 4): row t holds step t of sample 0 and then of sample 1."""
    expect_match(learner.sequences.to_time_major(X), Z, "to_time_major(x)", [
        Mistake("transpose-all-axes", "returns x.T, all three axes reversed: (F, T, N) = (4, 3, 2)", X.T),
        Mistake("reshape-not-transpose", "returns x.reshape(3, 2, 4): the right shape, but its first row is "
                "[[0, 1, 2, 3], [4, 5, 6, 7]], steps 0 and 1 of sample 0, not step 0 of both samples",
                X.reshape(3, 2, 4)),
        Mistake(None, "returns x in its own order (2, 3, 4): swap axes 0 and 1", X),
    ], atol=0)


@pytest.mark.points(1)
def test_to_batch_major_by_hand(learner):
    """to_batch_major of x in time-major order is x again: z[t, n, f] goes back to x[n, t, f]."""
    expect_match(learner.sequences.to_batch_major(Z), X, "to_batch_major(z)", [
        Mistake("transpose-all-axes", "returns z.T, all three axes reversed: (F, N, T) = (4, 2, 3)", Z.T),
        Mistake("reshape-not-transpose", "returns z.reshape(2, 3, 4): the right shape, but sample 0's step 1 is "
                "[12, 13, 14, 15], step 0 of sample 1", Z.reshape(2, 3, 4)),
        Mistake(None, "returns z in its own order (3, 2, 4): swap axes 0 and 1", Z),
    ], atol=0)


@pytest.mark.points(2)
def test_make_windows_1d_by_hand(learner):
    """make_windows(series, 2) on series = [10, 11, ..., 16] (L = 7) gives L - T = 5 windows of one feature:
    x = [[10, 11], [11, 12], [12, 13], [13, 14], [14, 15]], each as a column (5, 2, 1), and y = their next
    values [12, 13, 14, 15, 16] as (5, 1): neighbours share T - 1 = 1 step, and the last target is the last value.
    """
    series = np.arange(10, 17)
    starts = np.arange(5)
    x = np.array([[10, 11], [11, 12], [12, 13], [13, 14], [14, 15]])[..., None]
    y = np.array([[12], [13], [14], [15], [16]])
    expect_windows(learner.sequences.make_windows(series, 2), (x, y), "make_windows([10, ..., 16], 2)", [
        ("window-off-by-one", "takes each window's own last value as its target", (x, y - 1)),
        ("window-off-by-one", "makes one window too many, [15, 16], and takes each window's own last value as "
         "its target", (np.concatenate([x, [[[15], [16]]]]), np.arange(11, 17)[:, None])),
        ("windows-not-overlapping", "starts a window every T = 2 steps (at 0, 2, 4), not at every step",
         (x[::2], y[::2])),
        ("last-window-missing", "leaves out the last window, [14, 15] -> 16", (x[:-1], y[:-1])),
        ("series-1d-not-features", "gives x shape (5, 2) and y shape (5,): a 1-D series needs its feature axis",
         (x[..., 0], y[..., 0])),
        (None, "returns as targets the windows shifted one step, series[i + 1 : i + 3]: a window's target is the "
         "one step after it", (x, series[starts[:, None] + [1, 2]][..., None])),
    ])


@pytest.mark.points(1)
def test_make_windows_features_by_hand(learner):
    """make_windows(series, 3) on 6 steps of 2 features, series[i] = [2 i, 2 i + 1], gives 6 - 3 = 3 windows
    (3, 3, 2) of 3 whole steps each, and as targets the steps after them, [[6, 7], [8, 9], [10, 11]] (3, 2)."""
    series = np.arange(12).reshape(6, 2)
    x = np.array([[[0, 1], [2, 3], [4, 5]], [[2, 3], [4, 5], [6, 7]], [[4, 5], [6, 7], [8, 9]]])
    y = np.array([[6, 7], [8, 9], [10, 11]])
    flat = np.arange(12)
    expect_windows(learner.sequences.make_windows(series, 3), (x, y), "make_windows(series of shape (6, 2), 3)", [
        ("window-off-by-one", "takes each window's own last step as its target", (x, x[:, -1])),
        ("window-off-by-one", "makes one window too many, steps 3 to 5, and takes each window's own last step as "
         "its target", (np.concatenate([x, [series[3:]]]), series[2:])),
        ("windows-not-overlapping", "starts a window every T = 3 steps, not at every step", (x[:1], y[:1])),
        ("last-window-missing", "leaves out the last window", (x[:-1], y[:-1])),
        (None, "reads the (6, 2) series as 12 steps of one feature: a step's F values belong together",
         (np.stack([flat[i : i + 3] for i in range(9)])[..., None], flat[3:, None])),
    ])


@pytest.mark.points(1)
def test_make_windows_refuses_too_short_a_series(learner):
    """make_windows raises ValueError when no window has a next step: T = L, T > L, or T = 0."""
    series = np.arange(3.0)
    for T in (3, 5, 0):
        expect_value_error(lambda T=T: learner.sequences.make_windows(series, T), f"make_windows([0, 1, 2], {T})",
                           "windows-no-error")
