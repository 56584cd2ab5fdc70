"""Check a learner's Keras model from its config JSON and weight arrays, without TensorFlow.

The model crosses from the learner's process as data (see `isolation.learner_module.ExportedModel`). Here we
accept only the architecture the exercise asks for,

    Input((None, V)) -> SimpleRNN(H, tanh, return_sequences=True) -> Dense(V, softmax),

and weights of the matching shapes: kernel (V, H), recurrent_kernel (H, H), bias (H,), dense kernel (H, V),
dense bias (V,). The rules on the config live in `grader/device/architecture.py`, one layer down, because the
device checker applies the same rules to the config inside the saved `.keras` archive; the suites import
`check_architecture` from here, with `check_weights`.
"""

from typing import Any

import numpy as np

from grader.core.errors import ModelRejected
from grader.device.architecture import check_architecture, weight_shapes
from grader.grading.checks import as_data

__all__ = ["check_architecture", "check_weights"]


def check_weights(weights: Any, n_chars: int, units: int) -> list[np.ndarray]:
    """Return the five weight arrays as float64 if their shapes and values are usable.

    weights: what the worker sent as the model's weights, which should be a list of arrays.
    """
    shapes = weight_shapes(n_chars, units)
    arrays = as_data(weights, "the model's get_weights()", list, items=np.ndarray)
    got = [w.shape for w in arrays]
    if got != shapes:
        raise ModelRejected(f"the model's weights have shapes {got}, expected {shapes}")
    with np.errstate(over="ignore"):  # a float128 weight beyond float64's range is inf here
        arrays = [np.asarray(w, dtype=np.float64) for w in arrays]
    if not all(np.all(np.isfinite(w)) for w in arrays):
        raise ModelRejected("the model's weights contain inf or nan: training diverged")
    return arrays
