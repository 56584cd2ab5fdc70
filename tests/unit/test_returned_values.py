"""Whatever a learner's function returns is the learner's result: a failed check that says what was
wrong with the value, never an internal grader error.

Every suite, public and hidden, runs here in this process through the real pytest plugin, fixtures
and classification (`grading/plugin.py`, `outcomes.classify`), against scripted workers: each call
of a learner function is answered with a reply a learner's code in its worker could send, and read
back by the real `LearnerModule` (`wire.parse_reply`, `wire.decode`, `safe_io.load_npy`), so only
what can really arrive arrives: JSON (NaN, huge integers and all) and numeric `.npy` arrays of any
dtype, byte order and shape. The right answer to a call, which a script may return as it is or
changed in one place, is computed by the real worker code (`untrusted/worker.py: Worker`) running the
reference solution (`solutions/NAME.py`, for every numpy exercise the course lists) or, for the Keras
model, a numpy stand-in: no process starts and no TensorFlow is imported.
"""

import importlib
import io
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import hypothesis.extra.numpy as npst
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from grader.core.config import SUITES
from grader.core.course import exercises
from grader.core.status import Status
from grader.device.client import DeviceChecker
from grader.grading import outcomes, pipeline
from grader.grading.learner import Learner, Settings
from grader.grading.plugin import GradingPlugin
from grader.grading.sources import Source
from grader.isolation.learner_module import LearnerModule
from grader.reports import report as report_mod
from grader.reports import strict_json
from grader.untrusted.worker import Worker, describe_error
from solutions import forward as ref_forward

SUITE_FILES = sorted(str(path) for path in SUITES.glob("*/test_*.py"))
SHM = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None  # where `grade` puts its job: the arrays' files


# -- what a script answers -------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Right:
    """The right answer: the reference's result, as the real worker encodes it."""


@dataclass(frozen=True, eq=False)
class Returns:
    """The function returned `value`: None, bools, ints, floats, strings, lists, dicts, numpy arrays
    and `Kept` objects, at any depth (tuples cross the wire as lists)."""

    value: Any


@dataclass(frozen=True, eq=False)
class Changed:
    """The right answer changed in one place: the node at `path` (an int picks a child by position,
    modulo their number, a path past a leaf stopping there; a str picks a dict key, and leaves an
    answer without that key as it is) becomes `value`, or is dropped from its list or dict
    (`REMOVED`), or is cast (`Cast`). A JSON object inside a string (export_model's config) is
    changed inside."""

    path: tuple
    value: Any


@dataclass(frozen=True, eq=False)
class Raises:
    """The function raised: `error` is the worker's error report (any JSON from a rigged worker)."""

    error: Any


@dataclass(frozen=True)
class Kept:
    """An object left in the worker, {"__ref__": key}: the worker's own keys are obj-0, obj-1, ..."""

    key: str


@dataclass(frozen=True)
class Cast:
    """The array there, as `dtype` (a node that is not an array stays as it is)."""

    dtype: np.dtype


REMOVED = "<removed>"


class Script:
    """The k-th learner call of each check gets answer k (the last one again once they run out)."""

    def __init__(self, answers: list):
        self.answers, self.calls = answers, 0

    def next_check(self) -> None:
        self.calls = 0

    def reply(self, worker: Worker, request: dict) -> bytes:
        """The reply line to `request`, as the worker running `worker.module` would send it (from a stack
        of its own: a value nested as deep as JSON allows is the grader's to refuse, not this script's)."""
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(limit + 10_000)
        try:
            return self.answer(worker, request)
        finally:
            sys.setrecursionlimit(limit)

    def answer(self, worker: Worker, request: dict) -> bytes:
        if request["op"] == "import":
            return line(request, {"ok": True, "value": None})
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer, Raises):
            return line(request, {"ok": False, "error": answer.error})
        if isinstance(answer, Returns):
            return line(request, {"ok": True, "value": to_wire(answer.value, worker, request["id"])})
        try:  # what the real worker does with the call (untrusted/worker.py: serve)
            right = getattr(worker, "op_" + request["op"])(request)
        except Exception as exc:
            return line(request, {"ok": False, "error": describe_error(exc, worker.src_dir)})
        if isinstance(answer, Changed):
            right = to_wire(change(right, answer.path, answer.value, worker), worker, request["id"])
        return line(request, {"ok": True, "value": right})


