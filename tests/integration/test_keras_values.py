"""The arrays the hidden checks take from Keras (grader/suites/hidden/keras_*.npz) are what Keras computes
today, and the reference agrees with them: regenerating them gives the stored arrays."""

import numpy as np
import pytest

from grader.suites.hidden import keras_gradients, keras_reference
from solutions import backprop


# The forward pass is stored as Keras computes it, in float32; the gradients in float64.
@pytest.mark.parametrize("producer, atol", [(keras_reference, 1e-6), (keras_gradients, 1e-12)],
                         ids=["keras_reference", "keras_gradients"])
def test_the_stored_arrays_are_what_keras_computes(producer, atol):
    stored, fresh = producer.load(), producer.generate()
    assert set(stored) == set(fresh)
    for name, array in fresh.items():
        np.testing.assert_allclose(stored[name], array, rtol=0, atol=atol, err_msg=f"{name} drifted: regenerate it")


def test_the_reference_backward_pass_gives_the_keras_gradients():
    k = keras_gradients.load()
    ours = backprop.rnn_backward(k["dh"], k["x"], k["h0"], k["keras_h"], k["kernel"], k["recurrent_kernel"])
    for name, array in zip(keras_gradients.GRADIENTS, ours, strict=True):
        np.testing.assert_allclose(array, k[name], rtol=0, atol=1e-12, err_msg=name)
