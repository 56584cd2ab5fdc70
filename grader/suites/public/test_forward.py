"""Public checks for forward.py: shapes and self-consistency, no reference answers."""

import numpy as np
import pytest

from grader.core.errors import Misconception
from grader.grading.checks import as_array, close

N, T, D, H, V = 2, 5, 3, 4, 6


def weights(rng):
    return rng.normal(size=(D, H)), rng.normal(size=(H, H)) * 0.5, rng.normal(size=H)


@pytest.mark.points(1)
def test_rnn_step_shape_and_range(learner, rng):
    """rnn_step returns (N, H) values inside (-1, 1)."""
    W_xh, W_hh, b = weights(rng)
    h = as_array(learner.forward.rnn_step(rng.normal(size=(N, D)) * 10, rng.normal(size=(N, H)), W_xh, W_hh, b),
                 "rnn_step", shape=(N, H))
    if not np.all(np.abs(h) <= 1):
        raise Misconception("missing-tanh", "rnn_step returned values outside [-1, 1]: is tanh applied?")


@pytest.mark.points(1)
def test_rnn_step_uses_bias(learner, rng):
    """With zero input and zero state, rnn_step returns tanh(b)."""
    W_xh, W_hh, b = weights(rng)
    h = as_array(learner.forward.rnn_step(np.zeros((N, D)), np.zeros((N, H)), W_xh, W_hh, b), "rnn_step")
    if not close(h, np.tanh(np.broadcast_to(b, (N, H)))):
        raise Misconception("missing-bias", "rnn_step(0, 0, W_xh, W_hh, b) should be tanh(b)")


@pytest.mark.points(1)
def test_rnn_forward_shape(learner, rng):
    """rnn_forward returns (N, T, H) for x of shape (N, T, D)."""
    h = as_array(learner.forward.rnn_forward(rng.normal(size=(N, T, D)), *weights(rng)), "rnn_forward")
    if h.shape == (T, N, H):
        raise Misconception("time-batch-swapped", f"rnn_forward returned shape {h.shape}: time is axis 1")
    as_array(h, "rnn_forward", shape=(N, T, H))


@pytest.mark.points(2)
def test_rnn_forward_carries_state(learner, rng):
    """Each hidden state is rnn_step applied to the state before it (your own rnn_step)."""
    x, (W_xh, W_hh, b) = rng.normal(size=(N, T, D)), weights(rng)
    h = as_array(learner.forward.rnn_forward(x, W_xh, W_hh, b), "rnn_forward", shape=(N, T, H))
    for t in range(1, T):
        step = as_array(learner.forward.rnn_step(x[:, t], h[:, t - 1], W_xh, W_hh, b), "rnn_step")
        if not close(h[:, t], step):
            raise Misconception("state-not-carried", f"h[:, {t}] is not rnn_step(x[:, {t}], h[:, {t - 1}], ...)")


@pytest.mark.points(1)
def test_rnn_forward_uses_h0(learner, rng):
    """The first state is computed from h0 when h0 is given."""
    x, (W_xh, W_hh, b), h0 = rng.normal(size=(N, T, D)), weights(rng), rng.normal(size=(N, H))
    h = as_array(learner.forward.rnn_forward(x, W_xh, W_hh, b, h0=h0), "rnn_forward", shape=(N, T, H))
    first = as_array(learner.forward.rnn_step(x[:, 0], h0, W_xh, W_hh, b), "rnn_step")
    if not close(h[:, 0], first):
        raise Misconception("h0-ignored", "h[:, 0] is not rnn_step(x[:, 0], h0, ...) when h0 is given")


@pytest.mark.points(1)
def test_softmax_last_axis(learner, rng):
    """softmax keeps the shape and sums to 1 over the last axis."""
    p = as_array(learner.forward.softmax(rng.normal(size=(N, T, V))), "softmax", shape=(N, T, V))
    if not close(p.sum(-1), np.ones((N, T))):
        raise Misconception("softmax-wrong-axis", "softmax's output does not sum to 1 over the last axis")


@pytest.mark.points(1)
def test_softmax_large_logits(learner):
    """softmax stays finite for logits of 1000."""
    p = as_array(learner.forward.softmax(np.array([[1000.0, 999.0, 0.0]])), "softmax")
    if not np.all(np.isfinite(p)):
        raise Misconception("softmax-unstable", "softmax([[1000, 999, 0]]) returned inf or nan")


@pytest.mark.points(1)
def test_output_layer_probabilities(learner, rng):
    """output_layer returns (N, T, V) probabilities."""
    p = as_array(learner.forward.output_layer(rng.normal(size=(N, T, H)), rng.normal(size=(H, V)), rng.normal(size=V)),
                 "output_layer", shape=(N, T, V))
    if not (np.all(p >= 0) and close(p.sum(-1), np.ones((N, T)))):
        raise Misconception("softmax-wrong-axis", "output_layer's output is not probabilities over the last axis")
