"""Expected values taken from Keras itself: a SimpleRNN + Dense model on random (not default) weights.

The hidden forward-pass checks compare the learner's numpy code with these outputs, so grading needs
no TensorFlow. Regenerate with `python -m grader.suites.hidden.keras_reference`;
tests/integration/test_keras_values.py recomputes them with Keras and fails if the stored file drifts.
"""

from pathlib import Path

import numpy as np

from grader.suites.hidden import keras_values

PATH = Path(__file__).with_name("keras_reference.npz")
N, T, D, H = 3, 6, 5, 4


def generate(seed=2024):
    """Build the Keras model, set random weights, and return every array the checks need."""
    import keras

    rng = np.random.default_rng(seed)
    inputs = keras.Input((None, D))
    hidden = keras.layers.SimpleRNN(H, return_sequences=True)(inputs)
    outputs = keras.layers.Dense(D, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    kernel, recurrent_kernel, bias, dense_kernel, dense_bias = model.get_weights()
    x = rng.normal(size=(N, T, D)).astype(np.float32)
    return {
        "x": x, "kernel": kernel, "recurrent_kernel": recurrent_kernel, "bias": bias,
        "dense_kernel": dense_kernel, "dense_bias": dense_bias,
        "keras_h": np.asarray(keras.Model(inputs, hidden)(x)), "keras_p": np.asarray(model(x)),
    }


def load():
    return keras_values.load(PATH)


if __name__ == "__main__":
    keras_values.regenerate(PATH, generate)
