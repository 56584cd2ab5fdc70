"""grader/device/architecture.py: the exercise's model is judged by what it computes, whatever the spelling, and
another model the grader runs is named for what differs rather than refused. The configs here are written as
Keras 3.15 writes them (tests/integration/test_model_spellings.py checks that against Keras itself)."""

import copy

import pytest

from grader.core.errors import Misconception, ModelRejected
from grader.device.architecture import MAX_LAYERS, canonical, check_architecture, check_model

V, H = 5, 4


def layer(name, **config):
    return {"module": "keras.layers", "class_name": name, "config": config, "registered_name": None}


def sequential(*layers):
    return {"module": "keras", "class_name": "Sequential",
            "config": {"layers": [layer("InputLayer", batch_shape=[None, None, V]), *layers]}}


RNN = layer("SimpleRNN", units=H, return_sequences=True, activation="tanh", use_bias=True)
DENSE = layer("Dense", units=V, activation="softmax", use_bias=True)
LINEAR = layer("Dense", units=V, activation="linear", use_bias=True)
# How Keras saves tf.nn.softmax (and tf.math.softmax): a function it cannot load again.
TF_SOFTMAX = {"module": "builtins", "class_name": "function", "config": "softmax_v2", "registered_name": "function"}


def functional(*layers):
    """A functional model of `layers` after an input, each called on the one before, as Keras writes it."""
    entries = [{**layer("InputLayer", batch_shape=[None, None, V]), "name": "input_layer", "inbound_nodes": []}]
    for i, entry in enumerate(layers):
        previous = entries[-1]["name"]
        entries.append({**entry, "name": f"layer_{i}", "inbound_nodes": [{"args": [{
            "class_name": "__keras_tensor__", "config": {"shape": [None, None, V], "dtype": "float32",
                                                         "keras_history": [previous, 0, 0]}}], "kwargs": {}}]})
    return {"module": "keras", "class_name": "Functional", "config": {
        "layers": entries, "input_layers": ["input_layer", 0, 0], "output_layers": [entries[-1]["name"], 0, 0]}}


@pytest.mark.parametrize("config", [
    sequential(RNN, LINEAR, layer("Activation", activation="softmax")),
    sequential(RNN, LINEAR, layer("Softmax", axis=-1)),
    sequential(RNN, LINEAR, layer("Activation", activation=TF_SOFTMAX)),
    sequential(RNN, {**DENSE, "config": {**DENSE["config"], "activation": TF_SOFTMAX}}),
    sequential(RNN, DENSE, layer("Activation", activation="linear")),
    sequential(RNN, layer("TimeDistributed", layer=DENSE)),
    functional(RNN, DENSE),
    functional(RNN, LINEAR, layer("Softmax", axis=2)),
], ids=["activation-layer", "softmax-layer", "activation-layer-tf-function", "tf-nn-softmax", "linear-after",
        "time-distributed", "functional", "functional-softmax-layer"])
def test_spellings_of_the_exercise_model_are_that_model(config):
    assert check_architecture(config, V) == H


def test_a_tensorflow_function_is_loaded_as_the_keras_activation_it_computes():
    """Keras cannot load the config it writes for tf.nn.softmax: the device checker loads 'softmax' instead."""
    config = sequential(RNN, layer("Dense", units=V, activation=TF_SOFTMAX))
    assert canonical(config)["config"]["layers"][2]["config"]["activation"] == "softmax"
    unknown = {**TF_SOFTMAX, "config": "my_softmax"}
    with pytest.raises(ModelRejected, match=r"the function 'my_softmax' \(at model.config.layers\[2\].config."
                                            r"activation\), which Keras cannot load again"):
        check_model(sequential(RNN, layer("Dense", units=V, activation=unknown)), V)


@pytest.mark.parametrize("layers, misconception, found", [
    ([layer("GRU", units=H, return_sequences=True), DENSE], "wrong-architecture",
     "found GRU where SimpleRNN is expected: the layers after the input are ['GRU', 'Dense']"),
    ([layer("LSTM", units=H, return_sequences=True), DENSE], "wrong-architecture", "found LSTM where SimpleRNN"),
    ([RNN, layer("Dropout", rate=0.2), DENSE], "wrong-architecture", "found an extra Dropout layer after SimpleRNN"),
    ([RNN, layer("Dense", units=H, activation="relu"), DENSE], "wrong-architecture",
     "found one Dense layer more than expected"),
    ([DENSE], "wrong-architecture", "the model has no SimpleRNN layer"),
    ([RNN, layer("Activation", activation="tanh"), DENSE], "wrong-architecture", "found an extra Activation layer"),
    ([RNN, LINEAR, layer("Softmax", axis=1)], "wrong-output-activation",
     "the Dense layer's activation is 'softmax over axis 1', expected 'softmax'"),
    ([RNN, layer("Dense", units=V, activation="sigmoid")], "wrong-output-activation", "'sigmoid'"),
    ([RNN, LINEAR], "wrong-output-activation", "'linear'"),
], ids=["gru", "lstm", "dropout", "extra-dense", "no-rnn", "activation-after-rnn", "softmax-over-time", "sigmoid",
        "no-softmax"])
