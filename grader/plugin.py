"""The pytest plugin that turns the suites' outcomes into graded results.

It gives tests their fixtures (`learner`, `rng`, `credit`, `settings`), reads each test's points
from `@pytest.mark.points(n)`, and records one `TestResult` per test. It runs in the trusted process
only; learner code is reached through `learner.<module>` (see `worker_client.py`).
"""

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from grader import feedback, preload
from grader.device_client import DeviceChecker
from grader.sandbox import Limits, PlainProcess
from grader.worker_client import LearnerModule, ModuleCalls, SubmissionProblem

HIDDEN_MESSAGE = "A hidden check failed."
SUITES_PARENT = Path(__file__).resolve().parents[1]  # test files are reported as grader/suites/...


@dataclass
class TestResult:
    name: str
    exercise: str
    description: str
    score: float
    max_score: float
    status: str
    message: str
    visibility: str
    misconception: str | None
    hint: str | None
    duration_s: float
    details: dict = field(default_factory=dict)
    file: str = ""
    line: int = 0
    internal_error: bool = False


@dataclass
class Settings:
    """What a grading run is told: where the learner's sources are, the seed and the limits."""

    src_dir: Path
    work_dir: Path
    seed: int = 0
    hash_seed: int = 0
    limits: Limits = field(default_factory=Limits)
    problems: dict = field(default_factory=dict)
    isolation: object = None  # a sandbox.PlainProcess or sandbox.Bubblewrap


class Credit:
    """Partial credit for the running test: a fraction in [0, 1] and why it is not 1."""

    def __init__(self):
        self.fraction, self.message = 1.0, ""

    def set(self, fraction, message):
        self.fraction, self.message = float(min(max(fraction, 0.0), 1.0)), message


class Learner:
    """One `LearnerModule` per exercise, started on first use; `spawn` gives a separate extra one."""

    def __init__(self, settings):
        self.settings = settings
        self.modules = {}
        self.extra = []
        # When batch grading, the slot's preloaded zygotes (preload.py) fork the workers.
        self.slot = preload.attached().get("learner")
        if self.slot:
            preload.fill_slot(self.slot, settings.src_dir)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return ModuleCalls(self.module(name))

    def module(self, name):
        """The `LearnerModule` (worker) for `name`, created on first use."""
        if name not in self.modules:
            self.modules[name] = self.new(name, self.settings.hash_seed)
        return self.modules[name]

    def new(self, name, hash_seed):
        s = self.settings
        module = LearnerModule(s.src_dir, s.work_dir, name, s.limits, hash_seed, s.isolation or PlainProcess(s.limits),
                               preload.zygote_for(self.slot, hash_seed))
        if name in s.problems:
            module.import_problem = SubmissionProblem(s.problems[name])
        return module

    def spawn(self, name, hash_seed):
        """A second worker for `name` with another PYTHONHASHSEED (closed at the end of the run).

        It starts now, so a test that spawns several before calling them starts them side by side.
        """
        module = self.new(name, hash_seed)
        self.extra.append(module)
        module.start()
        return ModuleCalls(module)

    def close(self):
        for module in [*self.modules.values(), *self.extra]:
            module.close()


def exercise_of(item):
    """public/test_NAME.py and hidden/test_hidden_NAME.py both grade exercise NAME."""
    return Path(item.fspath).stem.removeprefix("test_").removeprefix("hidden_")


def visibility_of(item):
    return "hidden" if "hidden" in Path(item.fspath).parts else "public"


