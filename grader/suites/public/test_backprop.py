"""Public checks for backprop.py: examples worked by hand, and your gradients against your own grad_check.

A worked example is small enough to do on paper: its docstring derives the answer, written out here by hand,
and each mistake it names is worked out the same way, so a failure names a mistake only when the output is
what that mistake gives (grader/grading/diagnose.py). The last checks compare your functions with each other,
so they hold no answers at all.
"""

import numpy as np
import pytest

from grader.grading.checks import as_array, as_data
from grader.grading.diagnose import Mistake, expect_match
from grader.suites.public.backprop_checks import (
    BACKWARD,
    STEP_BACKWARD,
    expect_gradients,
    expect_shapes,
    kept,
    random_problem,
)


@pytest.mark.points(2)
def test_rnn_step_backward_worked_example(learner):
    """rnn_step_backward on an example worked by hand (N = 2, D = 1, H = 2).

    dh_next = [[1, 4], [4, -2]], h_t = [[0, 1/2], [1/2, 0]], x_t = [[1], [2]], h_prev = [[1, 0], [0, -1]],
    W_xh = [[1, -1]], W_hh = [[1, 2], [0, 1]] (the step only uses h_t as given, so any b fits).
    tanh's slope 1 - h_t^2 is [[1, 3/4], [3/4, 1]], so dz = [[1, 3], [3, -2]]. Then
    dx_t = dz W_xh^T = [[1 - 3], [3 + 2]] = [[-2], [5]];
    dh_prev = dz W_hh^T, with W_hh^T = [[1, 0], [2, 1]]: [[1 + 6, 3], [3 - 4, -2]] = [[7, 3], [-1, -2]];
    dW_xh = x_t^T dz = 1 * [1, 3] + 2 * [3, -2] = [[7, -1]];
    dW_hh = h_prev^T dz = [[1, 3], [-3, 2]] (row 0 of dz times 1, minus row 1 of dz in the second row);
    db = dz summed over the rows = [4, 1].
    """
    returned = learner.backprop.rnn_step_backward(
        np.array([[1.0, 4.0], [4.0, -2.0]]), np.array([[1.0], [2.0]]), np.array([[1.0, 0.0], [0.0, -1.0]]),
        np.array([[0.0, 0.5], [0.5, 0.0]]), np.array([[1.0, -1.0]]), np.array([[1.0, 2.0], [0.0, 1.0]]))
    expected = ([[-2.0], [5.0]], [[7.0, 3.0], [-1.0, -2.0]], [[7.0, -1.0]], [[1.0, 3.0], [-3.0, 2.0]], [4.0, 1.0])
    expect_gradients(returned, expected, "rnn_step_backward", STEP_BACKWARD, [
        # dz = dh_next itself: dx_t = [[1 - 4], [4 + 2]], dh_prev = [[1 + 8, 4], [4 - 4, -2]], dW_xh = [1, 4] +
        # 2 [4, -2], dW_hh = [[1, 4], [-4, 2]], db = [5, 2]
        ("no-tanh-derivative", "leaves out tanh's slope 1 - h_t**2",
         ([[-3.0], [6.0]], [[9.0, 4.0], [0.0, -2.0]], [[9.0, 0.0]], [[1.0, 4.0], [-4.0, 2.0]], [5.0, 2.0])),
        # dz W_hh = [[1, 2 + 3], [3, 6 - 2]]
        ("transposed-gradient", "multiplies dz by W_hh, not W_hh transposed, for dh_prev",
         (expected[0], [[1.0, 5.0], [3.0, 4.0]], *expected[2:])),
        ("transposed-gradient", "is dW_hh transposed (dz^T h_prev)",
         (*expected[:3], [[1.0, -3.0], [3.0, 2.0]], expected[4])),
        ("transposed-gradient", "is dW_xh transposed (dz^T x_t), of shape (H, D)",
         (*expected[:2], [[7.0], [-1.0]], *expected[3:])),
        # h_t^T dz = [[0, 1/2], [1/2, 0]] dz: row 0 is half of dz's row 1, row 1 half of its row 0
        ("dwhh-wrong-state", "computes dW_hh from h_t, the state the step wrote, not h_prev",
         (*expected[:3], [[1.5, -1.0], [0.5, 1.5]], expected[4])),
        ("batch-not-summed", "averages the weight gradients over the batch instead of summing them",
         (*expected[:2], [[3.5, -0.5]], [[0.5, 1.5], [-1.5, 1.0]], [2.0, 0.5])),
        # sample 0 alone: x_t[0] = 1 and h_prev[0] = [1, 0] times dz[0] = [1, 3]
        ("batch-not-summed", "uses the first sample only for the weight gradients",
         (*expected[:2], [[1.0, 3.0]], [[1.0, 3.0], [0.0, 0.0]], [1.0, 3.0])),
    ])


