"""grader/device/archive.py: what the device checker accepts before Keras builds anything from a
learner's saved model: the archive's members, its config (by the same rules as the exported one) and
its weight file, read as metadata."""

import io
import json
import zipfile

import h5py
import numpy as np
import pytest

from grader.core.errors import ModelRejected
from grader.device import archive
from grader.device.architecture import check_classes
from grader.device.archive import check_archive


def layer(name, **config):
    return {"module": "keras.layers", "class_name": name, "config": config, "registered_name": None}


V, H = 5, 4
CONFIG = {"module": "keras", "class_name": "Sequential", "config": {"layers": [
    layer("InputLayer", batch_shape=[None, None, V]),
    {**layer("SimpleRNN", units=H, return_sequences=True, activation="tanh", kernel_initializer={
        "module": "keras.initializers", "class_name": "GlorotUniform", "config": {}, "registered_name": None}),
     "build_config": {"input_shape": [None, None, V]}},
    {**layer("Dense", units=V, activation="softmax"), "build_config": {"input_shape": [None, None, H]}}]}}
COMPILED = {**CONFIG, "compile_config": {"optimizer": {"module": "keras.optimizers", "class_name": "Adam",
                                                       "config": {}, "registered_name": None}}}
RNN, DENSE = "layers/simple_rnn/cell/vars/", "layers/dense/vars/"
WEIGHTS = {f"{RNN}0": (V, H), f"{RNN}1": (H, H), f"{RNN}2": (H,), f"{DENSE}0": (H, V), f"{DENSE}1": (V,)}
# What Adam saves once trained: its step count and learning rate, and two slots per weight.
ADAM = {"optimizer/vars/0": ((), "int64"), "optimizer/vars/1": ((), "float32"),
        **{f"optimizer/vars/{2 + 2 * i + j}": (shape, "float32") for i, shape in enumerate(WEIGHTS.values())
           for j in range(2)}}


def weight_file(datasets, build=None):
    """An HDF5 file's bytes holding {path: shape or (shape, dtype)} as zero arrays; `build(file)` adds more."""
    data = io.BytesIO()
    with h5py.File(data, "w") as weights:
        for path, spec in datasets.items():
            shape, dtype = spec if isinstance(spec[-1], str) else (spec, "float32")
            weights.create_dataset(path, data=np.zeros(shape, dtype))
        if build:
            build(weights)
    return data.getvalue()


@pytest.fixture
def saved(tmp_path, make_zip):
    def save(config=CONFIG, weights=None):
        members = {"config.json": json.dumps(config), "metadata.json": "{}",
                   "model.weights.h5": weights if weights is not None else weight_file(WEIGHTS)}
        return make_zip(tmp_path / "model.keras", members)

    return save


def test_the_exercise_model_is_accepted_with_or_without_its_optimizer_state(saved):
    check_archive(saved(), V)
    check_archive(saved(COMPILED, weight_file({**WEIGHTS, **ADAM})), V)


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


def test_the_archive_config_passes_the_exported_config_rules(saved):
    """config.json is held to the architecture, its units bound and its shapes, naming the file."""
    config = json.loads(json.dumps(CONFIG))
    config["config"]["layers"][1]["config"]["units"] = 24000
    with pytest.raises(ModelRejected, match=r"config.json in model.keras: SimpleRNN has units=24000; the grader "
                                            r"runs models of 1 to 512 units"):
        check_archive(saved(config), V)
    with pytest.raises(ModelRejected, match=r"config.json in model.keras: the input shape is \[None, 5\], expected "
                                            r"\(None, 6\)"):
        check_archive(saved(CONFIG), V + 1)  # the model must take the V letters the grader sends


@pytest.mark.parametrize("members, problem", [
    ({"config.json": "{}"}, "holds .'config.json'.; a saved model holds config.json and model.weights.h5"),
    ({"config.json": "{}", "model.weights.h5": b"", "assets/x": b""}, "holds .*'assets/x'"),
    ({"config.json": "{}", "model.weights.h5": b"", "..": b""}, "holds .*'..'"),
    ({f"f{i}": b"" for i in range(archive.MAX_MEMBERS + 1)}, "too large or has too many files"),
    ({"config.json": "{", "model.weights.h5": b""}, "config.json in model.keras is not JSON"),
    ({"config.json": json.dumps(CONFIG), "model.weights.h5": b"not hdf5"}, "model.weights.h5 in model.keras is "
                                                                           "not an HDF5 file"),
])
def test_an_archive_that_is_not_a_plain_saved_model_is_refused(tmp_path, make_zip, members, problem):
    with pytest.raises(ModelRejected, match=problem):
        check_archive(make_zip(tmp_path / "model.keras", members), V)


def test_an_archive_that_unpacks_too_large_is_refused(tmp_path, monkeypatch, make_zip):
    monkeypatch.setattr(archive, "MAX_ARCHIVE_BYTES", 1000)
    with pytest.raises(ModelRejected, match="too large"):
        check_archive(make_zip(tmp_path / "m.keras", {"config.json": "{}", "model.weights.h5": b"0" * 1001}), V)


def without(datasets, path):
    return {name: spec for name, spec in datasets.items() if name != path}