class GradingPlugin:
    def __init__(self, settings):
        # Attribute names differ from the fixture names: pytest reads fixtures off this object.
        self.run_settings = settings
        self.workers = Learner(settings)
        self.results = []
        self.environment_facts = {}
        self.feedback_artifacts = {}
        self.checker = DeviceChecker(settings.work_dir, settings.limits)

    # -- fixtures -----------------------------------------------------------------------------
    @pytest.fixture(scope="session")
    def learner(self):
        return self.workers

    @pytest.fixture(scope="session")
    def settings(self):
        return self.run_settings

    @pytest.fixture
    def rng(self, request):
        """A generator seeded by the run's seed and the test's name: stable across runs and tests."""
        return np.random.default_rng([self.run_settings.seed, zlib.crc32(request.node.nodeid.encode())])

    @pytest.fixture(scope="session")
    def device_checker(self):
        """Runs a saved model on two devices in a process free of learner code (see device_client.py)."""
        return self.checker

    @pytest.fixture(scope="session")
    def facts(self):
        """Facts about the grading environment a test found out (devices seen), for the report."""
        return self.environment_facts

    @pytest.fixture(scope="session")
    def artifacts(self):
        """Data for the learner's feedback page (loss curve, prefix table): public checks only."""
        return self.feedback_artifacts

    @pytest.fixture
    def details(self, request):
        """Figures a test reports beside its score (accuracy ceiling, longer prefixes): numbers only."""
        request.node.details = {}
        return request.node.details

    @pytest.fixture
    def credit(self, request):
        request.node.credit = Credit()
        return request.node.credit

    # -- hooks --------------------------------------------------------------------------------
    def pytest_configure(self, config):
        config.addinivalue_line("markers", "points(n): points this test is worth")

    def pytest_collection_finish(self, session):
        """Start every needed worker now, so TensorFlow's import overlaps the numpy checks."""
        for exercise in sorted({exercise_of(item) for item in session.items}, reverse=True):
            self.workers.module(exercise).start()
        if any("device_checker" in item.fixturenames for item in session.items):
            self.checker.start()

    def pytest_sessionfinish(self, session):
        self.workers.close()
        self.checker.close()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if call.when == "setup":
            # Module fixtures (training a model) are counted in the first test that needs them.
            item.setup_s = call.duration
        failed_setup = call.when == "setup" and report.failed
        if call.when == "call" or failed_setup or (call.when == "setup" and report.skipped):
            self.results.append(self.result(item, call, report))

    def result(self, item, call, report):
        marker = item.get_closest_marker("points")
        points = float(marker.args[0]) if marker else 1.0
        visibility = visibility_of(item)
        status, message, misconception, internal = classify(call.excinfo, report, visibility)
        fraction = getattr(item, "credit", Credit()).fraction if status == "passed" else 0.0
        if status == "passed" and fraction < 1.0:
            status, message = "failed", item.credit.message
        doc = (item.function.__doc__ or "").strip().splitlines()
        return TestResult(
            name=f"{visibility}/{exercise_of(item)}/{item.name}",
            exercise=exercise_of(item),
            description=doc[0] if doc else item.name,
            score=round(points * fraction, 4),
            max_score=points,
            status=status,
            message=message,
            visibility=visibility,
            misconception=misconception,
            hint=feedback.hint(misconception) if misconception else None,
            details=getattr(item, "details", {}),
            file=str(Path(item.fspath).relative_to(SUITES_PARENT)),
            line=item.location[1] + 1,
            duration_s=round(getattr(item, "setup_s", 0.0) + (call.duration if call.when == "call" else 0.0), 4),
            internal_error=internal,
        )


def classify(excinfo, report, visibility):
    """(status, message, misconception id, internal error?) for one test's outcome."""
    if report.skipped:
        return "skipped", str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else "", None, False
    if excinfo is None:
        return "passed", "", None, False
    exc = excinfo.value
    hidden = visibility == "hidden"
    if isinstance(exc, feedback.Misconception):
        shown = f"{HIDDEN_MESSAGE} {feedback.hint(exc.id)}" if hidden else exc.message
        return "failed", shown, exc.id, False
    if isinstance(exc, SubmissionProblem):
        return exc.status, exc.public_message if hidden else exc.message, None, False
    if isinstance(exc, AssertionError | pytest.fail.Exception):
        return "failed", HIDDEN_MESSAGE if hidden else first_line(exc), None, False
    detail = "" if hidden else f": {first_line(exc)}"
    return "error", f"internal grader error ({type(exc).__name__}{detail}); please report it", None, True


def first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0][:500] if text else type(exc).__name__