def line(request: dict, reply: dict) -> bytes:
    return json.dumps({"id": request["id"], **reply}).encode()


def to_wire(value: Any, worker: Worker, request_id: str) -> Any:
    """`value` as the worker's reply carries it: arrays saved under the request's names."""
    if isinstance(value, np.ndarray):
        return {"__npy__": worker.save_array(value, request_id)}
    if isinstance(value, Kept):
        return {"__ref__": value.key}
    if isinstance(value, list | tuple):
        return [to_wire(v, worker, request_id) for v in value]
    if isinstance(value, dict):
        return {k: to_wire(v, worker, request_id) for k, v in value.items()}
    return value


def json_text(value: Any) -> Any:
    """What stands for `value` in JSON text (export_model's config): an array as its list, a `Kept` object as
    its marker."""
    if isinstance(value, Kept):
        return {"__ref__": value.key}
    return value.tolist() if isinstance(value, np.ndarray) else float(value)  # float(): a float128 item


def change(node: Any, path: tuple, new: Any, worker: Worker) -> Any:
    """`node` (the right answer, as JSON-ready data) with the node at `path` changed (see `Changed`)."""
    if isinstance(node, str) and path and node.startswith("{"):
        return json.dumps(change(json.loads(node), path, new, worker), default=json_text)
    is_array = isinstance(node, dict) and set(node) == {"__npy__"}
    keys = [] if is_array else list(range(len(node))) if isinstance(node, list) else \
        list(node) if isinstance(node, dict) else []
    step = path[0] if path else None
    if isinstance(step, str) and step not in keys:
        return node
    key = step if isinstance(step, str) else keys[step % len(keys)] if isinstance(step, int) and keys else None
    if key is None:
        if isinstance(new, Cast):
            return np.load(Path(worker.out_dir) / node["__npy__"]).astype(new.dtype) if is_array else node
        return None if new is REMOVED else new
    if new is REMOVED and len(path) == 1:
        return [v for i, v in enumerate(node) if i != key] if isinstance(node, list) else \
            {k: v for k, v in node.items() if k != key}
    node = list(node) if isinstance(node, list) else dict(node)
    node[key] = change(node[key], path[1:], new, worker)
    return node


