"""The reference solutions meet the exercise contract (shapes, dtypes, errors, determinism, Keras)."""

import os
import subprocess
import sys

import numpy as np
import pytest

from solutions import encoding, forward

WORD = "goodbye!"


def test_alphabet_sorted_and_same_in_every_process(root):
    assert encoding.build_alphabet(WORD) == ["!", "b", "d", "e", "g", "o", "y"]
    code = "from solutions.encoding import build_alphabet; print(''.join(build_alphabet('the quick brown fox')))"
    outputs = set()
    for hash_seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        outputs.add(subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True,
                                   text=True, check=True).stdout)
    assert outputs == {"".join(sorted(set("the quick brown fox"))) + "\n"}


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


def test_forward_equals_keras_on_random_weights():
    """numpy SimpleRNN + Dense equals Keras on random (not default) weights within 1e-5."""
    import keras

    from solutions.next_letter import build_model

    rng = np.random.default_rng(5)
    model = build_model(7, units=6)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    x = rng.normal(size=(3, 9, 7)).astype(np.float32)
    kernel, recurrent, bias, dense_kernel, dense_bias = model.get_weights()
    ours = forward.output_layer(forward.rnn_forward(x, kernel, recurrent, bias), dense_kernel, dense_bias)
    assert np.max(np.abs(ours - np.asarray(model(x)))) < 1e-5
    hidden = keras.Model(model.inputs[0], model.layers[0].output)
    assert np.max(np.abs(forward.rnn_forward(x, kernel, recurrent, bias) - np.asarray(hidden(x)))) < 1e-5


def test_train_defaults_learn_every_predictable_letter_for_five_seeds():
    """The contract: 100 % on every determined position of goodbye! for 5 of 5 seeds (window 3)."""
    import keras

    from grader.grading.evaluation import score_prefixes
    from solutions.next_letter import build_model, train

    for seed in range(5):
        x, y, alphabet = encoding.make_dataset(WORD, 3, 400, seed)
        keras.utils.set_random_seed(seed)
        model = build_model(len(alphabet))
        history = train(model, x, y, seed=seed)
        assert len(history["loss"]) >= 1 and history["loss"][-1] < history["loss"][0]
        k, r, b, dk, db = model.get_weights()
        score = score_prefixes(WORD, alphabet, lambda z, k=k, r=r, b=b, dk=dk, db=db:
                               forward.output_layer(forward.rnn_forward(z, k, r, b), dk, db), range(1, 4))
        assert score.accuracy == 1.0, f"seed {seed}: {score}"


def test_train_is_reproducible_and_predict_next_takes_any_prefix():
    import keras

    from solutions.next_letter import build_model, predict_next, train

    x, y, alphabet = encoding.make_dataset(WORD, 3, 64, 0)
    weights = []
    for _ in range(2):
        keras.utils.set_random_seed(1)
        model = build_model(len(alphabet))
        train(model, x, y, epochs=2, seed=5)
        weights.append(model.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(*weights, strict=True))
    assert all(predict_next(model, alphabet, p) in alphabet for p in ("g", "goodbye!goodbye"))
