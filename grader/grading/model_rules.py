"""Check a learner's Keras model from its config JSON and weight arrays, without TensorFlow, and what its
train returned.

The model crosses from the learner's process as data (see `isolation.learner_module.ExportedModel`). The
exercise asks for

    Input((None, V)) -> SimpleRNN(H, tanh, return_sequences=True) -> Dense(V, softmax),

with weights of the matching shapes: kernel (V, H), recurrent_kernel (H, H), bias (H,), dense kernel (H, V),
dense bias (V,). The rules on the config live in `grader/device/architecture.py`, one layer down, because the
device checker applies the same rules to the config inside the saved `.keras` archive; the suites import
`check_architecture` and `recurrent_units` from here, with `check_weights`. A model of another architecture
that the grader runs (`architecture.check_model`) is evaluated by the device checker instead of numpy.
"""

from typing import Any

import numpy as np

from grader.core.errors import LearnerError, Misconception, ModelRejected
from grader.device.architecture import check_architecture, recurrent_units, weight_shapes
from grader.grading.checks import as_data

__all__ = ["check_architecture", "check_weights", "recurrent_units", "unsent_return", "unsent_return_problem"]


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


def unsent_return(error: LearnerError) -> bool:
    """Whether `error` says only that the worker could not send back what the learner's function returned
    (`untrusted/worker.py`: NotData, raised once the function had returned, so in none of the learner's lines):
    the call itself ran to its end, so a model that train was given is trained."""
    return error.type_name == "NotData" and not error.where


def unsent_return_problem(error: LearnerError, what: str) -> AssertionError:
    """The failure of the check of train's return value when the worker could not send it back: the History
    object that model.fit returns, or another object that is not plain data."""
    if "callbacks.history.History object" in error.message:
        return Misconception("train-returns-history", f"{what} returned the History object that model.fit "
                                                      "returns: return its .history, a dict {'loss': [...]}")
    return AssertionError(f"{what} returned an object that is not plain data: return a dict {{'loss': [...]}}")
