# %% [markdown]
# # Backpropagation through time, in numpy
#
# In the forward pass exercise we ran a simple RNN forward:
#
# ```
# h_t = tanh(x_t W_xh + h_{t-1} W_hh + b)        for t = 0, 1, ..., T-1, starting from h0
# ```
#
# To train it we need the gradient of a loss `L` with respect to every weight. Here we compute those
# gradients by hand, the way Keras does for us behind `model.fit`, and we check them numerically.
#
# ## What comes in: one gradient per hidden state
# Whatever sits on top of the RNN (a dense layer and a cross-entropy, say) hands back, for every step,
# the gradient of the loss with respect to that step's hidden state *through that step's output*:
# `dh[:, t]`, of shape `(N, H)`, stacked into `dh` of shape `(N, T, H)`. Our job is to push these
# gradients down through the recurrence to the inputs `x`, the initial state `h0` and the weights
# `W_xh`, `W_hh`, `b`. To try it out we use the loss `L = sum(dh * h)`: its gradient with respect to
# `h` is exactly `dh`, so it stands in for any loss on top.
#
# ## One step backwards
# Call the inside of the tanh `z_t = x_t W_xh + h_{t-1} W_hh + b`, so `h_t = tanh(z_t)`. The chain rule
# goes through the tanh first. Its slope is `tanh'(z) = 1 - tanh(z)^2`, and `tanh(z_t)` is `h_t`, which
# the forward pass already computed: the slope at step `t` is `1 - h_t^2`, no new tanh needed. So
#
# ```
# dz_t = dh_t * (1 - h_t^2)            (elementwise, shape (N, H))
# ```
#
# and `z_t` is made of three matrix products and a sum, whose gradients follow the shapes:
# `dx_t = dz_t W_xh^T` (N, D), `dh_{t-1} = dz_t W_hh^T` (N, H), `dW_xh = x_t^T dz_t` (D, H),
# `dW_hh = h_{t-1}^T dz_t` (H, H) and `db = dz_t` summed over the batch (H,). A weight gradient
# multiplies the *input* of its product (`x_t`, or the state `h_{t-1}` that step `t` read, not the
# state `h_t` it wrote) by `dz_t`. Each sample in the batch adds its own share, so the weight
# gradients are sums over the `N` rows (not means: the loss is a sum too).
#
# ## Through time
# The same weights are used at every step, so their gradient is the sum of their gradients at every
# step. And `h_t` reaches the loss in two ways: through its own output (`dh[:, t]`) and through every
# later state, since `h_{t+1}` is computed from it. So we walk backwards from `t = T-1` to `0`,
# carrying the gradient that step `t+1` hands back for `h_t` and adding it to `dh[:, t]`:
#
# ```
#  dh0 <- [step 0] <- ... <- [step T-2] <- carry <- [step T-1]
#            ^                   ^                      ^
#        dh[:, 0]           dh[:, T-2]             dh[:, T-1]
# ```
#
# What step 0 hands back is the gradient with respect to `h0`.
#
# ## Vanishing and exploding gradients
# Every step back multiplies the carried gradient by `(1 - h_t^2)`, a number between 0 and 1, and by
# `W_hh^T`. After `k` steps the gradient is scaled by about the product of `k` such factors: if they
# are mostly below 1 it shrinks exponentially (vanishes), and the loss at a late step can no longer
# teach the weights anything about an input long before it; if `W_hh` is large it can grow
# exponentially (explodes), and one update can throw the weights far away. This is why simple RNNs
# learn short-range patterns well and long-range ones badly, and why LSTMs and GRUs, and gradient
# clipping, were invented.
#
# ## Truncated backpropagation through time
# A sequence of thousands of steps makes every backward pass long, and the far-away part of the
# gradient has mostly vanished anyway. Truncation cuts it off: with truncation depth `k`, the gradient
# of the loss at step `s` flows back through steps `s, s-1, ..., s-k+1` only (fewer near the start)
# and is then dropped, as if the state `h_{s-k}` were a constant input. If its window reaches step 0,
# what it carries out of step 0 still counts towards `dh0`. Depth 1 keeps only each step's own part;
# a depth of `T` or more is the full gradient. What we trade away is exactly what truncation
# promises: no dependency longer than `k` steps can be learned from these gradients, even if the
# weights could express it. (Frameworks often do a cheaper cousin: cut the sequence into chunks of
# `k` steps and stop the gradient at the chunk borders, so a loss at a chunk's start looks back one
# step and one at its end `k` steps. Here each loss gets the same window of `k` steps.)

