"""Hidden checks for backprop.py: gradients equal to measured ones and to Keras's, with the mistake diagnosed.

The expected gradients are measured, not derived: centred differences (the reference grad_check) of the loss
sum(dh * h) through the reference forward pass of solutions/forward.py, in float64; truncated, of each step's
loss through its window, the state before the window held constant; or Keras's own (keras_gradients.npz). A
failure names a mistake only when the output equals what that mistake computes on the same inputs
(grader/grading/diagnose.py): the candidates below are backpropagation with one thing changed.
"""

import functools
from collections.abc import Callable

import numpy as np
import pytest

from grader.grading.diagnose import Mistake, expect_match
from grader.suites.hidden import keras_gradients
from grader.suites.public.backprop_checks import BACKWARD, STEP_BACKWARD, expect_gradients, kept, random_problem
from solutions import backprop as ref
from solutions import forward

# (N, T, D, H): D == H first, so that a transposed dW_xh, or dz @ W_xh, has the right shape and is recognised.
SIZES = [(3, 4, 4, 4), (2, 5, 3, 4), (1, 6, 2, 3)]
INPUTS = ("x", "h0", "W_xh", "W_hh", "b")


def step_with(dh_next, x_t, h_prev, h_t, W_xh, W_hh, slope="1 - h_t**2", read="h_prev", flip=None, batch="sum"):
    """One step back with one thing changed: tanh's slope, the state dW_hh reads, a transposed product, or the
    batch averaged ("mean") or cut to its first sample ("first") in the weight gradients."""
    dz = dh_next * {"1 - h_t**2": 1 - h_t**2, "none": 1.0, "1 - tanh(h_t)**2": 1 - np.tanh(h_t) ** 2}[slope]
    rows = slice(0, 1) if batch == "first" else slice(None)
    scale = 1 / len(dz) if batch == "mean" else 1
    state = h_t if read == "h_t" else h_prev
    grads = [dz @ W_xh.T, dz @ W_hh.T, x_t[rows].T @ dz[rows] * scale, state[rows].T @ dz[rows] * scale,
             dz[rows].sum(axis=0) * scale]
    if flip == "dx_t":
        grads[0] = dz @ W_xh
    if flip == "dh_prev":
        grads[1] = dz @ W_hh
    if flip in ("dW_xh", "dW_hh"):
        grads[STEP_BACKWARD.index(flip)] = grads[STEP_BACKWARD.index(flip)].T
    return tuple(grads)


# (id, what the step does, how step_with changes it)
STEP_MISTAKES = [
    ("no-tanh-derivative", "leaves out tanh's slope 1 - h_t**2", {"slope": "none"}),
    ("tanh-derivative-of-h", "takes tanh's slope as 1 - tanh(h_t)**2", {"slope": "1 - tanh(h_t)**2"}),
    ("dwhh-wrong-state", "computes dW_hh from h_t, not from the state the step read", {"read": "h_t"}),
    ("transposed-gradient", "multiplies dz by W_hh, not W_hh.T, for dh_prev", {"flip": "dh_prev"}),
    ("transposed-gradient", "multiplies dz by W_xh, not W_xh.T, for dx", {"flip": "dx_t"}),
    ("transposed-gradient", "is dW_hh transposed", {"flip": "dW_hh"}),
    ("transposed-gradient", "is dW_xh transposed", {"flip": "dW_xh"}),
    ("batch-not-summed", "averages the weight gradients over the batch", {"batch": "mean"}),
    ("batch-not-summed", "uses the first sample only for the weight gradients", {"batch": "first"}),
]


def step_mistakes(W_xh):
    """STEP_MISTAKES that keep every gradient's shape with this W_xh: dz @ W_xh and a transposed dW_xh need a
    square one (otherwise the shape alone tells)."""
    square = W_xh.shape[0] == W_xh.shape[1]
    return [(id_, does, change) for id_, does, change in STEP_MISTAKES
            if square or change.get("flip") not in ("dx_t", "dW_xh")]


