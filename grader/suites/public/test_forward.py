"""Public checks for forward.py: shapes, self-consistency and worked examples, no reference answers.

A worked example is small enough to do on paper: its docstring derives the answer, written out here by
hand (tanh of whole numbers, fractions), and each mistake it names is worked out the same way, so a
failure names a mistake only when the output is what that mistake gives (grader/grading/diagnose.py).
The other checks compare rnn_forward with the learner's own rnn_step, so they hold no answers at all.
"""

import numpy as np
import pytest

from grader.core.errors import Misconception
from grader.grading.checks import as_array, close
from grader.grading.diagnose import Mistake, expect_match

N, T, D, H, V = 2, 5, 3, 4, 6


def weights(rng):
    return rng.normal(size=(D, H)), rng.normal(size=(H, H)) * 0.5, rng.normal(size=H)


def own_step(learner, W_xh, W_hh, b):
    """The learner's rnn_step with these weights, as a function of (x_t, h_prev)."""
    def step(x_t, h_prev):
        return as_array(learner.forward.rnn_step(x_t, h_prev, W_xh, W_hh, b), "rnn_step", shape=(len(x_t), H))
    return step


def unrolled(step, x, start):
    """The states rnn_forward should return if `step` is its rnn_step: each one fed into the next step."""
    states = [start]
    for x_t in np.moveaxis(x, 1, 0):
        states.append(step(x_t, states[-1]))
    return np.stack(states[1:], axis=1)


@pytest.mark.points(1)
def test_rnn_step_shape_and_range(learner, rng):
    """rnn_step returns (N, H) values inside [-1, 1], where tanh keeps them."""
    W_xh, W_hh, b = weights(rng)
    h = as_array(learner.forward.rnn_step(rng.normal(size=(N, D)) * 10, rng.normal(size=(N, H)), W_xh, W_hh, b),
                 "rnn_step", shape=(N, H))
    outside = ~(np.abs(h) <= 1)
    if outside.any():  # no tanh, ReLU, b outside the tanh: the worked example tells them apart
        raise AssertionError(f"rnn_step returned {outside.sum()} of {h.size} values outside [-1, 1]: tanh keeps "
                             "every value inside")


@pytest.mark.points(1)
def test_rnn_step_worked_example(learner):
    """rnn_step on an example worked by hand (N = 2, D = 1, H = 2) returns tanh([[2, -1], [1, -1]]).

    x_t = [[1], [0]], h_prev = [[1, 0], [0, 0]], W_xh = [[1, -2]], W_hh = [[0, 2], [1, 0]], b = [1, -1].
    Row 0: x_t W_xh = 1 * [1, -2] = [1, -2]; h_prev W_hh = [1, 0] W_hh = W_hh's first row = [0, 2];
    plus b: z = [1 + 0 + 1, -2 + 2 - 1] = [2, -1]. Row 1: zero input and state leave z = b = [1, -1].
    """
    z = np.array([[2.0, -1.0], [1.0, -1.0]])
    h = learner.forward.rnn_step(np.array([[1.0], [0.0]]), np.array([[1.0, 0.0], [0.0, 0.0]]),
                                 np.array([[1.0, -2.0]]), np.array([[0.0, 2.0], [1.0, 0.0]]), np.array([1.0, -1.0]))
    expect_match(h, np.tanh(z), "rnn_step", [
        # h_prev W_hh^T = [1, 0] W_hh^T = W_hh's first column = [0, 1]: row 0's z is [1 + 0 + 1, -2 + 1 - 1]
        Mistake("transposed-weights", "multiplies h_prev by W_hh transposed", np.tanh([[2.0, -2.0], [1.0, -1.0]])),
        # without h_prev W_hh, row 0's z is [1 + 1, -2 - 1]
        Mistake(None, "leaves out h_prev W_hh: the state before does not reach this step",
                np.tanh([[2.0, -3.0], [1.0, -1.0]])),
        # z without b is [[1, 0], [0, 0]]
        Mistake("missing-bias", "leaves out the bias b", np.tanh([[1.0, 0.0], [0.0, 0.0]])),
        Mistake("bias-outside-tanh", "adds b after the tanh instead of inside it",
                np.tanh([[1.0, 0.0], [0.0, 0.0]]) + [1.0, -1.0]),
        Mistake("missing-tanh", "returns z = x_t W_xh + h_prev W_hh + b itself, without tanh", z),
        Mistake("wrong-activation", "applies sigmoid 1 / (1 + exp(-z)), not tanh", 1 / (1 + np.exp(-z))),
        Mistake("wrong-activation", "applies ReLU max(z, 0), not tanh", np.maximum(z, 0.0)),
    ])


