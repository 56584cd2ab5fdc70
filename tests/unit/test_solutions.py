"""The reference solutions' numpy contract (solutions/sequences.py, solutions/encoding.py,
solutions/forward.py): shapes, dtypes, errors, determinism."""

import numpy as np
import pytest

from solutions import encoding, forward, sequences

WORD = "goodbye!"


def test_alphabet_is_sorted():
    assert encoding.build_alphabet(WORD) == ["!", "b", "d", "e", "g", "o", "y"]


def test_encode_shape_dtype_one_hot():
    alphabet = encoding.build_alphabet(WORD)
    x = encoding.encode(alphabet, ["goo", "bye"], 3)
    assert x.shape == (2, 3, 7) and x.dtype == np.float32
    assert np.array_equal(x.sum(-1), np.ones((2, 3)))
    assert encoding.decode(alphabet, x) == ["goo", "bye"]


@pytest.mark.parametrize("samples, culprit", [(["gox"], "'x'"), (["go"], "'go'")])
def test_encode_rejects_bad_input_naming_it(samples, culprit):
    with pytest.raises(ValueError, match=culprit):
        encoding.encode(encoding.build_alphabet(WORD), samples, 3)


def test_decode_takes_argmax_of_probabilities():
    probabilities = np.array([[[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]]])
    assert encoding.decode(["a", "b", "c"], probabilities) == ["ba"]


def test_dataset_targets_are_next_letters_and_reproducible():
    x, y, alphabet = encoding.make_dataset(WORD, 5, 50, seed=3)
    assert x.shape == y.shape == (50, 5, 7)
    cyclic = WORD * 3
    for given, target in zip(encoding.decode(alphabet, x), encoding.decode(alphabet, y), strict=True):
        start = cyclic.index(given)
        assert target == cyclic[start + 1 : start + 6]
    again = encoding.make_dataset(WORD, 5, 50, seed=3)
    assert np.array_equal(x, again[0]) and np.array_equal(y, again[1])
    assert not np.array_equal(x, encoding.make_dataset(WORD, 5, 50, seed=4)[0])


def test_windows_longer_than_the_text():
    x, y, alphabet = encoding.make_dataset("ab", 5, 4, seed=0)
    assert x.shape == (4, 5, 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_shapes_and_h0(dtype):
    rng = np.random.default_rng(0)
    N, T, D, H = 2, 4, 3, 5
    x = rng.normal(size=(N, T, D)).astype(dtype)
    W_xh, W_hh, b = (rng.normal(size=s).astype(dtype) for s in [(D, H), (H, H), (H,)])
    h = forward.rnn_forward(x, W_xh, W_hh, b)
    assert h.shape == (N, T, H) and h.dtype == dtype
    h0 = rng.normal(size=(N, H)).astype(dtype)
    assert np.allclose(forward.rnn_forward(x, W_xh, W_hh, b, h0)[:, 0], forward.rnn_step(x[:, 0], h0, W_xh, W_hh, b))


def test_softmax_stable_and_over_last_axis():
    p = forward.softmax(np.array([[1000.0, 1000.0, 0.0]]))
    assert np.all(np.isfinite(p)) and np.allclose(p, [[0.5, 0.5, 0.0]])
    z = np.random.default_rng(1).normal(size=(2, 3, 4))
    assert np.allclose(forward.softmax(z).sum(-1), 1)


@pytest.mark.parametrize("shape", [(9,), (9, 3)])
def test_windows_overlap_and_end_at_the_last_value(shape):
    series = np.arange(np.prod(shape)).reshape(shape)
    x, y = sequences.make_windows(series, 4)
    F = shape[1] if len(shape) == 2 else 1
    assert x.shape == (5, 4, F) and y.shape == (5, F)
    assert np.array_equal(x[1:, :-1], x[:-1, 1:])  # neighbours share T - 1 steps
    assert np.array_equal(y[-1], series.reshape(9, F)[-1]) and np.array_equal(y[:-1], x[1:, -1])


@pytest.mark.parametrize("T", [0, -1, 3, 7])
def test_windows_refused_with_the_reason(T):
    with pytest.raises(ValueError, match=f"T = {T} must be at least 1 and below the series' length 3"):
        sequences.make_windows(np.arange(3.0), T)


def test_negative_timestep_counts_from_the_end():
    x = np.arange(24).reshape(2, 3, 4)
    assert np.array_equal(sequences.timestep(x, -1), sequences.timestep(x, 2))
    assert np.array_equal(sequences.to_batch_major(sequences.to_time_major(x)), x)