# %%
import numpy as np

# %% [markdown]
# ## Given: the forward pass and the loss
# The forward pass of the previous exercise (with `h0` always given), so this exercise stands on its
# own, and the loss `L = sum(dh * h)`. `loss_wrt` turns the loss into a function of one of its inputs,
# the others held fixed: the form `grad_check` below takes. The checks use it too, so leave this
# cell as it is.

# %%
def rnn_forward(x, h0, W_xh, W_hh, b):
    """Every hidden state of the simple RNN, shape (N, T, H), for x (N, T, D) and h0 (N, H)."""
    states = [h0]
    for x_t in np.moveaxis(x, 1, 0):  # time is axis 1
        states.append(np.tanh(x_t @ W_xh + states[-1] @ W_hh + b))
    return np.stack(states[1:], axis=1)


def rnn_loss(x, h0, W_xh, W_hh, b, dh):
    """The scalar sum(dh * h) for the states h of rnn_forward; dh has h's shape (N, T, H)."""
    return float(np.sum(dh * rnn_forward(x, h0, W_xh, W_hh, b)))


def loss_wrt(name, x, h0, W_xh, W_hh, b, dh):
    """rnn_loss as a function of the input called `name` ("x", "h0", "W_xh", "W_hh" or "b") alone."""
    inputs = {"x": x, "h0": h0, "W_xh": W_xh, "W_hh": W_hh, "b": b}

    def loss(value):
        return rnn_loss(**{**inputs, name: value}, dh=dh)

    return loss


# %% [markdown]
# ## One step backwards, then the whole sequence
# `rnn_step_backward` is the chain rule through one step, as derived above. `rnn_backward` walks the
# steps from last to first. Without truncation one walk does everything: the backward pass of a step
# is linear in the gradient coming in, so the gradients of all later losses can travel together, added
# up in the carry. With truncation each loss's gradient must stop at its own place, so it is simplest
# to walk back separately from each step `s`, through its window, and add up what each walk gives.

# %%
def rnn_step_backward(dh_next, x_t, h_prev, h_t, W_xh, W_hh):
    """Backpropagate through one step h_t = tanh(x_t W_xh + h_prev W_hh + b).

    Inputs:
    - dh_next: gradient of the loss with respect to h_t, the state this step hands to the next, (N, H).
    - x_t: this step's input, of shape (N, D).
    - h_prev: the state this step read, h_{t-1}, of shape (N, H).
    - h_t: the state this step computed, of shape (N, H).
    - W_xh: of shape (D, H); W_hh: of shape (H, H).

    Returns a tuple (dx_t, dh_prev, dW_xh, dW_hh, db) of the gradients with respect to x_t (N, D),
    h_prev (N, H), W_xh (D, H), W_hh (H, H) and b (H,), the last three summed over the batch.

    Hint: first dz = dh_next * (1 - h_t**2), the gradient of the inside of the tanh; then each
    gradient is one product of dz with a transposed input or weight: let the shapes pick which.
    """
    # BEGIN SOLUTION
    dz = dh_next * (1 - h_t**2)  # tanh'(z) = 1 - tanh(z)^2, and tanh(z) is h_t
    dx_t = dz @ W_xh.T
    dh_prev = dz @ W_hh.T
    dW_xh = x_t.T @ dz
    dW_hh = h_prev.T @ dz
    db = dz.sum(axis=0)
    return dx_t, dh_prev, dW_xh, dW_hh, db
    # END SOLUTION