@pytest.mark.points(1)
def test_rnn_forward_shape(learner, rng):
    """rnn_forward returns (N, T, H) for x of shape (N, T, D)."""
    h = as_array(learner.forward.rnn_forward(rng.normal(size=(N, T, D)), *weights(rng)), "rnn_forward")
    if h.shape == (T, N, H):
        raise Misconception("time-batch-swapped", f"rnn_forward returned shape {h.shape}: time is axis 1")
    as_array(h, "rnn_forward", shape=(N, T, H))


@pytest.mark.points(2)
def test_rnn_forward_carries_state(learner, rng):
    """rnn_forward is your rnn_step unrolled from zeros: h[:, t] = rnn_step(x[:, t], h[:, t - 1], ...)."""
    x, W = rng.normal(size=(N, T, D)), weights(rng)
    h = learner.forward.rnn_forward(x, *W)
    step, zeros = own_step(learner, *W), np.zeros((N, H))
    right = unrolled(step, x, zeros)
    expect_match(h, right, "rnn_forward", steps_axis=1, mistakes=[
        Mistake("state-not-carried", "starts every step from the zero state, not from the state before",
                lambda: np.stack([step(x[:, t], zeros) for t in range(T)], axis=1)),
        Mistake("state-aliased", "returns the last state at every step: one array, changed in place, stored T "
                "times (store a new array, or a copy, at each step)", np.repeat(right[:, -1:], T, axis=1)),
        Mistake("states-shifted", "stores each state before its step: h[:, t] is the state before x[:, t], "
                "not after it", np.concatenate([zeros[:, None], right[:, :-1]], axis=1)),
        Mistake("time-batch-swapped", "steps through axis 0 of x (x[t]): time is axis 1",
                lambda: unrolled(step, np.swapaxes(x, 0, 1), np.zeros((T, H)))),
    ])


@pytest.mark.points(1)
def test_rnn_forward_uses_h0(learner, rng):
    """With h0 given, the first state h[:, 0] is your rnn_step(x[:, 0], h0, ...)."""
    x, W, h0 = rng.normal(size=(N, T, D)), weights(rng), rng.normal(size=(N, H))
    h = as_array(learner.forward.rnn_forward(x, *W, h0=h0), "rnn_forward", shape=(N, T, H))
    step = own_step(learner, *W)
    expect_match(h[:, 0], step(x[:, 0], h0), "rnn_forward with h0", [
        Mistake("h0-ignored", "starts from zeros, not from h0", lambda: step(x[:, 0], np.zeros((N, H)))),
        Mistake("h0-broadcast", "starts every sequence from h0[0], the first row of h0, not from its own row",
                lambda: step(x[:, 0], np.broadcast_to(h0[0], (N, H)))),
        Mistake("states-shifted", "returns h0 as h[:, 0]: each state is stored before its step", h0),
        Mistake("state-aliased", "returns the last state as h[:, 0]: one array, changed in place, stored T times",
                lambda: unrolled(step, x, h0)[:, -1]),
    ])


@pytest.mark.points(1)
def test_softmax_last_axis(learner, rng):
    """softmax keeps the shape and gives positive values that sum to 1 over the last axis."""
    p = as_array(learner.forward.softmax(rng.normal(size=(N, T, V))), "softmax", shape=(N, T, V))
    if close(p.sum(-1), np.ones((N, T))) and np.all(p >= 0):
        return
    if not np.all(np.isfinite(p)):
        raise AssertionError(f"softmax returned inf or nan in {np.sum(~np.isfinite(p))} of {p.size} values")
    over = [axis for axis in (0, 1) if close(p.sum(axis), np.ones(np.delete(p.shape, axis)))]
    if over or close(p.sum(), 1.0):  # normalised, only not over the last axis
        where = f"axis {over[0]}" if over else "the whole array at once"
        raise Misconception("softmax-wrong-axis", f"softmax's output sums to 1 over {where}, not over the last axis")
    if close(p.sum(-1), np.ones((N, T))):
        raise AssertionError("softmax returned negative values: exp makes every value positive")
    raise AssertionError(f"softmax's output sums to between {p.sum(-1).min():.3g} and {p.sum(-1).max():.3g} "
                         "over the last axis, not to 1")


