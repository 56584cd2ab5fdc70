"""grader/grading/model_rules.py: a learner's Keras model, as config and weights, against the
exercise's architecture and the device checker's allow-list."""

import numpy as np
import pytest

from grader.core.errors import Misconception, ModelRejected
from grader.grading.model_rules import check_architecture, check_weights


def sequential(*layers):
    return {"module": "keras", "class_name": "Sequential", "config": {"layers": list(layers)}}


def layer(name, **config):
    return {"module": "keras.layers", "class_name": name, "config": config, "registered_name": None}


GOOD = [layer("InputLayer", batch_shape=[None, None, 5]), layer("SimpleRNN", units=4, return_sequences=True,
        activation="tanh", use_bias=True), layer("Dense", units=5, activation="softmax", use_bias=True)]


def test_the_exercise_architecture_is_accepted():
    assert check_architecture(sequential(*GOOD), 5) == 4


@pytest.mark.parametrize("bad, problem", [
    ({"module": "keras.layers", "class_name": "Lambda", "config": {}}, "Lambda"),
    ({"module": "builtins", "class_name": "Dense", "config": {}}, "builtins.Dense"),
    ({"module": "keras.layers", "class_name": "Dense", "registered_name": "evil>Dense", "config": {}}, "custom"),
])
def test_classes_outside_the_allow_list_are_refused(bad, problem):
    with pytest.raises(ModelRejected, match=problem):
        check_architecture(sequential(GOOD[0], GOOD[1], bad), 5)


def test_fixed_length_input_is_a_wrong_architecture():
    with pytest.raises(Misconception) as raised:
        check_architecture(sequential(layer("InputLayer", batch_shape=[None, 3, 5]), *GOOD[1:]), 5)
    assert raised.value.id == "wrong-architecture"


def test_weights_must_have_the_layer_shapes_and_be_finite():
    shapes = [(5, 4), (4, 4), (4,), (4, 5), (5,)]
    assert len(check_weights([np.zeros(s) for s in shapes], 5, 4)) == 5
    with pytest.raises(ModelRejected, match="shapes"):
        check_weights([np.zeros(s) for s in shapes[::-1]], 5, 4)
    with pytest.raises(ModelRejected, match="nan"):
        check_weights([np.full(s, np.nan) for s in shapes], 5, 4)


@pytest.mark.parametrize("units", [0, 513, 24000, "8", True, 8.0, None])
def test_units_must_be_a_whole_number_the_grader_can_run(units):
    """The device checker applies these rules to the saved archive's config before Keras allocates anything:
    a config rewritten to 24000 units made it allocate 2.8 GB."""
    rnn = layer("SimpleRNN", units=units, return_sequences=True, activation="tanh", use_bias=True)
    with pytest.raises(ModelRejected, match=f"SimpleRNN has units={units!r}; the grader runs models of 1 to 512"):
        check_architecture(sequential(GOOD[0], rnn, GOOD[2]), 5)


@pytest.mark.parametrize("where", ["build_config", "model"])
def test_a_shape_keras_would_build_weights_from_must_have_the_models_features(where):
    """Keras builds a layer from the input shape in its build_config: 10**7 features there allocated 1.6 GB."""
    rnn = {**GOOD[1], "build_config": {"input_shape": [None, None, 10**7 if where == "build_config" else 5]}}
    model = sequential(*GOOD[:1], rnn, GOOD[2])
    if where == "model":
        model["build_config"] = {"input_shape": [None, None, 10**7]}
    with pytest.raises(ModelRejected, match=r"input_shape=\[None, None, 10000000\] .*must end in one of \[4, 5\]"):
        check_architecture(model, 5)
    rnn["build_config"]["input_shape"][-1] = 5
    model.pop("build_config", None)
    assert check_architecture(model, 5) == 4


@pytest.mark.parametrize("config", [
    [], 7, {"class_name": ["Sequential"], "config": {"layers": []}},
    {"class_name": "Sequential", "config": []},
    {"class_name": "Sequential", "config": {"layers": [{"class_name": "InputLayer", "config": []}]}},
    {"class_name": "Sequential", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": 5}},
        {"class_name": "SimpleRNN", "config": {"units": 8}}, {"class_name": "Dense", "config": {}}]}},
    {"class_name": "Sequential", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"input_shape": 5}},
        {"class_name": "SimpleRNN", "config": {"units": 8}}, {"class_name": "Dense", "config": {}}]}},
], ids=["list", "number", "class-name-list", "body-list", "layer-config-list", "batch-shape-number",
        "input-shape-number"])
def test_a_config_keras_would_never_write_is_refused_not_a_crash(config):
    """The worker exports whatever JSON the learner's code makes it send: the rules refuse it, in the grade
    process and the device checker alike, and never raise anything else."""
    with pytest.raises((ModelRejected, Misconception)):
        check_architecture(config, 8)


def test_a_shape_with_a_list_for_a_dimension_is_refused():
    rnn = layer("SimpleRNN", units=4, return_sequences=True, activation="tanh", use_bias=True)
    rnn["build_config"] = {"input_shape": [None, None, [5]]}
    with pytest.raises(ModelRejected):
        check_architecture(sequential(GOOD[0], rnn, GOOD[2]), 5)
