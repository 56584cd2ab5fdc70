"""The models the grader runs and the one the exercise asks for, as rules on a Keras config, for the grade process
and the device checker alike.

One implementation for both copies of a learner's model: the config its worker exports (checked in the grade
process: `grading/model_rules.py`) and the `config.json` inside the saved `.keras` archive (checked in the device
checker before Keras builds anything: `archive.py`). The worker writes both, so neither is believed more than
the other. Two levels of rules:

- `check_model`: a model the device checker may build and run. One chain of builtin Keras layers from an
  allow-list (recurrent layers, Dense, Dropout, activation layers; no Lambda, no custom layers, no modules of the
  learner's), at most MAX_LAYERS of them, each of 1 to MAX_UNITS units. Keras allocates each layer's weights from
  the config as it builds the model (from `units`, and from the input shape in the layer's `build_config`), so
  these rules also bound what building the model can cost. A model outside them is refused (`ModelRejected`).
- `check_architecture`: the exercise's model,

      Input((None, V)) -> SimpleRNN(H, tanh, return_sequences=True) -> Dense(V, softmax),

  judged by what it computes: an activation given as a function (`tf.nn.softmax`) or as a separate layer after a
  linear Dense (`Activation("softmax")`, `Softmax()`), `TimeDistributed(Dense(...))`, Sequential or functional,
  `tf.keras` or `keras`, are all this model. Another runnable model is a `Misconception` naming what differs:
  the grader still runs it, in the device checker, for the checks that do not depend on its architecture.
"""

import difflib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from grader.core.errors import Misconception, ModelRejected

ALLOWED_MODULES = {
    "keras", "keras.layers", "keras.initializers", "keras.optimizers", "keras.regularizers",
    "keras.constraints", "keras.losses", "keras.metrics", "keras.models", "keras.src.models.functional",
}
# Weights per unit of a recurrent layer's kernels: SimpleRNN one, GRU three gates, LSTM four.
RECURRENT = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
# Layers without weights: what each computes at inference is a function of its config alone.
WEIGHTLESS = ("Dropout", "Activation", "Softmax", "ReLU", "LeakyReLU")
WEIGHTED = (*RECURRENT, "Dense")
LAYER_CLASSES = {"InputLayer", *WEIGHTED, "TimeDistributed", *WEIGHTLESS}
ALLOWED_CLASSES = {
    *LAYER_CLASSES, "Sequential", "Functional", "DTypePolicy", "FloatDTypePolicy",
    "GlorotUniform", "GlorotNormal", "Orthogonal", "Zeros", "Ones", "Constant", "RandomNormal",
    "RandomUniform", "TruncatedNormal", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "Identity",
    "Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adamax", "Nadam", "L1", "L2", "L1L2", "MaxNorm",
    "NonNeg", "UnitNorm", "MinMaxNorm", "CategoricalCrossentropy", "CategoricalAccuracy", "Accuracy",
    "MeanMetricWrapper", "Mean", "ExponentialDecay", "__tensor__", "__keras_tensor__",
}
RUNNABLE = "Input, SimpleRNN, GRU, LSTM, Dense, TimeDistributed(Dense), Dropout, Activation, Softmax, ReLU, LeakyReLU"
# Keras's activations (keras.activations, 3.15), which Keras looks up by name: a config may name these alone.
ACTIVATIONS = frozenset({
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid",
    "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax",
    "squareplus", "swish", "tanh", "tanh_shrink", "threshold",
})
# TensorFlow functions that Keras saves under their own name, as {"module": "builtins", "class_name": "function",
# "config": NAME}, which Keras itself cannot load again: `tf.nn.softmax` and `tf.math.softmax` are "softmax_v2".
# Each computes the Keras activation it is mapped to. (`tf.nn.tanh`, `tf.nn.relu`, `tf.nn.sigmoid` and Keras's
# own activations, `keras.activations.softmax` too, are saved by their name already: "tanh".)
TF_FUNCTIONS = {"softmax_v2": "softmax", "log_softmax_v2": "log_softmax", "swish": "silu", "exp": "exponential",
                "identity": "linear"}