@pytest.mark.parametrize("config, datasets, build, problem", [
    (CONFIG, {**WEIGHTS, f"{DENSE}2": (3,)}, None,
     f"holds {DENSE}2 of shape \\(3,\\) and dtype float32, which config.json does not imply"),
    (CONFIG, {**WEIGHTS, f"{RNN}0": (V, 8)}, None,
     f"has {RNN}0 of shape \\(5, 8\\) and dtype float32 where config.json implies shape \\(5, 4\\) of float32"),
    (CONFIG, {**WEIGHTS, f"{DENSE}1": ((V,), "float64")}, None,
     f"has {DENSE}1 of shape \\(5,\\) and dtype float64 where config.json implies shape \\(5,\\) of float32"),
    (CONFIG, without(WEIGHTS, f"{DENSE}1"), None, f"has no {DENSE}1 where config.json implies"),
    # a weight reached through a link: h5py does not follow it, so it is missing
    (CONFIG, without(WEIGHTS, f"{DENSE}1"), lambda f: f.__setitem__(f"{DENSE}1", h5py.SoftLink(f"/{RNN}2")),
     f"has no {DENSE}1"),
    (CONFIG, {**WEIGHTS, **ADAM}, None, "holds optimizer/vars/0 .*, which config.json does not imply"),
    (COMPILED, {**WEIGHTS, **ADAM, **{f"optimizer/vars/{20 + i}": (H, H) for i in range(4)}}, None,
     "holds 16 optimizer variables, more than an optimizer keeps for this model"),
    (COMPILED, {**WEIGHTS, "optimizer/vars/0": (V, V)}, None, "holds optimizer/vars/0 of shape \\(5, 5\\)"),
    # gzip makes 64 MiB of zeros a few kilobytes: what a dataset declares counts, not what it stores
    (CONFIG, WEIGHTS, lambda f: f.create_dataset("payload", shape=(4096, 4096), dtype="float32", compression="gzip"),
     "declares 64 MiB of weights; a saved model may hold 16 MiB"),
    (CONFIG, WEIGHTS, lambda f: f.create_dataset("outside", shape=(4,), dtype="float32",
                                                 external=[("/etc/hostname", 0, 16)]),
     "holds outside, which is not a plain array of numbers"),
    (CONFIG, WEIGHTS, lambda f: f.create_dataset("text", data=np.array([b"x"])),
     "holds text, which is not a plain array of numbers"),
])
def test_a_weight_file_that_disagrees_with_the_config_is_refused(saved, config, datasets, build, problem):
    with pytest.raises(ModelRejected, match=f"model.weights.h5 in model.keras {problem}.*: leave the file that "
                                            "model.save writes as it is"):
        check_archive(saved(config, weight_file(datasets, build)), V)


def test_the_weights_dtype_follows_the_layers_dtype_policy(saved):
    config = json.loads(json.dumps(CONFIG))
    for entry in config["config"]["layers"][1:]:
        entry["config"]["dtype"] = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float64"},
                                    "registered_name": None}
    check_archive(saved(config, weight_file({path: (shape, "float64") for path, shape in WEIGHTS.items()})), V)
    config["config"]["layers"][1]["config"]["dtype"] = "int8"
    with pytest.raises(ModelRejected, match="a layer has dtype 'int8'"):
        check_archive(saved(config), V)


def test_another_model_the_grader_runs_is_accepted_with_its_own_weights(saved):
    """A GRU where the SimpleRNN should be, and a Dropout layer: the device checker runs it (its architecture is
    the public check's), once the weight file holds a GRU's weights; a SimpleRNN's there are refused."""
    config = json.loads(json.dumps(CONFIG))
    config["config"]["layers"][1]["class_name"] = "GRU"
    config["config"]["layers"].insert(2, layer("Dropout", rate=0.1))
    gru = {"layers/gru/cell/vars/0": (V, 3 * H), "layers/gru/cell/vars/1": (H, 3 * H),
           "layers/gru/cell/vars/2": (2, 3 * H), f"{DENSE}0": (H, V), f"{DENSE}1": (V,)}
    check_archive(saved(config, weight_file(gru)), V)
    with pytest.raises(ModelRejected, match="has no layers/gru/cell/vars/0 where config.json implies shape"):
        check_archive(saved(config), V)


def test_the_checker_loads_the_config_it_checked_as_keras_can_load_it(saved, tmp_path):
    """tf.nn.softmax is saved as a function Keras cannot load again: the copy the checker loads names
    'softmax', beside the weight file that was checked."""
    config = json.loads(json.dumps(CONFIG))
    config["config"]["layers"][2]["config"]["activation"] = {
        "module": "builtins", "class_name": "function", "config": "softmax_v2", "registered_name": "function"}
    path = saved(config)
    checked = archive.check_archive(path, V)
    archive.write_checked(path, checked, tmp_path / "checked.keras")
    with zipfile.ZipFile(tmp_path / "checked.keras") as written, zipfile.ZipFile(path) as original:
        assert json.loads(written.read("config.json"))["config"]["layers"][2]["config"]["activation"] == "softmax"
        assert written.read("model.weights.h5") == original.read("model.weights.h5")
        assert sorted(written.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