# -- the right answers: the reference solutions, and a numpy stand-in for the Keras model ----------
class StandInModel:
    """What the exercise's Keras model holds and does (Input -> SimpleRNN -> Dense softmax), in numpy:
    called on (N, T, V) it returns probabilities; saved, it writes its weights (the stand-in device
    checker reads them)."""

    def __init__(self, n_chars: int, units: int):
        shapes = [(n_chars, units), (units, units), (units,), (units, n_chars), (n_chars,)]
        self.weights = [np.random.normal(size=s).astype(np.float32) for s in shapes]  # seeded by the worker
        self.config = {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "layers": [
            {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
             "config": {"batch_shape": [None, None, n_chars], "dtype": "float32"}},
            {"module": "keras.layers", "class_name": "SimpleRNN", "registered_name": None,
             "config": {"units": units, "activation": "tanh", "use_bias": True, "return_sequences": True,
                        "return_state": False, "go_backwards": False, "stateful": False,
                        "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                                               "config": {"seed": None}, "registered_name": None}},
             "build_config": {"input_shape": [None, None, n_chars]}},
            {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
             "config": {"units": n_chars, "activation": "softmax", "use_bias": True},
             "build_config": {"input_shape": [None, None, units]}},
        ]}, "build_config": {"input_shape": [None, None, n_chars]}}

    def __call__(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return probabilities(self.weights, x)

    def get_weights(self) -> list[np.ndarray]:
        return list(self.weights)

    def to_json(self) -> str:
        return json.dumps(self.config)

    def save(self, path: str) -> None:
        with open(path, "wb") as file:
            np.savez(file, *self.weights)


def probabilities(weights: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    kernel, recurrent, bias, dense_kernel, dense_bias = weights
    return ref_forward.output_layer(ref_forward.rnn_forward(x, kernel, recurrent, bias), dense_kernel,
                                    dense_bias).astype(np.float32)


class StandInNextLetter:
    """solutions/next_letter.py's functions on a `StandInModel` (no TensorFlow in this layer)."""

    @staticmethod
    def build_model(n_chars: int, units: int = 8) -> StandInModel:
        return StandInModel(n_chars, units)

    @staticmethod
    def train(model: StandInModel, x: np.ndarray, y: np.ndarray, epochs: int = 6, seed: int = 0) -> dict:
        rng = np.random.default_rng(seed)
        model.weights = [w + rng.normal(scale=0.01, size=w.shape).astype(np.float32) for w in model.weights]
        return {"loss": [1.0 / (epoch + 1) for epoch in range(epochs)]}

    @staticmethod
    def predict_next(model: StandInModel, alphabet: list, prefix: str) -> str:
        x = np.eye(len(alphabet), dtype=np.float32)[[alphabet.index(c) for c in prefix]][None]
        return alphabet[int(np.argmax(model(x)[0, -1]))]


# The exercises whose reference cannot run here; every other exercise's is solutions/NAME.py itself.
REFERENCES = {"next_letter": StandInNextLetter}


# -- the grade process's side, its workers and device checker scripted ------------------------------
class ScriptedModule(LearnerModule):
    """The real `LearnerModule` (requests encoded, replies parsed and decoded as always) whose worker
    is `script`, answering in this process."""

    def __init__(self, script: Script, settings: Settings, name: str, hash_seed: int):
        super().__init__(settings.src_dir, settings.work_dir, name, settings.limits, hash_seed)
        self.script = script

    def start(self) -> None:
        if self.worker is not None or self.import_problem is not None:
            return
        self.generation += 1
        instance = self.fresh.instance(self.name, self.hash_seed, self.generation)
        for sub in ("in", "out"):
            (instance / sub).mkdir(parents=True)
        worker = Worker(str(instance / "src"), str(instance / "in"), str(instance / "out"), self.name)
        worker.module = REFERENCES.get(self.name) or importlib.import_module(f"solutions.{self.name}")
        self.worker = SimpleNamespace(instance=instance, out=instance / "out", requests=io.StringIO(), cgroup=None,
                                      worker=worker)
        self.started_at = time.monotonic()
        self.pending_import = self.send({"op": "import"})

    def stop(self) -> None:
        self.worker, self.pending_import = None, None

    def read_line(self, what: str, timeout: float) -> bytes:
        request = json.loads(self.worker.requests.getvalue().splitlines()[-1])
        return self.script.reply(self.worker.worker, request)


class ScriptedLearner(Learner):
    def __init__(self, settings: Settings, script: Script):
        super().__init__(settings)
        self.script = script

    def new(self, name: str, hash_seed: int) -> LearnerModule:
        return ScriptedModule(self.script, self.settings, name, hash_seed)


class StandInChecker(DeviceChecker):
    """The device checker's answer for a saved `StandInModel`; anything else cannot be run."""

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def ask_process(self, request: dict[str, str]) -> Any:
        try:
            with np.load(request["model"], allow_pickle=False) as saved:
                weights = [saved[f"arr_{i}"] for i in range(5)]
            outputs = probabilities(weights, np.load(request["x"]))
        except Exception as exc:
            return {"ok": False, "error": f"not a saved model ({type(exc).__name__})"}
        for i in range(2):
            np.save(Path(request["out"]) / f"device-{i}.npy", outputs)
        return {"ok": True, "devices": ["/cpu:0", "/cpu:1"], "gpu_present": False}


class ScriptedPlugin(GradingPlugin):
    """The real plugin (fixtures, points, `outcomes.classify`) with scripted workers."""

    def __init__(self, settings: Settings, script: Script):
        super().__init__(settings)
        self.workers = ScriptedLearner(settings, script)
        self.checker = StandInChecker(settings.work_dir, settings.limits)
        self.crashes: dict[str, str] = {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.workers.script.next_check()

    def result(self, item: Any, call: pytest.CallInfo, report: pytest.TestReport) -> outcomes.TestResult:
        result = super().result(item, call, report)
        if result.internal_error and call.excinfo is not None:  # where, for the failure's message
            self.crashes[result.name] = "".join(traceback.format_exception(call.excinfo.value, limit=-3))
        return result


def grade_scripted(answers: list, suites: list[str] = SUITE_FILES) -> tuple[dict, dict[str, str]]:
    """Run `suites` (every suite file, or pytest node ids) with each check's learner calls answered by
    `answers`: the report `grade` makes, and the traceback of each internal error, by check."""
    with tempfile.TemporaryDirectory(dir=SHM) as work:
        settings = Settings(Path(work) / "src", Path(work) / "work")
        plugin = ScriptedPlugin(settings, Script(answers))
        code = pytest.main([*suites, "-c", str(SUITES / "pytest.ini"), "--rootdir", str(SUITES),  # as `grade`
                            "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:stepwise"], plugins=[plugin])
        assert code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), f"pytest exit status {code}"
    job = pipeline.Job(Path(work), sources=[Source(name, Path(work) / f"{name}.py", "scripted")
                                            for name in exercises()],
                       selected=list(exercises()), results=plugin.results)
    job.report["model_feedback"] = plugin.feedback_artifacts.get("model")
    pipeline.score(job)
    pipeline.describe_environment(job)
    job.report.update(duration_s=0.0, internal_errors=sum(r.internal_error for r in job.results))
    return job.report, plugin.crashes


def assert_learner_facing(answers: list, suites: list[str] = SUITE_FILES) -> None:
    """Every check passed or failed with a message for the learner (or its code raised): none hit an
    internal error, and the report is one `grade` validates and writes."""
    report, crashes = grade_scripted(answers, suites)
    report_mod.validate(report)
    strict_json.dumps(report)  # the JSON file `grade --json` writes
    assert len(report["tests"]) >= len(suites), "the suites did not run"
    wrong = [f"{t['name']}: {t['status']}: {t['message']!r}\n{crashes.get(t['name'], '')}" for t in report["tests"]
             if t["status"] not in (Status.PASSED, Status.FAILED, Status.ERROR)
             or "internal grader error" in t["message"] or not (t["status"] == Status.PASSED or t["message"].strip())]
    assert not wrong and report["internal_errors"] == 0, "\n".join(wrong)


# -- what a learner's code can send -----------------------------------------------------------------
DTYPES = st.one_of(npst.boolean_dtypes(), npst.integer_dtypes(endianness="?"),
                   npst.unsigned_integer_dtypes(endianness="?"), npst.floating_dtypes(endianness="?"),
                   st.just(np.dtype(np.longdouble)))
ARRAYS = npst.arrays(DTYPES, npst.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
INTEGERS = st.integers() | st.integers(min_value=2**63, max_value=10**400) | st.integers(max_value=-(2**63))
SCALARS = st.none() | st.booleans() | INTEGERS | st.floats() | st.text(max_size=6)
KEYS = st.sampled_from(["loss", "config", "weights", "__npy__", "__ref__"]) | st.text(max_size=4)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
                    max_leaves=8)
VALUES = st.recursive(SCALARS | ARRAYS | st.builds(Kept, st.sampled_from(["obj-0", "obj-1", "obj-9"])),
                      lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
                      max_leaves=8)
PATHS = st.lists(st.integers(0, 7) | st.sampled_from(["config", "layers", "loss", "weights"]), min_size=1,
                 max_size=6).map(tuple)
ERRORS = JSON | st.fixed_dictionaries(
    {"type": st.sampled_from(["ValueError", "NotImplementedError", "ImportError", "TypeError", "Rigged"]),
     "message": st.text(max_size=20)},
    optional={"mro": st.lists(st.text(max_size=12) | INTEGERS, max_size=3), "where": JSON})
ANSWERS = st.one_of(st.just(Right()), st.builds(Returns, VALUES),
                    st.builds(Changed, PATHS, VALUES | st.just(REMOVED) | st.builds(Cast, DTYPES)),
                    st.builds(Raises, ERRORS))


@pytest.fixture(scope="module", autouse=True)
def suites_alone():
    """As `grade` runs them: no installed pytest plugin (hypothesis's own) in the suites' run."""
    pipeline.make_reference_importable()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        patch.setattr(platform, "platform", lambda: "Linux (unit test)")  # it runs `uname -p`
        yield


# Each example once made `grade` exit 3 ("internal grader error, please report it"). A script of one
# answer gives it to every call of each check; `Right()` first, to every call but the first.
@example([Returns(None)])
@example([Returns(True)])
@example([Returns(float("nan"))])
@example([Returns(10**400)])  # an integer too large for a float
@example([Returns("goodbye")])  # a string where an array or a list is expected
@example([Returns([["g"], ["o"]])])  # a list of lists where characters are; 2 items where 3 are documented
@example([Returns([[1.0, 2.0], [3.0]])])  # a ragged list
@example([Returns({"loss": {"loss": [1.0]}})])  # nested dicts
@example([Right(), Returns(np.zeros(()))])  # a 0-d array: the model's output, rnn_step's, decode's
@example([Changed((1,), REMOVED)])  # make_dataset's (x, y) where (x, y, alphabet) is documented
@example([Changed((2,), [["g"], ["o"], ["d"]])])  # make_dataset's alphabet: lists, and too few
@example([Changed(("loss", 0), 10**400)])  # train's loss: an integer too large for a float
@example([Changed(("weights",), 7)])  # the exported model's weights: not a list
@example([Changed(("config", "class_name"), ["Sequential"])])  # the model's config: an unhashable class name
@example([Changed(("config", "config"), [])])
@example([Changed(("config", "config", "layers", 0, "config"), [1])])
@example([Changed(("config", "config", "layers", 0, "config", "batch_shape"), 5)])
@example([Changed(("config", "build_config", "input_shape", 2), [7])])
@settings(max_examples=30, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(answers=st.lists(ANSWERS, min_size=1, max_size=4))
def test_any_returned_value_is_the_learners_result(answers):
    """Whatever each learner call answers, every check of every suite passes or fails with a message for
    the learner (or reports the learner's exception), and the report is valid."""
    assert_learner_facing(answers)


def test_a_reply_nested_too_deep_to_decode_is_the_learners():
    """A list 600 deep is valid JSON within the parser's depth, and the learner's result like any other (one
    check: pytest takes a second to look for the recursion in each such traceback)."""
    assert_learner_facing([Returns(json.loads("[" * 600 + "]" * 600))],
                          [f"{SUITES}/public/test_forward.py::test_softmax_large_logits"])


class UntrainedNextLetter(StandInNextLetter):
    """A train that fits nothing: it makes up one loss per epoch and leaves the weights as build_model did."""

    @staticmethod
    def train(model: StandInModel, x: np.ndarray, y: np.ndarray, epochs: int = 6, seed: int = 0) -> dict:
        return {"loss": [1.0] * epochs}


@pytest.mark.parametrize(("module", "status", "misconception"), [
    (StandInNextLetter, Status.PASSED, None),
    (UntrainedNextLetter, Status.FAILED, "train-does-not-train"),
])
def test_the_reproducibility_point_needs_a_train_that_trains(monkeypatch, module, status, misconception):
    """Two untrained copies of a model are equal too: a train that changes no weight is diagnosed, not
    given the point for reproducibility."""
    monkeypatch.setitem(REFERENCES, "next_letter", module)
    report, crashes = grade_scripted([Right()], [f"{SUITES}/public/test_next_letter.py::test_train_is_reproducible"])
    [test] = report["tests"]
    assert (test["status"], test["misconception"], test["score"]) == (status, misconception, float(not misconception))
    assert crashes == {}
