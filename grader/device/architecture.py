"""The model the grader accepts, as rules on its Keras config, for the grade process and the device checker alike.

One implementation for both copies of a learner's model: the config its worker exports (checked in the grade
process: `grading/model_rules.py`) and the `config.json` inside the saved `.keras` archive (checked in the device
checker before Keras builds anything: `archive.py`). The worker writes both, so neither is believed more than
the other. The exercise's architecture is

    Input((None, V)) -> SimpleRNN(H, tanh, return_sequences=True) -> Dense(V, softmax),   1 <= H <= MAX_UNITS,

built from an allow-list of Keras classes (no Lambda, no custom layers, no modules of the learner's). Keras
allocates each layer's weights from the config as it builds the model (from `units`, and from the input shape
in the layer's `build_config`), so these rules also bound what building the model can cost.
"""

from collections.abc import Iterator
from typing import Any

from grader.core.errors import Misconception, ModelRejected

ALLOWED_MODULES = {
    "keras", "keras.layers", "keras.initializers", "keras.optimizers", "keras.regularizers",
    "keras.constraints", "keras.losses", "keras.metrics", "keras.models", "keras.src.models.functional",
}
ALLOWED_CLASSES = {
    "Sequential", "Functional", "InputLayer", "SimpleRNN", "Dense", "DTypePolicy", "FloatDTypePolicy",
    "GlorotUniform", "GlorotNormal", "Orthogonal", "Zeros", "Ones", "Constant", "RandomNormal",
    "RandomUniform", "TruncatedNormal", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "Identity",
    "Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adamax", "Nadam", "L1", "L2", "L1L2", "MaxNorm",
    "NonNeg", "UnitNorm", "MinMaxNorm", "CategoricalCrossentropy", "CategoricalAccuracy", "Accuracy",
    "MeanMetricWrapper", "Mean", "ExponentialDecay", "__tensor__", "__keras_tensor__",
}
LAYERS = ["InputLayer", "SimpleRNN", "Dense"]
# The exercise uses 8. The bound keeps a trained model's weights and its optimizer's state well inside the
# archive's size cap (archive.MAX_ARCHIVE_BYTES); a rewritten config asking for 24000 made the checker allocate
# 2.8 GB before any weight was read.
MAX_UNITS = 512
# Where a config gives a shape that Keras builds weights from: the input layer's, the model's and each layer's
# build shape, and the tensors a functional model records between its layers.
SHAPE_KEYS = ("batch_shape", "input_shape", "build_input_shape", "shape")
# The dtype of a layer's weights under each dtype policy Keras accepts here: mixed precision keeps float32 weights.
WEIGHT_DTYPES = {"float16": "float16", "float32": "float32", "float64": "float64",
                 "mixed_float16": "float32", "mixed_bfloat16": "float32"}


def config_nodes(node: Any, path: str = "model") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every dict in a config tree, parents first, with where it is (`model.config.layers[1]`)."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from config_nodes(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from config_nodes(value, f"{path}.{key}")


def check_classes(config: Any) -> None:
    """Reject any class outside the allow-list, anywhere in the config tree."""
    for path, node in config_nodes(config):
        if "class_name" not in node:
            continue
        module, name, registered = node.get("module"), node.get("class_name"), node.get("registered_name")
        if not all(isinstance(value, str | None) for value in (module, name, registered)):
            raise ModelRejected(f"the model's config names a class with something other than a string (at {path}): "
                                "build the model from keras.Input and keras.layers, and save nothing else in it")
        if (module is not None and module not in ALLOWED_MODULES) or name not in ALLOWED_CLASSES:
            raise ModelRejected(f"the model uses {module}.{name} (at {path}); the grader accepts only Input, "
                                "SimpleRNN and Dense layers from keras.layers")
        if registered not in (None, name):
            raise ModelRejected(f"the model uses a custom registered object {registered!r} (at {path})")


