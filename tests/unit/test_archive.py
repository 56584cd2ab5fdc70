"""grader/device/archive.py: what the device checker accepts before Keras builds anything from a
learner's saved model."""

import json

import pytest

from grader.core.errors import ModelRejected
from grader.device import archive
from grader.device.archive import check_archive, check_classes

CONFIG = {"module": "keras", "class_name": "Sequential", "config": {"layers": [
    {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, None, 5]}},
    {"module": "keras.layers", "class_name": "SimpleRNN", "config": {
        "units": 4, "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                                           "config": {}, "registered_name": None}}},
    {"module": "keras.layers", "class_name": "Dense", "config": {"units": 5, "activation": "softmax"}}]}}


def test_an_allow_listed_model_is_accepted(tmp_path, make_zip):
    check_archive(make_zip(tmp_path / "m.keras", {"config.json": json.dumps(CONFIG), "model.weights.h5": b"h5",
                                                     "metadata.json": "{}"}))


@pytest.mark.parametrize("where, node, problem", [
    ("layers", {"module": "keras.layers", "class_name": "Lambda", "config": {}}, "keras.layers.Lambda"),
    ("layers", {"module": "my_module", "class_name": "Dense", "config": {}}, "my_module.Dense"),
    ("layers", {"module": "keras.layers", "class_name": "Dense", "registered_name": "Custom>Dense", "config": {}},
     "custom registered object 'Custom>Dense'"),
    ("initializer", {"module": "keras.initializers", "class_name": "Evil", "config": {}}, "keras.initializers.Evil"),
])
def test_a_class_outside_the_allow_list_is_refused_wherever_it_is(where, node, problem):
    config = json.loads(json.dumps(CONFIG))
    if where == "layers":
        config["config"]["layers"].append(node)
        at = "model.config.layers[3]"
    else:
        config["config"]["layers"][1]["config"]["kernel_initializer"] = node
        at = "model.config.layers[1].config.kernel_initializer"
    with pytest.raises(ModelRejected, match=problem) as refused:
        check_classes(config)
    assert at in str(refused.value)


@pytest.mark.parametrize("members, problem", [
    ({"config.json": "{}"}, "unexpected contents"),
    ({"config.json": "{}", "model.weights.h5": b"", "assets/x": b""}, "unexpected contents"),
    ({"config.json": "{}", "model.weights.h5": b"", "..": b""}, "unexpected contents"),
    ({f"f{i}": b"" for i in range(archive.MAX_MEMBERS + 1)}, "too large or has too many files"),
])
def test_an_archive_that_is_not_a_plain_saved_model_is_refused(tmp_path, make_zip, members, problem):
    with pytest.raises(ValueError, match=problem):
        check_archive(make_zip(tmp_path / "m.keras", members))


def test_an_archive_that_unpacks_too_large_is_refused(tmp_path, monkeypatch, make_zip):
    monkeypatch.setattr(archive, "MAX_ARCHIVE_BYTES", 1000)
    with pytest.raises(ValueError, match="too large"):
        check_archive(make_zip(tmp_path / "m.keras", {"config.json": "{}", "model.weights.h5": b"0" * 1001}))
