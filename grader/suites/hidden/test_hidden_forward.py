"""Hidden checks for forward.py: equal to the reference and to Keras, with the mistake diagnosed.

A failure names a mistake only when the learner's output equals what that mistake computes on the same
inputs (grader/grading/diagnose.py): the candidates below are the reference with one thing changed.
"""

import numpy as np
import pytest

from grader.grading.diagnose import Mistake, expect_match
from grader.suites.hidden import keras_reference
from solutions import forward as ref

SIZES = [(2, 5, 3, 4), (3, 1, 6, 2), (1, 7, 2, 5), (4, 4, 3, 3)]  # (N, T, D, H); N == T in the last
DTYPES = [np.float32, np.float64]


def random_weights(rng, D, H, dtype):
    return tuple(rng.normal(size=s).astype(dtype) for s in [(D, H), (H, H), (H,)])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def relu(z):
    return np.maximum(z, 0)


def step_with(activation=np.tanh, recurrent=lambda W_hh: W_hh, bias="inside"):
    """rnn_step with one thing changed: the activation, what h_prev is multiplied by (`recurrent` of W_hh), b
    left out (None) or added outside."""
    def step(x_t, h_prev, W_xh, W_hh, b):
        z = x_t @ W_xh + h_prev @ recurrent(W_hh) + (b if bias == "inside" else 0)
        return activation(z) + (b if bias == "outside" else 0)
    return step


STEP_MISTAKES = [  # (id, what the step does, the step); None: recognised, but no misconception of its own
    ("transposed-weights", "multiplies h_prev by W_hh.T", step_with(recurrent=np.transpose)),
    # unrolled from zeros it equals state-not-carried: with both matching, neither is named
    (None, "leaves out h_prev W_hh", step_with(recurrent=np.zeros_like)),
    ("missing-bias", "leaves out b", step_with(bias=None)),
    ("bias-outside-tanh", "adds b after the tanh", step_with(bias="outside")),
    ("missing-tanh", "applies no activation", step_with(activation=lambda z: z)),
    ("wrong-activation", "applies sigmoid, not tanh", step_with(activation=sigmoid)),
    ("wrong-activation", "applies ReLU, not tanh", step_with(activation=relu)),
]


def step_mistakes(x_t, h_prev, W_xh, W_hh, b):
    """What rnn_step returns under each misconception, for these inputs."""
    return [Mistake(id_, does, step(x_t, h_prev, W_xh, W_hh, b)) for id_, does, step in STEP_MISTAKES]


def unroll(step, x, start, W_xh, W_hh, b):
    """rnn_forward with `step` for rnn_step: each state fed into the next step."""
    states = [start]
    for x_t in np.moveaxis(x, 1, 0):
        states.append(step(x_t, states[-1], W_xh, W_hh, b))
    return np.stack(states[1:], axis=1)


def forward_mistakes(x, W_xh, W_hh, b, h0=None):
    """What rnn_forward returns under each misconception, for these inputs: each wrong step unrolled, and
    each way of mishandling the state."""
    N, T, _ = x.shape
    start = np.zeros((N, W_hh.shape[0]), dtype=x.dtype) if h0 is None else h0
    right = ref.rnn_forward(x, W_xh, W_hh, b, h0)
    mistakes = [Mistake(id_, does, unroll(step, x, start, W_xh, W_hh, b)) for id_, does, step in STEP_MISTAKES]
    mistakes += [
        Mistake("state-not-carried", "starts every step from the initial state",
                np.stack([ref.rnn_step(x_t, start, W_xh, W_hh, b) for x_t in np.moveaxis(x, 1, 0)], axis=1)),
        Mistake("state-aliased", "returns the last state at every step", np.repeat(right[:, -1:], T, axis=1)),
        Mistake("states-shifted", "stores each state before its step",
                np.concatenate([start[:, None], right[:, :-1]], axis=1)),
    ]
    if h0 is None:
        swapped = ref.rnn_forward(np.swapaxes(x, 0, 1), W_xh, W_hh, b)  # time read from axis 0
        return mistakes + [Mistake("time-batch-swapped", "steps through axis 0", swapped),
                           Mistake("time-batch-swapped", "steps through axis 0, swapped back", swapped.swapaxes(0, 1))]
    return mistakes + [
        Mistake("h0-ignored", "starts from zeros, not h0", ref.rnn_forward(x, W_xh, W_hh, b)),
        Mistake("h0-broadcast", "starts every sequence from h0[0]",
                ref.rnn_forward(x, W_xh, W_hh, b, np.broadcast_to(h0[0], h0.shape))),
    ]


def softmax_mistakes(z):
    """What softmax returns under each misconception, for logits z: no shift or the whole array's maximum
    (unstable), and normalised over another axis or the whole array."""
    mistakes = []
    with np.errstate(all="ignore"):
        for shift, does in [(0, "exponentiates without a shift"), (z.max(), "subtracts the whole array's maximum")]:
            e = np.exp(z - shift)
            mistakes.append(Mistake("softmax-unstable", does, e / e.sum(axis=-1, keepdims=True)))
        e = np.exp(z - z.max())
        mistakes.append(Mistake("softmax-wrong-axis", "normalises over the whole array", e / e.sum()))
        for axis in range(z.ndim - 1):
            for shift in (z.max(axis=-1, keepdims=True), z.max(axis=axis, keepdims=True)):
                e = np.exp(z - shift)
                mistakes.append(Mistake("softmax-wrong-axis", f"normalises over axis {axis}",
                                        e / e.sum(axis=axis, keepdims=True)))
    return mistakes


