# %% [markdown]
# # The forward pass of a simple RNN, in numpy
#
# ## One step of the recurrence
# At step `t` the network mixes two things: the new input `x_t` and its memory of everything before,
# the previous hidden state `h_{t-1}`:
#
# ```
# h_t = tanh(x_t W_xh + h_{t-1} W_hh + b)
# ```
#
# With a batch of `N` sequences, `x_t` has shape `(N, D)` and `h_t` has shape `(N, H)`, so `W_xh` is
# `(D, H)`, `W_hh` is `(H, H)` and `b` is `(H,)`. This is exactly how Keras stores a `SimpleRNN`
# layer (`kernel`, `recurrent_kernel`, `bias`), so weights trained in Keras plug straight in here.
# `tanh` keeps every hidden value in (-1, 1); without it the state can grow without bound.
#
# ## Unrolling in time
# Drawn out over a sequence, the RNN is one layer copied `T` times, the copies joined by `h`:
#
# ```
#  h0 -> [step] -> h1 -> [step] -> h2 -> ... -> hT
#          ^               ^
#          x1              x2
# ```
#
# Every copy uses the same `W_xh`, `W_hh` and `b`. The state at the start, `h0`, is zeros unless
# we are told otherwise.
#
# ## Training, in brief: backpropagation through time
# To train, we unroll the network over the sequence, compute the loss at every step, and run ordinary
# backpropagation through the unrolled graph. Because the weights are shared, each weight's gradient
# is the sum of its gradients at every step. Gradients that travel back through many steps are
# multiplied by `W_hh` (and tanh's slope) again and again, so they tend to vanish or explode; that is
# why simple RNNs remember only a few steps well, and why LSTMs and GRUs were invented. Keras does all
# of this for us in the `next_letter` exercise; here we write the forward pass only.

# %%
import numpy as np


def rnn_step(x_t, h_prev, W_xh, W_hh, b):
    """Run one timestep of a simple RNN.

    Inputs:
    - x_t: input at this step, of shape (N, D).
    - h_prev: hidden state from the previous step, of shape (N, H).
    - W_xh: input-to-hidden weights, of shape (D, H).
    - W_hh: hidden-to-hidden weights, of shape (H, H).
    - b: bias, of shape (H,).

    Returns:
    - h_t: the next hidden state, of shape (N, H): tanh(x_t W_xh + h_prev W_hh + b).

    Hint: `@` multiplies matrices; check each product's shape against the ones above.
    """
    raise NotImplementedError("rnn_step() in forward.py is not written yet: replace this line with your code (the docstring above says what it takes and returns).")


def rnn_forward(x, W_xh, W_hh, b, h0=None):
    """Run a simple RNN over whole sequences.

    Inputs:
    - x: input sequences, of shape (N, T, D).
    - W_xh: of shape (D, H); W_hh: of shape (H, H); b: of shape (H,).
    - h0: initial hidden state, of shape (N, H), or None for zeros.

    Returns:
    - h: every hidden state, of shape (N, T, H); h[:, t] is the state after reading x[:, t].

    Hint: loop over t = 0 .. T-1, calling rnn_step with the state from the step before. The time axis
    is axis 1, not axis 0.
    """
    raise NotImplementedError("rnn_forward() in forward.py is not written yet: replace this line with your code (the docstring above says what it takes and returns).")


# %% [markdown]
# ## From hidden states to letter probabilities
# A dense layer maps each hidden state to one score (a *logit*) per letter, and **softmax** turns the
# scores into probabilities that are positive and sum to 1:
#
# ```
# p_i = exp(z_i) / sum_j exp(z_j)
# ```
#
# `exp(1000)` overflows to infinity, so we first subtract the largest logit of each row: the answer
# does not change (the factor cancels) and the largest exponent becomes `exp(0) = 1`.

# %%
def softmax(z):
    """Numerically stable softmax over the last axis.

    Inputs:
    - z: logits, of any shape (..., V).

    Returns:
    - p: probabilities of the same shape; p[..., :] is positive and sums to 1 along the last axis.

    Hint: subtract z.max(axis=-1, keepdims=True) before np.exp.
    """
    raise NotImplementedError("softmax() in forward.py is not written yet: replace this line with your code (the docstring above says what it takes and returns).")


def output_layer(h, W_hy, b_y):
    """Turn hidden states into next-letter probabilities (a Dense layer with softmax).

    Inputs:
    - h: hidden states, of shape (N, T, H).
    - W_hy: hidden-to-output weights, of shape (H, V).
    - b_y: output bias, of shape (V,).

    Returns:
    - p: probabilities, of shape (N, T, V), summing to 1 over the last axis.

    Hint: `h @ W_hy` works on the last axis of a 3-D array; then apply your softmax.
    """
    raise NotImplementedError("output_layer() in forward.py is not written yet: replace this line with your code (the docstring above says what it takes and returns).")
