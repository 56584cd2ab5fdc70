"""Unit tests of the grader's pieces: safe reading, model allow-list, device comparison, sources, CLI."""

import json
import os
import subprocess
import sys

import nbformat
import numpy as np
import pytest

from grader.authoring.build import build_notebook, split_cells
from grader.cli import main
from grader.core.errors import DeviceCheckFailed, Misconception, ModelRejected
from grader.device.client import compare_devices
from grader.grading import sources
from grader.grading.evaluation import determined_next, score_prefixes
from grader.grading.model_rules import check_architecture, check_weights
from grader.isolation import safe_io


# -- safe_io ---------------------------------------------------------------------------------------
def test_load_npy_reads_a_plain_numeric_array(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(6.0).reshape(2, 3))
    array = safe_io.load_npy(tmp_path, "a.npy", 1 << 20)
    assert type(array) is np.ndarray and array.shape == (2, 3)


@pytest.mark.parametrize("make, problem", [
    (lambda d: os.symlink("/etc/passwd", d / "x.npy"), "could not be opened"),
    (lambda d: os.mkfifo(d / "x.npy"), "not a regular file"),
    (lambda d: np.save(d / "x.npy", np.array([object()]), allow_pickle=True), "dtype object"),
    (lambda d: np.save(d / "x.npy", np.array(["text"])), "dtype <U4"),
    (lambda d: np.save(d / "x.npy", np.zeros(300_000)), "output too large"),
    (lambda d: (d / "x.npy").write_bytes(b"not an npy file"), "not a valid .npy"),
])
def test_load_npy_refuses_unsafe_outputs(tmp_path, make, problem):
    make(tmp_path)
    with pytest.raises(safe_io.UnsafeOutput, match=problem):
        safe_io.load_npy(tmp_path, "x.npy", 1 << 20)


def test_load_npy_refuses_a_header_that_lies_about_its_size(tmp_path):
    """A header declaring a huge shape is refused before anything is allocated."""
    np.save(tmp_path / "x.npy", np.zeros(4))
    data = (tmp_path / "x.npy").read_bytes().replace(b"(4,)", b"(10000000000,)".ljust(4))
    (tmp_path / "x.npy").write_bytes(data)
    with pytest.raises(safe_io.UnsafeOutput):
        safe_io.load_npy(tmp_path, "x.npy", 1 << 20)


def test_names_not_chosen_by_the_grader_are_refused(tmp_path):
    with pytest.raises(safe_io.UnsafeOutput, match="not chosen by the grader"):
        safe_io.load_npy(tmp_path, "../x.npy", 1 << 20)


# -- model_check -------------------------------------------------------------------------------------
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


# -- device comparison -------------------------------------------------------------------------------
def test_identical_device_outputs_pass():
    trusted = np.random.default_rng(0).dirichlet(np.ones(4), size=(2, 3))
    gaps = compare_devices([trusted.astype(np.float32), trusted.astype(np.float32)], trusted)
    assert gaps["between_the_devices"] == 0.0


def test_a_model_whose_output_depends_on_the_device_fails():
    trusted = np.random.default_rng(0).dirichlet(np.ones(4), size=(2, 3))
    with pytest.raises(DeviceCheckFailed, match="between the devices"):
        compare_devices([trusted, trusted + 1e-3], trusted)
    with pytest.raises(DeviceCheckFailed, match="different letters"):
        compare_devices([trusted, trusted[..., ::-1]], trusted)


def test_the_device_check_reads_no_link_the_worker_left(tmp_path):
    """The worker writes the saved model; a link in its place (to any file the grader may read)
    is refused before the device checker opens anything."""
    from grader.core.config import Limits
    from grader.device.client import DeviceChecker

    elsewhere = tmp_path / "elsewhere.keras"
    elsewhere.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "model-1.keras").symlink_to(elsewhere)
    checker = DeviceChecker(tmp_path / "work", Limits())
    try:
        with pytest.raises(DeviceCheckFailed, match="could not be read.*regular file"):
            checker.run(tmp_path / "out" / "model-1.keras", np.zeros((1, 3, 4), np.float32))
    finally:
        checker.close()


def test_a_call_to_a_worker_that_died_between_calls_is_its_problem_not_a_grader_error(tmp_path):
    """A request to a dead worker cannot be written and stays in the grader's buffer: the call reports
    how the worker ended, and stopping the worker does not trip over that request (it raised
    BrokenPipeError, then removed the worker's cgroup a second time: a grader error either way)."""
    import signal

    from grader.core.config import Limits
    from grader.core.errors import WorkerExited
    from grader.isolation.learner_module import LearnerModule

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "forward.py").write_text("def rnn_step(x):\n    return x\n")
    module = LearnerModule(tmp_path / "src", tmp_path / "work", "forward", Limits())
    try:
        assert module.invoke("rnn_step", (1,)) == 1
        os.killpg(module.process.pid, signal.SIGKILL)
        module.process.wait()
        with pytest.raises(WorkerExited):
            module.invoke("rnn_step", (2,))
    finally:
        module.close()


# A stand-in for TensorFlow that writes down which process lists the devices, so the device server's
# loop runs without the real import.
FAKE_TENSORFLOW = """
import os, sys, types
def record(kind=None):
    with open(os.environ["DEVICE_LISTINGS"], "a") as listings:
        listings.write(f"{os.getpid()}\\n")
    return ["cpu"] if kind == "CPU" else []
config = types.SimpleNamespace(
    list_physical_devices=record, set_logical_device_configuration=lambda *args: None,
    LogicalDeviceConfiguration=lambda: None,
    experimental=types.SimpleNamespace(enable_tensor_float_32_execution=lambda on: None))
sys.modules["tensorflow"] = types.SimpleNamespace(config=config)
sys.modules["keras"] = types.ModuleType("keras")
from grader.device import checker as device_check
device_check.main()
"""