@pytest.mark.points(1)
def test_softmax_large_logits(learner):
    """softmax([[1000, 1000], [0, ln 3]]) is [[1/2, 1/2], [1/4, 3/4]], with no overflow.

    exp(1000) overflows to inf, so first subtract each row's maximum: [[0, 0], [-ln 3, 0]]. Their exponentials
    are [[1, 1], [1/3, 1]]; divided by the row sums 2 and 4/3 they give [[1/2, 1/2], [1/4, 3/4]].
    """
    z = np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]])
    expect_match(learner.forward.softmax(z), [[0.5, 0.5], [0.25, 0.75]], "softmax", [
        # exp(z) unshifted: row 0 is inf / inf; row 1 is [1, 3] / 4
        Mistake("softmax-unstable", "overflows: exp(1000) is inf and inf / inf is nan (subtract each row's "
                "maximum before np.exp)", [[np.nan, np.nan], [0.25, 0.75]]),
        # z minus the whole array's maximum 1000: row 1 is exp(-1000) = 0, and 0 / 0 is nan
        Mistake("softmax-unstable", "subtracts the maximum of the whole array, not of each row: row 1 "
                "underflows to 0 / 0", [[0.5, 0.5], [np.nan, np.nan]]),
        # each row shifted by its maximum gives [[1, 1], [1/3, 1]]; divided by the column sums [4/3, 2]
        Mistake("softmax-wrong-axis", "normalises over axis 0, not the last axis", [[0.75, 0.5], [0.25, 0.5]]),
        # shifted by the columns' maxima (1000 each): [[1, 1], [0, 0]], already summing to 1 down each column
        Mistake("softmax-wrong-axis", "normalises over axis 0, not the last axis", [[1.0, 1.0], [0.0, 0.0]]),
        # [[1, 1], [0, 0]] divided by its total 2
        Mistake("softmax-wrong-axis", "normalises over the whole array, not the last axis", [[0.5, 0.5], [0.0, 0.0]]),
    ])


@pytest.mark.points(1)
def test_output_layer_worked_example(learner):
    """output_layer on an example worked by hand gives [[[2/5, 2/5, 1/5], [1/5, 2/5, 2/5]]].

    N = 1, T = 2, H = 2, V = 3: h = [[[1, 0], [0, 1]]], W_hy = [[ln 2, 0, 0], [0, 0, ln 2]], b_y = [0, ln 2, 0].
    At t = 0, h = [1, 0] picks W_hy's first row; plus b_y the logits are z = [ln 2, ln 2, 0], so exp(z) =
    [2, 2, 1], and divided by their sum 5: [2/5, 2/5, 1/5]. At t = 1, h = [0, 1] picks [0, 0, ln 2]; plus b_y,
    z = [0, ln 2, ln 2] and exp(z) = [1, 2, 2].
    """
    ln2 = np.log(2.0)
    p = learner.forward.output_layer(np.array([[[1.0, 0.0], [0.0, 1.0]]]), np.array([[ln2, 0.0, 0.0], [0.0, 0.0, ln2]]),
                                     np.array([0.0, ln2, 0.0]))
    expect_match(p, [[[0.4, 0.4, 0.2], [0.2, 0.4, 0.4]]], "output_layer", [
        # without b_y, z = [ln 2, 0, 0] and [0, 0, ln 2]: exp(z) = [2, 1, 1] and [1, 1, 2], each summing to 4
        Mistake("output-no-bias", "leaves out the bias b_y", [[[0.5, 0.25, 0.25], [0.25, 0.25, 0.5]]]),
        # exp(z) = [[2, 2, 1], [1, 2, 2]] divided by its column sums [3, 4, 3]
        Mistake("softmax-wrong-axis", "normalises over axis 1 (time), not the last axis",
                [[[2 / 3, 0.5, 1 / 3], [1 / 3, 0.5, 2 / 3]]]),
        Mistake("softmax-wrong-axis", "normalises over axis 0 (the batch), not the last axis", np.ones((1, 2, 3))),
        Mistake("softmax-wrong-axis", "normalises over the whole array, not the last axis",  # exp(z) sums to 10
                [[[0.2, 0.2, 0.1], [0.1, 0.2, 0.2]]]),
        Mistake(None, "returns the logits h @ W_hy + b_y: softmax is not applied",
                [[[ln2, ln2, 0.0], [0.0, ln2, ln2]]]),
    ])