def layer_configs(config: Any) -> list[tuple[Any, dict[str, Any]]]:
    """The model's layers as [(class_name, config)], in order; ModelRejected unless the config has the form
    Keras writes (the worker sends any JSON it likes)."""
    body = config.get("config") if isinstance(config, dict) else None
    layers = body.get("layers") if isinstance(body, dict) else None
    if not isinstance(layers, list) or config.get("class_name") not in ("Sequential", "Functional"):
        raise ModelRejected("build the model with keras.Sequential or keras.Model (the functional API)")
    found = [(layer.get("class_name"), layer.get("config", {})) for layer in layers if isinstance(layer, dict)]
    if not all(isinstance(layer, dict) for _, layer in found):
        raise ModelRejected("a layer's config in the model's config is not an object: build the model from "
                            "keras.Input and keras.layers, and save nothing else in it")
    return found


def check_architecture(config: dict[str, Any], n_chars: int) -> int:
    """Raise a Misconception or ModelRejected unless `config` is the exercise's architecture; its units."""
    check_classes(config)
    layers = layer_configs(config)
    names = [name for name, _ in layers]
    if names[1:] == LAYERS[1:] and names[0] != "InputLayer":
        names, layers = LAYERS, [("InputLayer", {"batch_shape": [None, None, n_chars]}), *layers]
    if names != LAYERS:
        raise Misconception("wrong-architecture", f"the model's layers are {names}, expected {LAYERS}")
    (_, inputs), (_, rnn), (_, dense) = layers
    shape = inputs.get("batch_shape")
    if not shape and isinstance(inputs.get("input_shape"), list):
        shape = [None, *inputs["input_shape"]]
    if not isinstance(shape, list) or shape[1:] != [None, n_chars]:
        raise Misconception(
            "wrong-architecture",
            f"the input shape is {shape[1:] if isinstance(shape, list) else shape!r}, expected (None, {n_chars}): "
            "any length"
        )
    units = check_units(rnn)
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
    check_shapes(config, {n_chars, units})
    return units


def check_units(rnn: dict[str, Any]) -> int:
    """The SimpleRNN's units, if a whole number from 1 to MAX_UNITS."""
    units = rnn.get("units")
    if type(units) is not int or not 1 <= units <= MAX_UNITS:  # `type`, not isinstance: True is an int too
        raise ModelRejected(f"SimpleRNN has units={units!r}; the grader runs models of 1 to {MAX_UNITS} units: in "
                            "build_model, give SimpleRNN the units that build_model is called with")
    return units


def check_shapes(config: dict[str, Any], features: set[int]) -> None:
    """Refuse a shape, anywhere in the config, whose last (feature) dimension is not one the architecture has:
    Keras builds a layer's weights from the input shape in its `build_config`, so a SimpleRNN said to be built
    for 10**7 features allocated 1.6 GB whatever its units."""
    for path, node in config_nodes(config):
        for key in SHAPE_KEYS:
            shape = node.get(key)
            if shape is not None and not is_shape(shape, features):
                raise ModelRejected(f"the model's config has {key}={shape!r} (at {path}); every shape must end "
                                    f"in one of {sorted(features)} features: build the model from "
                                    "Input((None, n_chars)) and let Keras work out the other shapes")


def is_shape(shape: Any, features: set[int]) -> bool:
    """Whether `shape` is at most (batch, time, features), each None or a count, with `features` one of those given."""
    return (isinstance(shape, list) and 1 <= len(shape) <= 3
            and all(dim is None or (type(dim) is int and dim >= 0) for dim in shape) and shape[-1] in features)


def weight_shapes(n_chars: int, units: int) -> list[tuple[int, ...]]:
    """The weights the architecture has, in Keras's order: SimpleRNN kernel (V, H), recurrent kernel (H, H) and
    bias (H,); Dense kernel (H, V) and bias (V,)."""
    return [(n_chars, units), (units, units), (units,), (units, n_chars), (n_chars,)]


def weight_dtype(layer: dict[str, Any]) -> str:
    """The dtype Keras gives the weights of a layer with this config (its dtype policy; float32 when none)."""
    policy = layer.get("dtype")
    name = policy.get("config", {}).get("name") if isinstance(policy, dict) else policy
    dtype = WEIGHT_DTYPES.get(name or "float32") if isinstance(name, str | None) else None
    if dtype is None:
        raise ModelRejected(f"a layer has dtype {name!r}; the grader runs models of dtype float32 (the default), "
                            "float16, float64 or a mixed_ policy: build the layers without a dtype argument")
    return dtype