def test_the_device_server_leaves_the_devices_to_each_forked_check(root, tmp_path):
    """Listing GPUs initialises the CUDA driver, which a forked child cannot use: the batch's device
    server must never list devices itself, only each check it forks."""
    import socket

    from grader.isolation import zygote as preload

    listings = tmp_path / "listings"
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server = subprocess.Popen([sys.executable, "-c", FAKE_TENSORFLOW, "--serve-fd", str(theirs.fileno())],
                              cwd=root, pass_fds=(theirs.fileno(),),
                              env={**os.environ, "DEVICE_LISTINGS": str(listings)})
    theirs.close()
    try:
        for _ in range(2):
            reply = preload.ask_device_server({"fd": ours.fileno()}, {"model": str(tmp_path / "none.keras"),
                                                                     "x": "", "out": str(tmp_path)}, 30)
            assert reply is not None and not reply["ok"] and "none.keras" in reply["error"]
    finally:
        ours.close()
        server.wait(timeout=30)
    pids = {int(pid) for pid in listings.read_text().split()}
    assert len(pids) == 2 and server.pid not in pids  # one child per check, each listed its own


# -- evaluation prefixes -----------------------------------------------------------------------------
def test_determined_next_letters_of_goodbye():
    assert determined_next("goodbye!", "g") == "o"
    assert determined_next("goodbye!", "o") is None  # followed by o and by d
    assert determined_next("goodbye!", "oo") == "d"
    assert determined_next("goodbye!", "!") == "g"  # the word repeats


def test_a_perfect_predictor_scores_one_and_reports_the_ceiling():
    word, alphabet = "goodbye!", sorted(set("goodbye!"))
    cyclic = word * 3

    def oracle(x):
        out = np.zeros_like(x)
        for p in range(x.shape[0]):
            for t in range(x.shape[1]):
                out[p, t, alphabet.index(cyclic[p + t + 1])] = 1
        return out

    score = score_prefixes(word, alphabet, oracle, range(1, 4))
    assert score.accuracy == 1.0 and score.total == 24 and score.scored == 22


# -- sources ---------------------------------------------------------------------------------------
def test_notebook_magics_and_shell_lines_are_stripped(tmp_path):
    cells = split_cells("# %%\n%matplotlib inline\n!pip install numpy\nx = 1\n")
    nbformat.write(build_notebook(cells, "forward"), tmp_path / "forward.ipynb")
    source = sources.notebook_to_python(tmp_path / "forward.ipynb")
    compile(source, "forward.py", "exec")
    assert "removed by grade" in source and "x = 1" in source and "get_ipython" not in source.replace(
        "removed by grade (IPython only): get_ipython", "")


def test_a_malformed_notebook_names_the_file_and_the_fix(tmp_path):
    (tmp_path / "forward.ipynb").write_text("{ not json")
    with pytest.raises(ValueError, match="forward.ipynb is not a valid notebook.*submit forward.py"):
        sources.notebook_to_python(tmp_path / "forward.ipynb")


def test_the_newer_notebook_is_chosen_and_the_reason_given(tmp_path):
    (tmp_path / "forward.py").write_text("")
    (tmp_path / "forward.ipynb").write_text("")
    os.utime(tmp_path / "forward.py", (1_000_000, 1_000_000))
    chosen = sources.choose(tmp_path, "forward")
    assert chosen.path.name == "forward.ipynb" and "newer" in chosen.reason
    missing = sources.choose(tmp_path, "encoding")
    assert missing.path is None and "no encoding.py or encoding.ipynb" in missing.problem


# -- the CLI ---------------------------------------------------------------------------------------
def test_usage_errors_exit_2(tmp_path, capsys):
    assert main([str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "notes.py").write_text("")
    assert main([str(tmp_path / "notes.py")]) == 2
    with pytest.raises(SystemExit) as raised:
        main(["--only", "nonsense"])
    assert raised.value.code == 2


def run_grade(*args, cwd):
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_fail_under_exits_1_and_only_forward_needs_no_tensorflow(root, tmp_path):
    code = ("import sys; from grader.cli import main; rc = main(sys.argv[1:]); "
            "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code, "exercises", "--only", "forward", "--fail-under", "50",
                           "--json", str(tmp_path / "r.json")], capture_output=True, text=True, cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["score"] == 0 and {e["name"] for e in data["exercises"]} == {"forward"}


def test_a_notebook_submission_is_graded_like_a_module(root, tmp_path):
    cells = split_cells((root / "solutions" / "forward.py").read_text())
    cells += split_cells("# %%\n%timeit softmax(np.zeros(3))\n!ls\n")
    nbformat.write(build_notebook(cells, "forward"), tmp_path / "forward.ipynb")
    done = run_grade(str(tmp_path), "--only", "forward", "--json", str(tmp_path / "r.json"), cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["exercises"][0]["file"].endswith("forward.ipynb")
    assert data["score"] == data["max_score"] > 0


def test_a_malformed_notebook_is_graded_zero_with_a_precise_message(root, tmp_path):
    (tmp_path / "forward.ipynb").write_text('{"cells": 3}')
    done = run_grade(str(tmp_path), "--only", "forward", "--json", str(tmp_path / "r.json"), cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["score"] == 0
    assert all("forward.ipynb is not a valid notebook" in t["message"] for t in data["tests"])