def rnn_backward(dh, x, h0, h, W_xh, W_hh, truncate=None):
    """Backpropagation through time for a whole batch of sequences.

    Inputs:
    - dh: the gradient of the loss with respect to each hidden state through its own output,
      of shape (N, T, H) (dh[:, t] for h[:, t]).
    - x: the inputs, of shape (N, T, D); h0: the initial state, of shape (N, H).
    - h: the states rnn_forward returned, of shape (N, T, H).
    - W_xh: of shape (D, H); W_hh: of shape (H, H).
    - truncate: None for the full gradient, or a whole number k >= 1: the gradient of the loss at
      step s then flows back through steps s, s-1, ..., s-k+1 only (those >= 0), and reaches h0 only
      if step 0 is among them.

    Returns a tuple (dx, dh0, dW_xh, dW_hh, db): gradients with respect to x (N, T, D), h0 (N, H),
    W_xh (D, H), W_hh (H, H) and b (H,), the weights' summed over the batch and over time.

    Hint: go backwards, t = T-1 down to 0, calling rnn_step_backward with dh[:, t] plus the gradient
    carried back from step t+1; step t read h[:, t-1], or h0 when t = 0 (h[:, -1] is the LAST state).
    With truncate, start one such walk from each step s, carrying only dh[:, s], and stop it after k steps.
    """
    # BEGIN SOLUTION
    T = x.shape[1]
    h_before = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # h_before[:, t] is the state step t read
    dx, dh0 = np.zeros(x.shape), np.zeros(h0.shape)
    dW_xh, dW_hh, db = np.zeros(W_xh.shape), np.zeros(W_hh.shape), np.zeros(W_hh.shape[1])
    # A walk is (the step it starts at, the step it stops after): one for all losses, or one per loss.
    walks = [(T - 1, 0)] if truncate is None else [(s, max(0, s - truncate + 1)) for s in range(T)]
    for start, stop in walks:
        carry = np.zeros(h0.shape)
        for t in range(start, stop - 1, -1):
            if truncate is None or t == start:  # the losses this walk carries join it at their own step
                carry = carry + dh[:, t]
            dx_t, carry, dW_xh_t, dW_hh_t, db_t = rnn_step_backward(carry, x[:, t], h_before[:, t], h[:, t],
                                                                    W_xh, W_hh)
            dx[:, t] += dx_t
            dW_xh += dW_xh_t
            dW_hh += dW_hh_t
            db += db_t
        if stop == 0:  # the walk went through step 0: what it carries out is the gradient of h0
            dh0 += carry
    return dx, dh0, dW_xh, dW_hh, db
    # END SOLUTION


# %% [markdown]
# ## Checking gradients numerically
# A gradient derived by hand is easy to get subtly wrong, and a wrong gradient still trains, just
# badly. The definition of the derivative gives an independent check: nudge one number of the input
# by a small `eps` up and down and see how the loss moves,
#
# ```
# df/dx_i  ~  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)
# ```
#
# where `e_i` is 1 at position `i` and 0 elsewhere. This centred difference is off by about
# `eps^2` times the third derivative; the one-sided `(f(x + eps e_i) - f(x)) / eps` is off by about
# `eps` times the second, far more. `eps` cannot be too small either: `f`'s rounding error, about
# `1e-16` of its size in float64, is divided by `eps`. `1e-5` is a good middle. It costs two
# evaluations of `f` per number, so it checks small examples only: in practice you compare it with
# the analytic gradient on a tiny network, then train with the analytic one. To check your
# `rnn_backward`, make a small random example (N, T, D, H of 2 or 3, weights around 0.5), take
# `h = rnn_forward(x, h0, W_xh, W_hh, b)`, and compare each gradient it returns with, for instance,
# `grad_check(loss_wrt("W_hh", x, h0, W_xh, W_hh, b, dh), W_hh)`: they should agree to about `1e-8`.
# (Only the full gradient: a truncated one is on purpose not the gradient of `L`.)

# %%
def grad_check(f, x, eps=1e-5):
    """The numerical gradient of a scalar function f at x, by centred differences.

    Inputs:
    - f: a function that takes an array of x's shape and returns a number (loss_wrt gives you some).
    - x: the point, an array of floats of any shape (float32 too).
    - eps: how far to move each number, up and down.

    Returns an array of x's shape whose entry i is (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).
    x itself must be left as it was.

    Hint: work on a float64 copy of x (float32 cannot hold x + 1e-5 exactly); for each index
    (np.ndindex(x.shape) yields them all) move that one entry up, evaluate f, move it down, evaluate f,
    then put it back before the next index.
    """
    # BEGIN SOLUTION
    x = np.array(x, dtype=np.float64)  # a copy, and one that can hold x + eps: the caller's x stays as it was
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad
    # END SOLUTION
