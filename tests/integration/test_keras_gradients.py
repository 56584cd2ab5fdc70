"""The hidden backpropagation checks' Keras gradients (grader/suites/hidden/keras_gradients.npz) are what Keras
computes today, and what the reference computes: regenerating them gives the stored arrays."""

import numpy as np

from grader.suites.hidden import keras_gradients
from solutions import backprop


def test_the_stored_keras_gradients_are_what_keras_computes():
    stored, fresh = keras_gradients.load(), keras_gradients.generate()
    assert set(stored) == set(fresh)
    for name, array in fresh.items():
        np.testing.assert_allclose(stored[name], array, rtol=0, atol=1e-12, err_msg=f"{name} drifted: regenerate it")


def test_the_reference_backward_pass_gives_the_keras_gradients():
    k = keras_gradients.load()
    ours = backprop.rnn_backward(k["dh"], k["x"], k["h0"], k["keras_h"], k["kernel"], k["recurrent_kernel"])
    for name, array in zip(keras_gradients.GRADIENTS, ours, strict=True):
        np.testing.assert_allclose(array, k[name], rtol=0, atol=1e-12, err_msg=name)