EXERCISE = ["SimpleRNN", "Dense"]
MAX_LAYERS = 8
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
# The group Keras 3 saves a layer's weights under in model.weights.h5: its class's name in snake case, numbered
# from the second layer of a class on (`dense`, `dense_1`), never the name the learner gave the layer.
GROUPS = {"SimpleRNN": "simple_rnn", "GRU": "gru", "LSTM": "lstm", "Dense": "dense",
          "TimeDistributed": "time_distributed"}
BUILD_WITH = "build the model from keras.Input and keras.layers, and save nothing else in it"


@dataclass(frozen=True)
class Layer:
    """One layer of a checked model: its class (`Dense` for a TimeDistributed Dense too), its config (the
    wrapped Dense's, for TimeDistributed), where Keras saves its weights (`layers/dense_1`), and, for a layer
    that ends in one, the activation it applies last."""

    kind: str
    config: dict[str, Any]
    group: str | None = None
    activation: str | None = None


@dataclass(frozen=True)
class Model:
    """A model `check_model` accepts: its input's batch shape and its layers after the input, in order."""

    input_shape: list[Any]
    layers: list[Layer]

    def weights(self) -> list[tuple[str, tuple[int, ...], str]]:
        """Every weight the model has, in Keras's order: (its path in model.weights.h5, shape, dtype)."""
        found, features = [], self.input_shape[-1]
        for layer in self.layers:
            for name, shape in layer_weights(layer, features):
                found.append((f"{layer.group}/{name}", shape, weight_dtype(layer.config)))
            features = layer.config["units"] if layer.kind in WEIGHTED else features
        return found

    def computes(self) -> list[Layer]:
        """The layers as what they compute: an activation layer after a Dense that applies none is that
        Dense's activation, and a linear activation layer computes nothing."""
        steps: list[Layer] = []
        for layer in self.layers:
            if layer.kind in WEIGHTLESS and layer.activation == "linear":
                continue
            if layer.kind in WEIGHTLESS and layer.activation and steps and steps[-1].kind == "Dense" \
                    and steps[-1].activation == "linear":
                steps[-1] = replace(steps[-1], activation=layer.activation)
                continue
            steps.append(layer)
        return steps


def config_nodes(node: Any, path: str = "model") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every dict in a config tree, parents first, with where it is (`model.config.layers[1]`)."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from config_nodes(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from config_nodes(value, f"{path}.{key}")


