"""The reference solutions with what lies outside one process: other interpreters (hash seeds) and
Keras (solutions/next_letter.py, and forward.py against Keras's SimpleRNN)."""

import os
import subprocess
import sys

import numpy as np

from solutions import encoding, forward

WORD = "goodbye!"


def test_alphabet_sorted_and_same_in_every_process(root):
    code = "from solutions.encoding import build_alphabet; print(''.join(build_alphabet('the quick brown fox')))"
    outputs = set()
    for hash_seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        outputs.add(subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True,
                                   text=True, check=True).stdout)
    assert outputs == {"".join(sorted(set("the quick brown fox"))) + "\n"}


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