def output_mistakes(h, W_hy, b_y):
    """What output_layer returns under each misconception: b_y left out, the logits themselves, a wrong softmax."""
    logits = h @ W_hy + b_y
    return [Mistake("output-no-bias", "leaves out b_y", ref.softmax(h @ W_hy)),
            Mistake(None, "returns the logits, without softmax", logits), *softmax_mistakes(logits)]


@pytest.mark.hint(
    'rnn_step returns np.tanh(x_t @ W_xh + h_prev @ W_hh + b) for any sizes and dtypes, without changing its inputs.')
@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_rnn_step_matches_reference(learner, rng, dtype):
    """rnn_step equals the reference on random weights."""
    for N, _, D, H in SIZES:
        W_xh, W_hh, b = random_weights(rng, D, H, dtype)
        x_t, h_prev = rng.normal(size=(N, D)).astype(dtype), rng.normal(size=(N, H)).astype(dtype)
        expect_match(learner.forward.rnn_step(x_t, h_prev, W_xh, W_hh, b), ref.rnn_step(x_t, h_prev, W_xh, W_hh, b),
                     "rnn_step", step_mistakes(x_t, h_prev, W_xh, W_hh, b))


@pytest.mark.hint(
    'rnn_forward runs rnn_step for t = 0..T-1 on x[:, t], carrying h, and returns every h_t stacked as (N, T, H).')
@pytest.mark.points(3)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_rnn_forward_matches_reference(learner, rng, dtype):
    """rnn_forward equals the reference for several sizes (zero initial state)."""
    for N, T, D, H in SIZES:
        x, (W_xh, W_hh, b) = rng.normal(size=(N, T, D)).astype(dtype), random_weights(rng, D, H, dtype)
        expect_match(learner.forward.rnn_forward(x, W_xh, W_hh, b), ref.rnn_forward(x, W_xh, W_hh, b),
                     "rnn_forward", forward_mistakes(x, W_xh, W_hh, b), steps_axis=1)


@pytest.mark.hint('rnn_forward starts from h0 when it is given (shape (N, H)); zeros only when h0 is None.')
@pytest.mark.points(1)
def test_rnn_forward_honours_h0(learner, rng):
    """rnn_forward starts from the given h0."""
    for N, T, D, H in SIZES:
        x, (W_xh, W_hh, b) = rng.normal(size=(N, T, D)), random_weights(rng, D, H, np.float64)
        h0 = rng.normal(size=(N, H))
        expect_match(learner.forward.rnn_forward(x, W_xh, W_hh, b, h0=h0), ref.rnn_forward(x, W_xh, W_hh, b, h0),
                     "rnn_forward with h0", forward_mistakes(x, W_xh, W_hh, b, h0), steps_axis=1)


@pytest.mark.hint(
    "Keras's SimpleRNN keeps kernel (D, H), recurrent_kernel (H, H) and bias (H,): use them as x_t @ W_xh"
    " + h @ W_hh + b.")
@pytest.mark.points(2)
def test_rnn_forward_equals_keras(learner):
    """rnn_forward on a Keras SimpleRNN's own weights gives Keras's hidden states."""
    k = keras_reference.load()
    h = learner.forward.rnn_forward(k["x"], k["kernel"], k["recurrent_kernel"], k["bias"])
    expect_match(h, k["keras_h"], "rnn_forward on Keras weights",
                 forward_mistakes(k["x"], k["kernel"], k["recurrent_kernel"], k["bias"]), steps_axis=1)


@pytest.mark.hint(
    "output_layer is softmax(h @ W_hy + b_y) over the last axis, with the Dense layer's kernel (H, V) and bias (V,).")
@pytest.mark.points(1)
def test_output_layer_equals_keras(learner):
    """output_layer on a Keras Dense layer's weights gives Keras's softmax probabilities."""
    k = keras_reference.load()
    p = learner.forward.output_layer(k["keras_h"], k["dense_kernel"], k["dense_bias"])
    expect_match(p, k["keras_p"], "output_layer", output_mistakes(k["keras_h"], k["dense_kernel"], k["dense_bias"]))


@pytest.mark.hint(
    'softmax subtracts the maximum of the last axis, exponentiates, and divides by the sum over the last axis.')
@pytest.mark.points(2)
def test_softmax_matches_reference(learner, rng):
    """softmax equals the reference over the last axis, also for logits near 1000."""
    z = rng.normal(size=(3, 4, 5)) * 3
    for logits in (z, z + 1000.0, np.array([[1000.0, -1000.0, 999.0], [0.0, 1.0, 2.0]])):
        expect_match(learner.forward.softmax(logits), ref.softmax(logits), "softmax", softmax_mistakes(logits))