def canonical(node: Any, path: str = "model") -> Any:
    """`node` with each TensorFlow function Keras saved by its own name (`TF_FUNCTIONS`) replaced by the Keras
    activation it computes, as Keras saves that one: the config the device checker gives Keras to build."""
    if isinstance(node, list):
        return [canonical(item, f"{path}[{i}]") for i, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    if node.get("module") == "builtins" and node.get("class_name") == "function":
        name = node.get("config")
        if node.get("registered_name") == "function" and isinstance(name, str) and name in TF_FUNCTIONS:
            return TF_FUNCTIONS[name]
        raise ModelRejected(f"the model uses the function {str(name)[:40]!r} (at {path}), which Keras cannot load "
                            "again: give the activation by its name, as in activation='softmax'")
    return {key: canonical(value, f"{path}.{key}") for key, value in node.items()}


def check_classes(config: Any) -> None:
    """Reject any class outside the allow-list, anywhere in the config tree."""
    for path, node in config_nodes(config):
        if "class_name" not in node:
            continue
        module, name, registered = node.get("module"), node.get("class_name"), node.get("registered_name")
        if not all(isinstance(value, str | None) for value in (module, name, registered)):
            raise ModelRejected(f"the model's config names a class with something other than a string (at {path}): "
                                f"{BUILD_WITH}")
        if (module is not None and module not in ALLOWED_MODULES) or name not in ALLOWED_CLASSES:
            raise ModelRejected(f"the model uses {module}.{name} (at {path}); the grader runs models of these "
                                f"layers from keras.layers only: {RUNNABLE}")
        if registered not in (None, name):
            raise ModelRejected(f"the model uses a custom registered object {registered!r} (at {path})")


def layer_configs(config: Any) -> list[tuple[Any, dict[str, Any]]]:
    """The model's layers as [(class_name, config)], in order; ModelRejected unless the config has the form
    Keras writes (the worker sends any JSON it likes)."""
    return [(entry.get("class_name"), entry["config"]) for entry in layer_entries(config)]


def layer_entries(config: Any) -> list[dict[str, Any]]:
    """The model's layers as Keras writes them ({"class_name", "config", ...}), each config an object."""
    body = config.get("config") if isinstance(config, dict) else None
    layers = body.get("layers") if isinstance(body, dict) else None
    if not isinstance(layers, list) or config.get("class_name") not in ("Sequential", "Functional"):
        raise ModelRejected("build the model with keras.Sequential or keras.Model (the functional API)")
    entries = [{**layer, "config": layer.get("config", {})} for layer in layers if isinstance(layer, dict)]
    if len(entries) != len(layers) or not all(isinstance(entry["config"], dict) for entry in entries):
        raise ModelRejected(f"a layer's config in the model's config is not an object: {BUILD_WITH}")
    return entries


def check_model(config: Any, n_chars: int) -> Model:
    """The model `config` describes, if the device checker may build and run it on inputs of `n_chars`
    features (see the module's docstring); else ModelRejected, or a Misconception for a learner's mistake that
    makes it unrunnable (an input of other features, a stateful layer)."""
    config = canonical(config)
    check_classes(config)
    entries = layer_entries(config)
    if config["class_name"] == "Functional":
        check_chain(config["config"], entries)
    if entries and entries[0].get("class_name") != "InputLayer" and config["class_name"] == "Sequential":
        # A Sequential never built (no Input, never called) has no input layer yet: Keras gives it one.
        entries = [{"class_name": "InputLayer", "config": {"batch_shape": [None, None, n_chars]}}, *entries]
    if not entries or len(entries) > MAX_LAYERS + 1:
        raise ModelRejected(f"the model has {max(len(entries) - 1, 0)} layers after its input; the grader runs "
                            f"models of 1 to {MAX_LAYERS}")
    first, *rest = entries
    names = [entry.get("class_name") for entry in rest]
    if first.get("class_name") != "InputLayer" or "InputLayer" in names:
        raise ModelRejected("the model must start with keras.Input((None, n_chars)), and have one input")
    counts: Counter[str] = Counter()
    layers = [checked_layer(entry, counts) for entry in rest]
    model = Model(input_shape(first["config"], n_chars), layers)
    check_shapes(config, {n_chars, *(layer.config["units"] for layer in layers if layer.kind in WEIGHTED)})
    model.weights()  # every layer's dtype is one the grader runs
    return model


def check_chain(body: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """A functional model must be one chain, each layer called once on the one before it: the layers are then
    in the order they compute, as a Sequential's are."""
    def end(value: Any) -> Any:  # ["name", 0, 0], or [["name", 0, 0]]
        value = value[0] if isinstance(value, list) and len(value) == 1 else value
        return value[0] if isinstance(value, list) and len(value) == 3 else None

    names = [entry.get("name") for entry in entries]
    chained = bool(entries) and end(body.get("input_layers")) == names[0] and \
        end(body.get("output_layers")) == names[-1]
    for previous, entry in zip(names[:-1], entries[1:], strict=True):
        nodes = entry.get("inbound_nodes")
        tensors = [node for _, node in config_nodes(nodes) if node.get("class_name") == "__keras_tensor__"]
        tensor = tensors[0].get("config") if len(tensors) == 1 else None
        history = tensor.get("keras_history") if isinstance(tensor, dict) else None
        chained = chained and isinstance(nodes, list) and len(nodes) == 1 and isinstance(history, list) \
            and history[:1] == [previous]
    if not chained:
        raise ModelRejected("the functional model is not one chain of layers from its input to its output: call "
                            "each layer once, on the output of the layer before it")


def checked_layer(entry: dict[str, Any], counts: Counter[str]) -> Layer:
    """One layer after the input, if the grader runs it: units, activations and options within bounds."""
    kind, config = entry.get("class_name"), entry["config"]
    group = None
    if kind in GROUPS:
        group = f"layers/{GROUPS[kind]}" + (f"_{counts[kind]}" if counts[kind] else "")
        counts[kind] += 1
    if kind == "TimeDistributed":
        inner = config.get("layer")
        if not isinstance(inner, dict) or inner.get("class_name") != "Dense" or not isinstance(inner.get("config"),
                                                                                              dict):
            raise ModelRejected("the grader runs TimeDistributed around a Dense layer only (a Dense applies to every "
                                "step by itself)")
        weight_dtype(config)
        kind, config, group = "Dense", inner["config"], f"{group}/layer"
    if kind in ("Sequential", "Functional"):
        raise ModelRejected("the model holds another model as a layer: build one model of keras.layers")
    if kind not in LAYER_CLASSES:
        raise ModelRejected(f"the model's config has a layer of class {str(kind)[:40]!r}: {BUILD_WITH}")
    if kind in WEIGHTED:
        check_units(kind, config)
    if kind in RECURRENT:
        for key in ("stateful", "return_state"):
            if config.get(key, False) is not False:
                raise Misconception("wrong-architecture", f"{kind} has {key}={config.get(key)!r}, expected False")
    if kind == "Dense" and (config.get("lora_rank") is not None or config.get("quantization_config") is not None):
        raise ModelRejected("the model's Dense layer is set up for LoRA or quantization: use a plain Dense layer")
    for key in ("activation", "recurrent_activation"):
        if config.get(key) is not None and not (isinstance(config[key], str) and config[key] in ACTIVATIONS):
            raise ModelRejected(f"{kind} has {key}={str(config[key])[:40]!r}; the grader runs Keras's activations, "
                                "given by name (activation='softmax')")
    return Layer(kind, config, group, applied_activation(kind, config))


def applied_activation(kind: str, config: dict[str, Any]) -> str | None:
    """The activation a layer applies last, by its Keras name (for a Softmax layer over another axis than the
    letters, what it is), or None for a layer that ends in none (a recurrent layer's, Dropout)."""
    if kind in ("Dense", "Activation"):
        return config.get("activation") or "linear"
    if kind == "Softmax":
        axis = config.get("axis", -1)
        return "softmax" if axis in (-1, 2, [-1], [2]) else f"softmax over axis {str(axis)[:20]}"
    return {"ReLU": "relu", "LeakyReLU": "leaky_relu"}.get(kind)


def input_shape(config: dict[str, Any], n_chars: int) -> list[Any]:
    """The input layer's batch shape, if it takes `n_chars` features."""
    shape = config.get("batch_shape")
    if not shape and isinstance(config.get("input_shape"), list):
        shape = [None, *config["input_shape"]]
    if not isinstance(shape, list) or len(shape) != 3 or shape[-1] != n_chars:
        raise Misconception(
            "wrong-architecture",
            f"the input shape is {shape[1:] if isinstance(shape, list) else shape!r}, expected (None, {n_chars}): "
            "any length"
        )
    return shape


def check_architecture(config: Any, n_chars: int) -> int:
    """The exercise's model's units, if `config` is that model for `n_chars` letters; else a Misconception saying
    what differs (the model may still be run: `check_model`) or ModelRejected (it may not)."""
    model = check_model(config, n_chars)
    steps = model.computes()
    kinds = [step.kind for step in steps]
    if kinds != EXERCISE:
        raise Misconception("wrong-architecture", f"{differences(kinds)}: the layers after the input are "
                                                  f"{kinds}, expected {EXERCISE}")
    if model.input_shape[1] is not None:
        raise Misconception("wrong-architecture", f"the input shape is {model.input_shape[1:]}, expected "
                                                  f"(None, {n_chars}): any length")
    rnn, dense = (step.config for step in steps)
    if not rnn.get("return_sequences"):
        raise Misconception("return-sequences-false", "SimpleRNN has return_sequences=False")
    for key, wanted in (("activation", "tanh"), ("use_bias", True), ("go_backwards", False)):
        if rnn.get(key, wanted) != wanted:
            raise Misconception("wrong-architecture", f"SimpleRNN has {key}={rnn.get(key)!r}, expected {wanted!r}")
    if steps[1].activation != "softmax":
        raise Misconception("wrong-output-activation",
                            f"the Dense layer's activation is {steps[1].activation!r}, expected 'softmax'")
    if dense.get("units") != n_chars or dense.get("use_bias") is False:
        raise Misconception("wrong-architecture", f"the Dense layer must have {n_chars} units and a bias")
    return int(rnn["units"])


def differences(found: list[str], expected: list[str] = EXERCISE) -> str:
    """The first way the layers `found` differ from those `expected`, in words."""
    for tag, i1, _, j1, _ in difflib.SequenceMatcher(a=expected, b=found, autojunk=False).get_opcodes():
        if tag == "replace":
            return f"found {found[j1]} where {expected[i1]} is expected"
        if tag == "insert" and found[j1] in expected:
            return f"found one {found[j1]} layer more than expected"
        if tag == "insert":
            return f"found an extra {found[j1]} layer" + (f" after {found[j1 - 1]}" if j1 else "")
        if tag == "delete":
            return f"the model has no {expected[i1]} layer"
    return "the layers differ"


def recurrent_units(config: Any) -> tuple[str, Any]:
    """(class, units) of the model's first recurrent layer, read from its config alone (the model need not be
    one the grader runs); ModelRejected if it has none."""
    for kind, layer in layer_configs(config):
        if kind in RECURRENT:
            return kind, layer.get("units")
    raise ModelRejected("the model has no SimpleRNN layer")


def check_units(kind: str, layer: dict[str, Any]) -> int:
    """A layer's units, if a whole number from 1 to MAX_UNITS."""
    units = layer.get("units")
    if type(units) is not int or not 1 <= units <= MAX_UNITS:  # `type`, not isinstance: True is an int too
        raise ModelRejected(f"{kind} has units={units!r}; the grader runs models of 1 to {MAX_UNITS} units: in "
                            f"build_model, give {kind} the units that build_model is called with")
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


def layer_weights(layer: Layer, features: int) -> list[tuple[str, tuple[int, ...]]]:
    """A layer's weights on inputs of `features` features: (path under its group, shape), in Keras's order."""
    if layer.kind not in WEIGHTED:
        return []
    units: int = layer.config["units"]  # checked: a whole number from 1 to MAX_UNITS
    bias = layer.config.get("use_bias", True) is not False
    if layer.kind == "Dense":
        return [(f"vars/{i}", shape) for i, shape in enumerate([(features, units), *([(units,)] if bias else [])])]
    width = RECURRENT[layer.kind] * units
    bias_shape = (2, width) if layer.kind == "GRU" and layer.config.get("reset_after", True) else (width,)
    shapes = [(features, width), (units, width), *([bias_shape] if bias else [])]
    return [(f"cell/vars/{i}", shape) for i, shape in enumerate(shapes)]


def weight_shapes(n_chars: int, units: int) -> list[tuple[int, ...]]:
    """The weights the exercise's architecture has, in Keras's order: SimpleRNN kernel (V, H), recurrent kernel
    (H, H) and bias (H,); Dense kernel (H, V) and bias (V,)."""
    return [(n_chars, units), (units, units), (units,), (units, n_chars), (n_chars,)]


def weight_dtype(layer: dict[str, Any]) -> str:
    """The dtype Keras gives the weights of a layer with this config (its dtype policy; float32 when none)."""
    policy = layer.get("dtype")
    settings = policy.get("config") if isinstance(policy, dict) else None
    name = (settings.get("name") if isinstance(settings, dict) else None) if isinstance(policy, dict) else policy
    dtype = WEIGHT_DTYPES.get(name or "float32") if isinstance(name, str | None) else None
    if dtype is None:
        raise ModelRejected(f"a layer has dtype {name!r}; the grader runs models of dtype float32 (the default), "
                            "float16, float64 or a mixed_ policy: build the layers without a dtype argument")
    return dtype
