"""Hidden checks for forward.py: equal to the reference and to Keras, with the mistake diagnosed."""

import numpy as np
import pytest

from grader.grading.checks import expect_close, expect_probabilities
from grader.suites.hidden import keras_reference
from solutions import forward as ref

SIZES = [(2, 5, 3, 4), (3, 1, 6, 2), (1, 7, 2, 5), (4, 4, 3, 3)]  # (N, T, D, H); N == T in the last
DTYPES = [np.float32, np.float64]


def random_weights(rng, D, H, dtype):
    return tuple(rng.normal(size=s).astype(dtype) for s in [(D, H), (H, H), (H,)])


def linear_forward(x, W_xh, W_hh, b, h0):
    """The recurrence without tanh: what `missing-tanh` computes."""
    h_t, states = h0, []
    for t in range(x.shape[1]):
        h_t = x[:, t] @ W_xh + h_t @ W_hh + b
        states.append(h_t)
    return np.stack(states, axis=1)


def forward_mistakes(x, W_xh, W_hh, b, h0=None):
    """What rnn_forward returns under each misconception, for these inputs."""
    N, T, _ = x.shape
    start = np.zeros((N, W_hh.shape[0]), dtype=x.dtype) if h0 is None else h0
    mistakes = {
        "transposed-weights": ref.rnn_forward(x, W_xh, W_hh.T, b, h0),
        "missing-bias": ref.rnn_forward(x, W_xh, W_hh, np.zeros_like(b), h0),
        "missing-tanh": linear_forward(x, W_xh, W_hh, b, start),
        "state-not-carried": np.stack([ref.rnn_step(x[:, t], start, W_xh, W_hh, b) for t in range(T)], axis=1),
        "h0-ignored": ref.rnn_forward(x, W_xh, W_hh, b) if h0 is not None else None,
    }
    if h0 is None:
        swapped = ref.rnn_forward(x.transpose(1, 0, 2), W_xh, W_hh, b)  # time read from axis 0
        mistakes["time-batch-swapped"] = [swapped, swapped.transpose(1, 0, 2)]
    return mistakes


@pytest.mark.hint(
    'rnn_step returns np.tanh(x_t @ W_xh + h_prev @ W_hh + b) for any sizes and dtypes, without changing its inputs.')
@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_rnn_step_matches_reference(learner, rng, dtype):
    """rnn_step equals the reference on random weights."""
    for N, _, D, H in SIZES:
        W_xh, W_hh, b = random_weights(rng, D, H, dtype)
        x_t, h_prev = rng.normal(size=(N, D)).astype(dtype), rng.normal(size=(N, H)).astype(dtype)
        expect_close(learner.forward.rnn_step(x_t, h_prev, W_xh, W_hh, b), ref.rnn_step(x_t, h_prev, W_xh, W_hh, b),
                     "rnn_step", diagnose={
                         "transposed-weights": ref.rnn_step(x_t, h_prev, W_xh, W_hh.T, b),
                         "missing-bias": ref.rnn_step(x_t, h_prev, W_xh, W_hh, 0 * b),
                         "missing-tanh": x_t @ W_xh + h_prev @ W_hh + b,
                     })


@pytest.mark.hint(
    'rnn_forward runs rnn_step for t = 0..T-1 on x[:, t], carrying h, and returns every h_t stacked as (N, T, H).')
@pytest.mark.points(3)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_rnn_forward_matches_reference(learner, rng, dtype):
    """rnn_forward equals the reference for several sizes (zero initial state)."""
    for N, T, D, H in SIZES:
        x, (W_xh, W_hh, b) = rng.normal(size=(N, T, D)).astype(dtype), random_weights(rng, D, H, dtype)
        expect_close(learner.forward.rnn_forward(x, W_xh, W_hh, b), ref.rnn_forward(x, W_xh, W_hh, b),
                     "rnn_forward", diagnose=forward_mistakes(x, W_xh, W_hh, b))


@pytest.mark.hint('rnn_forward starts from h0 when it is given (shape (N, H)); zeros only when h0 is None.')
@pytest.mark.points(1)
def test_rnn_forward_honours_h0(learner, rng):
    """rnn_forward starts from the given h0."""
    for N, T, D, H in SIZES:
        x, (W_xh, W_hh, b) = rng.normal(size=(N, T, D)), random_weights(rng, D, H, np.float64)
        h0 = rng.normal(size=(N, H))
        expect_close(learner.forward.rnn_forward(x, W_xh, W_hh, b, h0=h0), ref.rnn_forward(x, W_xh, W_hh, b, h0),
                     "rnn_forward with h0", diagnose=forward_mistakes(x, W_xh, W_hh, b, h0))


@pytest.mark.hint(
    "Keras's SimpleRNN keeps kernel (D, H), recurrent_kernel (H, H) and bias (H,): use them as x_t @ W_xh"
    " + h @ W_hh + b.")
@pytest.mark.points(2)
def test_rnn_forward_equals_keras(learner):
    """rnn_forward on a Keras SimpleRNN's own weights gives Keras's hidden states."""
    k = keras_reference.load()
    h = learner.forward.rnn_forward(k["x"], k["kernel"], k["recurrent_kernel"], k["bias"])
    expect_close(h, k["keras_h"], "rnn_forward on Keras weights",
                 diagnose=forward_mistakes(k["x"], k["kernel"], k["recurrent_kernel"], k["bias"]))


@pytest.mark.hint(
    "output_layer is softmax(h @ W_hy + b_y) over the last axis, with the Dense layer's kernel (H, V) and bias (V,).")
@pytest.mark.points(1)
def test_output_layer_equals_keras(learner):
    """output_layer on a Keras Dense layer's weights gives Keras's softmax probabilities."""
    k = keras_reference.load()
    p = learner.forward.output_layer(k["keras_h"], k["dense_kernel"], k["dense_bias"])
    expect_probabilities(p, k["keras_p"], "output_layer")


@pytest.mark.hint(
    'softmax subtracts the maximum of the last axis, exponentiates, and divides by the sum over the last axis.')
@pytest.mark.points(2)
def test_softmax_matches_reference(learner, rng):
    """softmax equals the reference over the last axis, also for logits near 1000."""
    z = rng.normal(size=(3, 4, 5)) * 3
    for logits in (z, z + 1000.0, np.array([[1000.0, -1000.0, 999.0], [0.0, 1.0, 2.0]])):
        expect_probabilities(learner.forward.softmax(logits), ref.softmax(logits), "softmax")
