# %% [markdown]
# # Being comfortable in three dimensions: batches of sequences
#
# ## One more axis than a dense network
# A dense network reads a batch of vectors, an array of shape `(N, F)`: `N` samples with `F` numbers
# (features) each. A sequence is several such vectors in order, one per step, so a batch of
# sequences has one more axis, time, in the middle:
#
# ```
# x.shape == (N, T, F)        # (batch, timesteps, features): Keras's order, and this course's
# x[n, t, f]                  # feature f of sample n at step t
# ```
#
# Some examples of what the three numbers mean:
# - 32 words of 10 letters, each letter one-hot over an alphabet of 27 characters: `(32, 10, 27)`;
# - 8 weather stations, 30 days each, temperature and humidity per day: `(8, 30, 2)`;
# - 1 long recording cut into 500 windows of 20 samples, one number per sample: `(500, 20, 1)`.
#
# Even one feature keeps its axis (`F = 1`, not a missing axis): a recurrent layer always expects
# three.
#
# ## Reading an index
# In numpy, a number in an index removes that axis and `:` keeps it, so which of the three you fix
# decides what comes back:
#
# ```
# x[:, t]        # (N, F): step t of every sample, what an RNN reads at step t
# x[n]           # (T, F): the whole of sample n
# x[n, :, f]     # (T,):   one feature of one sample, over time (a line you could plot)
# x[:, -1]       # (N, F): the last step of every sample (negative indices count from the end)
# ```
#
# The commonest slip is `x[t]`: it looks like "step t", but axis 0 is the batch, so it is sample `t`.
# When `N`, `T` and `F` differ, the shape you get back tells you which axis you took.

# %%
import numpy as np


def timestep(x, t):
    """Select one timestep of every sample in a batch.

    Inputs:
    - x: a batch of sequences, of shape (N, T, F).
    - t: the step, an int from -T to T - 1; a negative t counts from the end (-1 is the last step),
      as Python's own indexing does.

    Returns:
    - x_t: of shape (N, F); x_t[n] is x[n, t], step t of sample n.

    Hint: time is axis 1, so keep axis 0 whole with `:` and index axis 1.
    """
    # BEGIN SOLUTION
    return x[:, t]
    # END SOLUTION


def feature_over_time(x, n, f):
    """Follow one feature of one sample through every timestep.

    Inputs:
    - x: a batch of sequences, of shape (N, T, F).
    - n: the sample, an int from 0 to N - 1.
    - f: the feature, an int from 0 to F - 1.

    Returns:
    - values: of shape (T,); values[t] is x[n, t, f].

    Hint: fix axis 0 at n and axis 2 at f, keep axis 1 (time) whole.
    """
    # BEGIN SOLUTION
    return x[n, :, f]
    # END SOLUTION


# %% [markdown]
# ## Batch-major and time-major
# Keras puts the batch first, `(N, T, F)`: *batch-major*. Some libraries put time first,
# `(T, N, F)`: *time-major* (PyTorch's `nn.RNN` does unless told `batch_first=True`). Time-major
# suits a loop over steps, since `z[t]` is then step `t` of every sample. The data are the same;
# only the order of the first two axes differs:
#
# ```
# z[t, n, f] == x[n, t, f]
# ```
#
# Two tempting ways to get there are wrong. `x.T` reverses *all* the axes and gives `(F, T, N)`.
# `x.reshape(T, N, F)` gives the right shape with the wrong contents: a reshape never moves a number,
# it reads them in order (last axis fastest) and cuts that one long row into pieces of the new shape,
# so the samples get mixed together. Moving an axis is `np.swapaxes`, `np.transpose` with the axes
# named, or `np.moveaxis`.

# %%
def to_time_major(x):
    """Convert a batch from batch-major to time-major order.

    Inputs:
    - x: of shape (N, T, F), batch first.

    Returns:
    - z: of shape (T, N, F), time first, with z[t, n, f] == x[n, t, f].

    Hint: swap axes 0 and 1 and leave axis 2 where it is; a reshape cannot do this.
    """
    # BEGIN SOLUTION
    return np.swapaxes(x, 0, 1)
    # END SOLUTION


def to_batch_major(z):
    """Convert a batch from time-major back to batch-major order.

    Inputs:
    - z: of shape (T, N, F), time first.

    Returns:
    - x: of shape (N, T, F), batch first, with x[n, t, f] == z[t, n, f].

    Hint: swapping the first two axes twice gives back what you started with.
    """
    # BEGIN SOLUTION
    return np.swapaxes(z, 0, 1)
    # END SOLUTION


# %% [markdown]
# ## A time series becomes a batch of windows
# A time series is one long sequence of measurements: `L` values, shape `(L,)`, or `L` steps of `F`
# measurements each, shape `(L, F)`. To teach a network to predict the next value from the last `T`,
# we cut it into *windows*: the input is `T` consecutive steps and the target is the step right
# after them.
#
# ```
# series:   s0  s1  s2  s3  s4  s5          L = 6, T = 3
# window 0: [s0  s1  s2] -> s3
# window 1:     [s1  s2  s3] -> s4
# window 2:         [s2  s3  s4] -> s5
# ```
#
# A window starts at every step that leaves room for a target after it, so there are `L - T`
# windows; neighbours share `T - 1` steps, and the last target is the series' last value. Stacked,
# the windows are a batch `(L - T, T, F)` and their targets `(L - T, F)`: exactly what a recurrent
# layer reads. A series of one number per step is one feature, so it gets `F = 1`.
#
# This is next-letter prediction again: a text is a series of letters, and the target of each window
# is the letter that follows it. If `T >= L` no window has a next value to predict; it is better to
# stop at once with a clear message than to hand an empty batch to a model that fails later,
# somewhere else, with an error about shapes.

# %%
def make_windows(series, T):
    """Cut a time series into overlapping windows, each with the next step as its target.

    Inputs:
    - series: a numpy array of shape (L,) (one value per step) or (L, F) (F values per step).
    - T: the window length, an int with 1 <= T < L.

    Returns a tuple (x, y):
    - x: of shape (L - T, T, F); x[i] is series[i : i + T], the window starting at step i (F = 1 for
      a series of shape (L,)).
    - y: of shape (L - T, F); y[i] is series[i + T], the step right after window i.

    Raises ValueError, saying why, if T < 1 or T >= L: then no window has a step after it to predict.

    Hint: give a 1-D series its feature axis first (series[:, None] or reshape(-1, 1)); then window i is
    series[i : i + T] for i in range(L - T).
    """
    # BEGIN SOLUTION
    if series.ndim == 1:
        series = series[:, None]
    L = len(series)
    if not 1 <= T < L:
        raise ValueError(f"make_windows: T = {T} must be at least 1 and below the series' length {L}, so that "
                         "every window has a next step to predict")
    x = np.stack([series[i : i + T] for i in range(L - T)])
    y = series[T:]  # y[i] = series[i + T]: the series from step T on
    return x, y
    # END SOLUTION
