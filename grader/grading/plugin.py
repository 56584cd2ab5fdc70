"""The pytest plugin that turns the suites' outcomes into graded results.

It gives tests their fixtures (`learner`, `rng`, `credit`, `settings`, `details`, `facts`,
`artifacts`, `device_checker`), reads each test's points from `@pytest.mark.points(n)`, and records
one `TestResult` per test (`outcomes.py`). It runs in the trusted process only; learner code is
reached through `learner.<module>` (`learner.py`).
"""

import zlib
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.core.config import PACKAGE_DIR
from grader.core.status import Status
from grader.device.client import DeviceChecker
from grader.grading import feedback
from grader.grading.learner import Learner, Settings
from grader.grading.outcomes import Credit, TestResult, classify, exercise_of, visibility_of

SUITES_PARENT = PACKAGE_DIR.parent  # test files are reported as grader/suites/...


class GradingPlugin:
    """The fixtures and hooks of one grading run (pytest reads fixtures off this object)."""

    def __init__(self, settings: Settings):
        # Attribute names differ from the fixture names, which pytest reads off this object.
        self.run_settings = settings
        self.workers = Learner(settings)
        self.results: list[TestResult] = []
        self.environment_facts: dict[str, Any] = {}
        self.feedback_artifacts: dict[str, Any] = {}
        self.checker = DeviceChecker(settings.work_dir, settings.limits)

    # -- fixtures -----------------------------------------------------------------------------
    @pytest.fixture(scope="session")
    def learner(self) -> Learner:
        return self.workers

    @pytest.fixture(scope="session")
    def settings(self) -> Settings:
        return self.run_settings

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        """A generator seeded by the run's seed and the test's name: stable across runs and tests."""
        return np.random.default_rng([self.run_settings.seed, zlib.crc32(request.node.nodeid.encode())])

    @pytest.fixture(scope="session")
    def device_checker(self) -> DeviceChecker:
        """Runs a saved model on two devices in a process free of learner code (`grader/device/`)."""
        return self.checker

    @pytest.fixture(scope="session")
    def facts(self) -> dict[str, Any]:
        """Facts about the grading environment a test found out (devices seen), for the report."""
        return self.environment_facts

    @pytest.fixture(scope="session")
    def artifacts(self) -> dict[str, Any]:
        """Data for the learner's feedback page (loss curve, prefix table): public checks only."""
        return self.feedback_artifacts

    @pytest.fixture
    def details(self, request: pytest.FixtureRequest) -> dict[str, Any]:
        """Figures a test reports beside its score (accuracy ceiling, longer prefixes): numbers only."""
        request.node.details = {}
        return request.node.details

    @pytest.fixture
    def credit(self, request: pytest.FixtureRequest) -> Credit:
        """Partial credit: `credit.set(fraction, why)` scores a passing test below its points."""
        request.node.credit = Credit()
        return request.node.credit

    # -- hooks --------------------------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points this test is worth")
        config.addinivalue_line("markers", "hint(text): what to look at when this test fails without naming a "
                                           "misconception (every hidden test has one: a learner sees no message)")
        # No traceback text for failed checks: nothing shows it (`outcomes.classify` judges the exception
        # itself), and pytest parses the source of every frame to make it, about 20 ms per failed check.
        config.option.tbstyle = "no"

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.workers.open()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Start every needed worker now, so TensorFlow's import overlaps the numpy checks."""
        for exercise in sorted({exercise_of(item) for item in session.items}, reverse=True):
            self.workers.module(exercise).start()
        if any(isinstance(item, pytest.Function) and "device_checker" in item.fixturenames for item in session.items):
            self.checker.start()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.workers.close()
        self.checker.close()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Generator[None, Any, None]:
        outcome = yield
        report = outcome.get_result()
        if call.when == "setup":
            # Module fixtures (training a model) are counted in the first test that needs them.
            setattr(item, "setup_s", call.duration)  # noqa: B010 - an attribute of ours, unknown to pytest.Item
        failed_setup = call.when == "setup" and report.failed
        if call.when == "call" or failed_setup or (call.when == "setup" and report.skipped):
            self.results.append(self.result(item, call, report))

    def result(self, item: Any, call: pytest.CallInfo, report: pytest.TestReport) -> TestResult:
        marker = item.get_closest_marker("points")
        points = float(marker.args[0]) if marker else 1.0
        visibility = visibility_of(item)
        status, message, misconception, internal = classify(call.excinfo, report, visibility)
        fraction = getattr(item, "credit", Credit()).fraction if status == Status.PASSED else 0.0
        if status == Status.PASSED and fraction < 1.0:
            status, message = Status.FAILED, item.credit.message
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
            hint=hint_for(item, status, misconception),
            details=getattr(item, "details", {}),
            file=str(Path(item.fspath).relative_to(SUITES_PARENT)),
            line=item.location[1] + 1,
            duration_s=round(getattr(item, "setup_s", 0.0) + (call.duration if call.when == "call" else 0.0), 4),
            internal_error=internal,
        )




def hint_for(item: pytest.Item, status: Status, misconception: str | None) -> str | None:
    """The misconception's hint; for a check that failed without naming one, the check's own `hint` marker."""
    if misconception:
        return feedback.hint(misconception)
    marker = item.get_closest_marker("hint")
    return str(marker.args[0]) if marker and status == Status.FAILED else None
