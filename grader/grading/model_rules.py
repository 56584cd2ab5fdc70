"""Check a learner's Keras model from its config JSON and weight arrays, without TensorFlow.

The model crosses from the learner's process as data (see `isolation.learner_module.ExportedModel`). Here we
accept only the architecture the exercise asks for,

    Input((None, V)) -> SimpleRNN(H, tanh, return_sequences=True) -> Dense(V, softmax),

built from the device checker's allow-list of Keras classes (`grader/device/archive.py`),
and weights of the matching shapes: kernel (V, H), recurrent_kernel (H, H), bias (H,),
dense kernel (H, V), dense bias (V,).
"""

from typing import Any

import numpy as np

from grader.core.errors import Misconception, ModelRejected
from grader.device.archive import check_classes

LAYERS = ["InputLayer", "SimpleRNN", "Dense"]


def layer_configs(config: dict[str, Any]) -> list[tuple[Any, Any]]:
    """The model's layers as [(class_name, config)], in order."""
    layers = config.get("config", {}).get("layers")
    if config.get("class_name") not in ("Sequential", "Functional") or not isinstance(layers, list):
        raise ModelRejected("build the model with keras.Sequential or keras.Model (the functional API)")
    return [(layer.get("class_name"), layer.get("config", {})) for layer in layers if isinstance(layer, dict)]


def check_architecture(config: dict[str, Any], n_chars: int) -> int:
    """Raise a Misconception or ModelRejected unless `config` is the exercise's architecture."""
    check_classes(config)
    layers = layer_configs(config)
    names = [name for name, _ in layers]
    if names[1:] == LAYERS[1:] and names[0] != "InputLayer":
        names, layers = LAYERS, [("InputLayer", {"batch_shape": [None, None, n_chars]}), *layers]
    if names != LAYERS:
        raise Misconception("wrong-architecture", f"the model's layers are {names}, expected {LAYERS}")
    (_, inputs), (_, rnn), (_, dense) = layers
    shape = inputs.get("batch_shape") or [None, *(inputs.get("input_shape") or [])]
    if list(shape)[1:] != [None, n_chars]:
        raise Misconception(
            "wrong-architecture", f"the input shape is {shape[1:]}, expected (None, {n_chars}): any length"
        )
    if not rnn.get("return_sequences"):
        raise Misconception("return-sequences-false", "SimpleRNN has return_sequences=False")
    for key, wanted in (("activation", "tanh"), ("use_bias", True), ("go_backwards", False),
                        ("stateful", False), ("return_state", False)):
        if rnn.get(key, wanted) != wanted:
            raise Misconception("wrong-architecture", f"SimpleRNN has {key}={rnn.get(key)!r}, expected {wanted!r}")
    if dense.get("activation") != "softmax":
        raise Misconception("wrong-output-activation",
                            f"the Dense layer's activation is {dense.get('activation')!r}, expected 'softmax'")
    if dense.get("units") != n_chars or dense.get("use_bias") is False:
        raise Misconception("wrong-architecture", f"the Dense layer must have {n_chars} units and a bias")
    return int(rnn.get("units"))


def check_weights(weights: list[Any], n_chars: int, units: int) -> list[np.ndarray]:
    """Return the five weight arrays as float64 if their shapes and values are usable."""
    shapes = [(n_chars, units), (units, units), (units,), (units, n_chars), (n_chars,)]
    got = [getattr(w, "shape", None) for w in weights]
    if got != shapes:
        raise ModelRejected(f"the model's weights have shapes {got}, expected {shapes}")
    if not all(np.all(np.isfinite(w)) for w in weights):
        raise ModelRejected("the model's weights contain inf or nan: training diverged")
    return [np.asarray(w, dtype=np.float64) for w in weights]