@pytest.mark.points(2)
def test_rnn_backward_two_steps_by_hand(learner):
    """rnn_backward through two steps worked by hand (N = D = H = 1, no truncation).

    dh = [6, 1], x = [1, 2], h0 = 1, h = [1/2, 0] (used as given), W_xh = 3, W_hh = 2.
    Step 1 first: its gradient is dh[1] = 1; the slope 1 - h[1]^2 is 1, so dz_1 = 1: dx[1] = 3, and it carries
    dz_1 W_hh = 2 back to h[0]. Step 0: its gradient is dh[0] plus the carry, 6 + 2 = 8; the slope
    1 - h[0]^2 = 3/4 makes dz_0 = 6: dx[0] = 18, dh0 = 6 * 2 = 12. Over both steps dW_xh = x[0] dz_0 + x[1] dz_1
    = 6 + 2 = 8, dW_hh = h0 dz_0 + h[0] dz_1 (the state each step read) = 6 + 1/2 and db = dz_0 + dz_1 = 7.
    """
    returned = learner.backprop.rnn_backward(np.array([[[6.0], [1.0]]]), np.array([[[1.0], [2.0]]]),
                                             np.array([[1.0]]), np.array([[[0.5], [0.0]]]), np.array([[3.0]]),
                                             np.array([[2.0]]))
    expected = ([[[18.0], [3.0]]], [[12.0]], [[8.0]], [[6.5]], [7.0])
    slope = 1 - np.tanh(0.5) ** 2  # tanh applied to h[0] = 1/2 once more: about 0.786, not 3/4
    expect_gradients(returned, expected, "rnn_backward", BACKWARD, [
        # step 0 gets dh[0] = 6 alone: dz_0 = 6 * 3/4 = 4.5
        ("no-carry-through-time", "does not carry the gradient from step 1 back to step 0",
         ([[[13.5], [3.0]]], [[9.0]], [[6.5]], [[5.0]], [5.5])),
        # step 0 gets the carry 2 alone: dz_0 = 2 * 3/4 = 1.5
        ("upstream-not-added", "gives step 0 only the carried gradient, without its own dh[0]",
         ([[[4.5], [3.0]]], [[3.0]], [[3.5]], [[2.0]], [2.5])),
        # dz_0 = 8 without the slope 3/4
        ("no-tanh-derivative", "leaves out tanh's slope 1 - h_t**2",
         ([[[24.0], [3.0]]], [[16.0]], [[10.0]], [[8.5]], [9.0])),
        # dz_0 = 8 * slope (step 1's slope 1 - tanh(0)^2 is still 1)
        ("tanh-derivative-of-h", "takes tanh's slope as 1 - tanh(h_t)**2, applying tanh twice",
         ([[[24 * slope], [3.0]]], [[16 * slope]], [[8 * slope + 2]], [[8 * slope + 0.5]], [8 * slope + 1])),
        # h[0] dz_0 + h[1] dz_1 = 1/2 * 6 + 0 * 1
        ("dwhh-wrong-state", "computes dW_hh from each step's own output h_t, not the state it read",
         (*expected[:3], [[3.0]], expected[4])),
        # h[:, -1] = h[1] = 0 in place of h0 = 1: 0 * 6 + 1/2 * 1
        ("prev-state-wraps", "uses h[:, -1], the last state, as the state step 0 read, not h0",
         (*expected[:3], [[0.5]], expected[4])),
    ])


@pytest.mark.points(2)
def test_truncated_rnn_backward_by_hand(learner):
    """rnn_backward with truncate=2 over four steps worked by hand (N = D = H = 1).

    x = [1, 1, 1, 1], h0 = 0, W_xh = 1, W_hh = 2, every h_t = 0 (b = -1 makes every z_t = 0), dh = [1, 1, 1, 1].
    Every slope 1 - 0^2 is 1, so the loss at step s, carried back j steps, is 2^j there. With truncate=2 each
    loss reaches its own step and the one before: dx_t = 1 + 2 for t = 0, 1, 2 and dx_3 = 1, so
    dx = [3, 3, 3, 1]. Only the losses at steps 0 and 1 reach step 0, with 1 + 2 = 3, so dh0 = 3 * 2 = 6.
    dW_xh = db = the sum of dx = 10 (x and W_xh are all 1), and dW_hh = 0 (every state read is 0).
    Untruncated, dx would be [1 + 2 + 4 + 8, 1 + 2 + 4, 1 + 2, 1] = [15, 7, 3, 1].
    """
    zeros, ones = np.zeros((1, 4, 1)), np.ones((1, 4, 1))
    returned = learner.backprop.rnn_backward(ones, ones, np.zeros((1, 1)), zeros, np.array([[1.0]]),
                                             np.array([[2.0]]), truncate=2)

    def gradients(dx, dh0):  # what every form here returns besides dx and dh0
        return np.reshape(dx, (1, 4, 1)), [[dh0]], [[sum(dx)]], [[0.0]], [sum(dx)]

    expect_gradients(returned, gradients([3.0, 3.0, 3.0, 1.0], 6.0), "rnn_backward(truncate=2)", BACKWARD, [
        # three steps back: [1 + 2 + 4, 1 + 2 + 4, 1 + 2, 1]; losses 0, 1 and 2 reach step 0: 2 (1 + 2 + 4)
        ("truncation-off-by-one", "carries each loss's gradient through 3 steps, not 2",
         gradients([7.0, 7.0, 3.0, 1.0], 14.0)),
        # one step: each loss stays at its own step; only the loss at step 0 reaches h0, 1 * 2
        ("truncation-off-by-one", "carries each loss's gradient through 1 step, not 2",
         gradients([1.0, 1.0, 1.0, 1.0], 2.0)),
        ("no-carry-through-time", "does not carry the gradient back through time", gradients([1.0] * 4, 2.0)),
        # chunks [0, 1] and [2, 3]: the loss at step 2 stops at the border, so dx_1 = 1
        ("truncation-chunked", "cuts the sequence into chunks of 2 steps instead of a window behind each loss",
         gradients([3.0, 1.0, 3.0, 1.0], 6.0)),
        (None, "ignores truncate and returns the full gradient", gradients([15.0, 7.0, 3.0, 1.0], 30.0)),
    ])


