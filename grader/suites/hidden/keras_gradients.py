"""Gradients taken from Keras itself: tf.GradientTape through a SimpleRNN on random weights, in float64.

The hidden backpropagation checks compare the learner's numpy gradients with these, so grading needs no
TensorFlow. Regenerate with `python -m grader.suites.hidden.keras_gradients`;
tests/integration/test_keras_values.py recomputes them with Keras and fails if the stored file drifts.
"""

from pathlib import Path

import numpy as np

from grader.suites.hidden import keras_values

PATH = Path(__file__).with_name("keras_gradients.npz")
N, T, D, H = 2, 5, 4, 3
# What each gradient is taken with respect to, in the order the learner's rnn_backward returns them.
GRADIENTS = ("dx", "dh0", "dkernel", "drecurrent_kernel", "dbias")


def generate(seed=2025):
    """Run a float64 SimpleRNN from a random initial state under a GradientTape; return its inputs, weights,
    states and the gradients of sum(dh * h) with respect to x, the initial state and the three weights."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    layer = keras.layers.SimpleRNN(H, return_sequences=True, dtype="float64")
    layer.build((None, T, D))
    layer.set_weights([rng.normal(size=w.shape) * 0.5 for w in layer.get_weights()])
    kernel, recurrent_kernel, bias = layer.get_weights()
    x, h0, dh = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)) * 0.5, rng.normal(size=(N, T, H))
    x_tensor, h0_tensor = tf.constant(x), tf.constant(h0)
    with tf.GradientTape() as tape:
        tape.watch([x_tensor, h0_tensor])
        h = layer(x_tensor, initial_state=[h0_tensor])
        loss = tf.reduce_sum(dh * h)
    gradients = tape.gradient(loss, [x_tensor, h0_tensor, *layer.trainable_weights])
    return {"x": x, "h0": h0, "kernel": kernel, "recurrent_kernel": recurrent_kernel, "bias": bias, "dh": dh,
            "keras_h": np.asarray(h), **{name: np.asarray(g) for name, g in zip(GRADIENTS, gradients, strict=True)}}


def load():
    return keras_values.load(PATH)


if __name__ == "__main__":
    keras_values.regenerate(PATH, generate)