def walked(p, h, reach: Callable[[int], int | None], dh=None, before=None, **change):
    """Backpropagation in which the loss at each step s travels back on its own through steps s, s-1, ...,
    reach(s) (None: not at all), with step_with(**change) for each step; `before[:, t]` is the state step t
    read. The backward pass is linear in dh, so reach(s) = 0 for every s gives the full gradient."""
    x, h0, W_xh, W_hh = p["x"], p["h0"], p["W_xh"], p["W_hh"]
    dh = p["dh"] if dh is None else dh
    before = np.concatenate([h0[:, None], h[:, :-1]], axis=1) if before is None else before
    grads = [np.zeros(x.shape), np.zeros(h0.shape), np.zeros(W_xh.shape), np.zeros(W_hh.shape), np.zeros(len(W_hh))]
    for s in range(x.shape[1]):
        first = reach(s)
        if first is None:
            continue
        carry = dh[:, s]
        for t in range(s, first - 1, -1):
            dx_t, carry, dW_xh, dW_hh, db = step_with(carry, x[:, t], before[:, t], h[:, t], W_xh, W_hh, **change)
            grads[0][:, t] += dx_t
            for i, share in ((2, dW_xh), (3, dW_hh), (4, db)):
                grads[i] += share
        if first == 0:
            grads[1] += carry
    return tuple(grads)


def lazily(compute: Callable[[], tuple]) -> Callable[[], tuple]:
    """`compute`, run only when a check fails (a candidate is needed) and then once."""
    return functools.cache(compute)


def window(k: int) -> Callable[[int], int]:
    """reach(s) of truncation depth k: through steps s, ..., s-k+1."""
    return lambda s: max(0, s - k + 1)