def test_another_model_the_grader_runs_is_named_for_what_differs(layers, misconception, found):
    config = sequential(*layers)
    check_model(config, V)  # the device checker runs it
    with pytest.raises(Misconception) as raised:
        check_architecture(config, V)
    assert raised.value.id == misconception and found in raised.value.message


def test_each_layer_has_the_weights_keras_saves_under_its_group():
    """The device checker cross-checks model.weights.h5 against these: groups are named after the layer's class,
    numbered from the second of a class on; a GRU's bias has two rows (reset_after, Keras's default)."""
    model = check_model(sequential(layer("GRU", units=H, return_sequences=True), layer("Dropout", rate=0.1),
                                   layer("Dense", units=3, activation="relu"),
                                   layer("TimeDistributed", layer=layer("Dense", units=V)),
                                   layer("Dense", units=V, use_bias=False), layer("Softmax")), V)
    assert [(path, shape) for path, shape, _ in model.weights()] == [
        ("layers/gru/cell/vars/0", (V, 3 * H)), ("layers/gru/cell/vars/1", (H, 3 * H)),
        ("layers/gru/cell/vars/2", (2, 3 * H)), ("layers/dense/vars/0", (H, 3)), ("layers/dense/vars/1", (3,)),
        ("layers/time_distributed/layer/vars/0", (3, V)), ("layers/time_distributed/layer/vars/1", (V,)),
        ("layers/dense_1/vars/0", (V, V))]
    lstm = check_model(sequential(layer("LSTM", units=H, return_sequences=True), DENSE), V)
    assert [shape for _, shape, _ in lstm.weights()][:3] == [(V, 4 * H), (H, 4 * H), (4 * H,)]


def test_a_functional_model_must_be_one_chain():
    config = functional(RNN, DENSE)
    skipped = copy.deepcopy(config)  # the Dense called on the input, the SimpleRNN left out of the path
    skipped["config"]["layers"][2]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["input_layer", 0, 0]
    two_outputs = copy.deepcopy(config)
    two_outputs["config"]["output_layers"] = [["layer_0", 0, 0], ["layer_1", 0, 0]]
    for broken in (skipped, two_outputs):
        with pytest.raises(ModelRejected, match="not one chain of layers"):
            check_model(broken, V)


@pytest.mark.parametrize("layers, problem", [
    ([RNN, layer("Dense", units=10**6), DENSE], "Dense has units=1000000; the grader runs models of 1 to 512"),
    ([layer("GRU", units=24000, return_sequences=True), DENSE], "GRU has units=24000; the grader runs models of"),
    ([RNN, layer("Dense", units=V, lora_rank=10**8)], "LoRA"),
    ([RNN, *[layer("Dropout", rate=0.1)] * MAX_LAYERS, DENSE], f"the grader runs models of 1 to {MAX_LAYERS}"),
    ([RNN, sequential(DENSE)], "another model as a layer"),
    ([RNN, layer("TimeDistributed", layer=layer("SimpleRNN", units=H))], "TimeDistributed around a Dense"),
    ([RNN, layer("Dense", units=V, activation={"a": 1})], "Dense has activation="),
    ([RNN, layer("Dense", units=V, activation="my_activation")], "Keras's activations, given by name"),
    ([RNN, layer("Lambda"), DENSE], "keras.layers.Lambda"),
    ([RNN, {"config": {}}, DENSE], "a layer of class 'None'"),
    ([RNN, layer("Dropout", rate=0.1, units=10**7), layer("Dense", units=V, build_config={
        "input_shape": [None, None, 10**7]})], r"must end in one of \[4, 5\] features"),
], ids=["units", "gru-units", "lora", "layers", "nested-model", "time-distributed-rnn", "activation-object",
        "activation-name", "lambda", "no-class", "units-of-a-dropout"])
def test_a_model_the_grader_does_not_run_is_refused(layers, problem):
    """Keras would allocate what these ask for (or run code of the learner's): refused before it builds them."""
    with pytest.raises(ModelRejected, match=problem):
        check_model(sequential(*layers), V)


@pytest.mark.parametrize("key", ["stateful", "return_state"])
def test_a_recurrent_layer_that_returns_or_keeps_its_state_is_a_wrong_architecture(key):
    with pytest.raises(Misconception) as raised:
        check_model(sequential(layer("GRU", units=H, return_sequences=True, **{key: True}), DENSE), V)
    assert raised.value.id == "wrong-architecture" and f"GRU has {key}=True" in raised.value.message