@pytest.mark.points(1)
def test_grad_check_worked_example(learner):
    """grad_check with eps = 0.01 on L(b) = tanh(b_0) + tanh(b_1) at b = [ln(3) / 2, 0] is [3/4, 1].

    With T = 1, zero x, h0 and weights, and dh = [1, 1], the loss rnn_loss is tanh(b_0) + tanh(b_1), whose
    gradient is 1 - tanh(b)^2. tanh(ln(3) / 2) = (3 - 1) / (3 + 1) = 1/2 gives 3/4; tanh(0) = 0 gives 1.
    A centred difference is off by about eps^2 / 6 times the third derivative: well under 1e-4 here.
    A one-sided difference is off by about eps / 2 times the second, -2 tanh(b) (1 - tanh(b)^2) = -3/4
    at b_0: it gives about 3/4 - 0.00375.
    """
    b = np.array([np.log(3.0) / 2, 0.0])
    loss = kept(learner, "loss_wrt", "b", np.zeros((1, 1, 1)), np.zeros((1, 2)), np.zeros((1, 2)),
                np.zeros((2, 2)), b, np.ones((1, 1, 2)))
    eps = 0.01
    up = np.tanh(b + eps)
    expect_match(learner.backprop.grad_check(loss, b, eps=eps), [0.75, 1.0], "grad_check", [
        Mistake("grad-check-one-sided", "takes one-sided differences (f(x + eps) - f(x)) / eps",
                (up - np.tanh(b)) / eps),
        Mistake("grad-check-divisor", "divides by eps, not 2 eps", [1.5, 2.0]),
        Mistake("grad-check-aliased", "moves one array twice: f(x + eps) - f(x), over 2 eps",
                (up - np.tanh(b)) / (2 * eps)),
        Mistake("grad-check-aliased", "evaluates f twice at one array: f(x) - f(x) = 0", [0.0, 0.0]),
    ], atol=1e-4)


@pytest.mark.points(1)
def test_gradient_shapes(learner, rng):
    """rnn_step_backward and rnn_backward return their gradients in the documented order and shapes."""
    N, T, D, H = 2, 3, 4, 5
    p = random_problem(rng, N, T, D, H)
    h = rng.uniform(-0.9, 0.9, size=(N, T, H))
    expect_shapes(learner.backprop.rnn_step_backward(p["dh"][:, 0], p["x"][:, 0], p["h0"], h[:, 0], p["W_xh"],
                                                     p["W_hh"]), "rnn_step_backward", STEP_BACKWARD,
                  [(N, D), (N, H), (D, H), (H, H), (H,)])
    for truncate in (None, 2):
        expect_shapes(learner.backprop.rnn_backward(p["dh"], p["x"], p["h0"], h, p["W_xh"], p["W_hh"],
                                                    truncate=truncate), f"rnn_backward(truncate={truncate})",
                      BACKWARD, [(N, T, D), (N, H), (D, H), (H, H), (H,)])


@pytest.mark.points(2)
def test_rnn_backward_agrees_with_your_grad_check(learner, rng):
    """rnn_backward's gradients equal what your grad_check measures on rnn_loss, for each input and weight.

    Both are yours: when they disagree one of them is wrong (test_grad_check_worked_example checks grad_check
    alone). Only the full gradient is checked here: a truncated one is not the gradient of any loss.
    """
    p = random_problem(rng, 2, 3, 2, 3)
    inputs = {name: p[name] for name in ("x", "h0", "W_xh", "W_hh", "b")}
    h = as_array(learner.backprop.rnn_forward(*inputs.values()), "rnn_forward (given)", shape=(2, 3, 3))
    got = as_data(learner.backprop.rnn_backward(p["dh"], p["x"], p["h0"], h, p["W_xh"], p["W_hh"]),
                  "rnn_backward", list, length=5)
    for (name, value), gradient, what in zip(inputs.items(), got, BACKWARD, strict=True):
        measured = as_array(learner.backprop.grad_check(kept(learner, "loss_wrt", name, *inputs.values(), p["dh"]),
                                                        value), f"grad_check on {name}", shape=value.shape)
        expect_match(gradient, measured, f"rnn_backward's {what} (compared with your grad_check's)", atol=1e-6)