def backward_mistakes(p, h, truncate=None):
    """What rnn_backward returns under each mistake, for these inputs: each wrong step, and each wrong way of
    going through time (or, truncated, of cutting the gradient)."""
    T = p["x"].shape[1]
    reach = (lambda s: 0) if truncate is None else window(truncate)
    mistakes = [(id_, does, lazily(lambda change=change: walked(p, h, reach, **change)))
                for id_, does, change in step_mistakes(p["W_xh"])]
    mistakes += [
        ("no-carry-through-time", "does not carry the gradient back through time",
         lazily(lambda: walked(p, h, lambda s: s))),
        ("prev-state-wraps", "uses h[:, -1], the last state, as the state step 0 read, not h0",
         lazily(lambda: walked(p, h, reach, before=h[:, np.arange(T) - 1]))),
    ]
    if truncate is None:
        last_only = np.where(np.arange(T)[None, :, None] == T - 1, p["dh"], 0.0)
        return mistakes + [("upstream-not-added", "adds dh[:, t] to the carried gradient at the last step only",
                            lazily(lambda: walked(p, h, reach, dh=last_only)))]
    k = truncate
    return mistakes + [
        ("truncation-off-by-one", f"carries each loss's gradient through {k + 1} steps, not {k}",
         lazily(lambda: walked(p, h, window(k + 1)))),
        ("truncation-off-by-one", f"carries each loss's gradient through {k - 1} steps, not {k}",
         lazily(lambda: walked(p, h, window(k - 1) if k > 1 else lambda s: None))),
        ("truncation-chunked", f"cuts the sequence into chunks of {k} steps instead of a window behind each loss",
         lazily(lambda: walked(p, h, lambda s: s // k * k))),
        (None, "ignores truncate and returns the full gradient", lazily(lambda: walked(p, h, lambda s: 0))),
    ]


def measured(p, truncate=None):
    """The gradients of the loss with respect to x, h0, W_xh, W_hh and b by centred differences, through
    solutions/forward.py: of sum(dh * h), or, truncated to depth k, of each step's loss computed through its
    window of k steps from the state before the window, held constant (h0 itself when the window starts at 0)."""
    h = forward.rnn_forward(p["x"], p["W_xh"], p["W_hh"], p["b"], p["h0"])
    T = h.shape[1]
    windows = [(0, T - 1)] if truncate is None else [(max(0, s - truncate + 1), s) for s in range(T)]
    total = [np.zeros(np.shape(p[name])) for name in INPUTS]
    for first, last in windows:
        weights = p["dh"][:, first:last + 1].copy()
        if truncate is not None:
            weights[:, :-1] = 0  # only the loss at `last` travels through this window

        def loss(x, h0, W_xh, W_hh, b, first=first, last=last, weights=weights):
            start = h0 if first == 0 else h[:, first - 1]
            return float(np.sum(weights * forward.rnn_forward(x[:, first:last + 1], W_xh, W_hh, b, start)))

        inputs = {name: p[name] for name in INPUTS}
        for i, name in enumerate(INPUTS):
            total[i] += ref.grad_check(lambda value, name=name, inputs=inputs: loss(**{**inputs, name: value}),
                                       p[name])
    return h, total


@pytest.mark.hint("rnn_step_backward: dz = dh_next * (1 - h_t**2); dx_t = dz @ W_xh.T, dh_prev = dz @ W_hh.T, "
                  "dW_xh = x_t.T @ dz, dW_hh = h_prev.T @ dz, db = dz summed over the batch.")
@pytest.mark.points(2)
def test_rnn_step_backward_matches_measured_gradients(learner, rng):
    """rnn_step_backward's five gradients equal centred differences of sum(dh_next * h_t) on random inputs."""
    for N, _, D, H in SIZES:
        p = random_problem(rng, N, 1, D, H)
        h_t = forward.rnn_step(p["x"][:, 0], p["h0"], p["W_xh"], p["W_hh"], p["b"])
        _, expected = measured(p)
        args = (p["dh"][:, 0], p["x"][:, 0], p["h0"], h_t, p["W_xh"], p["W_hh"])
        mistakes = [(id_, does, lazily(lambda change=change, args=args: step_with(*args, **change)))
                    for id_, does, change in step_mistakes(p["W_xh"])]
        expected[0] = expected[0][:, 0]  # the step's dx_t: x has one step here
        expect_gradients(learner.backprop.rnn_step_backward(*args), expected, "rnn_step_backward", STEP_BACKWARD,
                         mistakes)


@pytest.mark.hint("rnn_backward walks t = T-1 down to 0, giving step t dh[:, t] plus the dh_prev step t+1 "
                  "returned, with h_prev = h[:, t-1] (h0 at t = 0); it sums the weight gradients over the steps.")
@pytest.mark.points(3)
def test_rnn_backward_matches_measured_gradients(learner, rng):
    """rnn_backward equals centred differences of sum(dh * h) through the whole sequence, for several sizes."""
    for N, T, D, H in SIZES:
        p = random_problem(rng, N, T, D, H)
        h, expected = measured(p)
        expect_gradients(learner.backprop.rnn_backward(p["dh"], p["x"], p["h0"], h, p["W_xh"], p["W_hh"]),
                         expected, "rnn_backward", BACKWARD, backward_mistakes(p, h))


@pytest.mark.hint("With truncate=k the gradient of the loss at step s goes back through steps s, s-1, ..., s-k+1 "
                  "only (not below 0), and adds to dh0 only if step 0 is among them; truncate >= T is the full "
                  "gradient.")
@pytest.mark.points(2)
def test_truncated_rnn_backward_matches_windowed_gradients(learner, rng):
    """rnn_backward(truncate=k) equals the measured gradients of each step's loss through its window of k steps."""
    for (N, T, D, H), k in [((2, 6, 3, 4), 3), ((3, 5, 4, 4), 2), ((1, 4, 2, 3), 1), ((2, 3, 2, 2), 5)]:
        p = random_problem(rng, N, T, D, H)
        h, expected = measured(p, truncate=k)
        returned = learner.backprop.rnn_backward(p["dh"], p["x"], p["h0"], h, p["W_xh"], p["W_hh"], truncate=k)
        expect_gradients(returned, expected, "rnn_backward with truncate", BACKWARD, backward_mistakes(p, h, k))


@pytest.mark.hint("Keras's SimpleRNN keeps kernel (D, H), recurrent_kernel (H, H) and bias (H,), as W_xh, W_hh "
                  "and b here: rnn_backward must give the gradients tf.GradientTape takes through it.")
@pytest.mark.points(2)
def test_rnn_backward_equals_keras_gradients(learner):
    """rnn_backward on a Keras SimpleRNN's weights, states and initial state gives Keras's own gradients."""
    k = keras_gradients.load()
    p = {"x": k["x"], "h0": k["h0"], "W_xh": k["kernel"], "W_hh": k["recurrent_kernel"], "dh": k["dh"]}
    returned = learner.backprop.rnn_backward(k["dh"], k["x"], k["h0"], k["keras_h"], k["kernel"],
                                             k["recurrent_kernel"])
    expect_gradients(returned, [k[name] for name in keras_gradients.GRADIENTS], "rnn_backward on Keras's weights",
                     BACKWARD, backward_mistakes(p, k["keras_h"]))


def differences(f, x, eps, form):
    """What a numerical gradient of f at x returns when it takes one of these forms: "one-sided"
    (f(x + eps) - f(x)) / eps; "divisor", centred but over eps; "aliased", one array moved up then back,
    (f(x + eps) - f(x)) / (2 eps); "not-restored", centred but each entry left at old - eps; "in-dtype",
    centred but moving the entries in x's own dtype (float32 rounds old + eps)."""
    x = np.array(x, dtype=None if form == "in-dtype" else np.float64)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old if form in ("one-sided", "aliased") else old - eps
        down = f(x)
        if form != "not-restored":
            x[i] = old
        grad[i] = (up - down) / (eps if form in ("one-sided", "divisor") else 2 * eps)
    return grad


GRAD_CHECK_MISTAKES = [  # (id, what grad_check does, its form in `differences`)
    ("grad-check-one-sided", "takes one-sided differences (f(x + eps) - f(x)) / eps", "one-sided"),
    ("grad-check-divisor", "divides by eps, not 2 eps", "divisor"),
    ("grad-check-aliased", "moves one array up and back: (f(x + eps) - f(x)) / (2 eps)", "aliased"),
    ("grad-check-not-restored", "leaves each entry at old - eps before moving the next", "not-restored"),
    (None, "moves x's entries in float32, which rounds old + eps: work on a float64 copy", "in-dtype"),
]


@pytest.mark.hint("grad_check returns (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for every index i of x, any shape, "
                  "float32 too, with the given eps, moving each entry of a float64 copy and putting it back before "
                  "the next.")
@pytest.mark.points(2)
def test_grad_check_matches_centred_differences(learner, rng):
    """grad_check of rnn_loss, as a function of W_hh or of x (float64, or float32 as Keras keeps weights),
    equals centred differences, at two step sizes."""
    p = random_problem(rng, 2, 3, 2, 3)
    inputs = {name: p[name] for name in INPUTS}
    for name, dtype in [("W_hh", np.float64), ("x", np.float64), ("W_hh", np.float32)]:
        loss = kept(learner, "loss_wrt", name, *inputs.values(), p["dh"])
        point = p[name].astype(dtype)

        def trusted(value, name=name):
            return float(np.sum(p["dh"] * forward.rnn_forward(**{**inputs, name: value})))

        for eps in (1e-3, None):
            step = {} if eps is None else {"eps": eps}
            got = learner.backprop.grad_check(loss, point, **step)
            mistakes = [Mistake(id_, does, lambda form=form, eps=eps or 1e-5, x=point, f=trusted:
                                differences(f, x, eps, form)) for id_, does, form in GRAD_CHECK_MISTAKES]
            mistakes.append(Mistake("grad-check-aliased", "evaluates f twice at one array", np.zeros(point.shape)))
            expect_match(got, ref.grad_check(trusted, point, **step), f"grad_check on {name} ({np.dtype(dtype)})",
                         mistakes, atol=1e-6)
