"""What one check's outcome becomes in the report: status, message, misconception, points.

The hidden-message policy lives here: a hidden check shows `HIDDEN_MESSAGE` plus the hint of the
misconception it recognised, or, for a crash, the exception type and the learner's own line; never
the learner's exception text (it may echo hidden inputs) nor the check's own message.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from grader.core.errors import Misconception, SubmissionProblem
from grader.core.status import Status
from grader.grading import feedback

HIDDEN_MESSAGE = "A hidden check failed."


@dataclass
class TestResult:
    name: str
    exercise: str
    description: str
    score: float
    max_score: float
    status: Status
    message: str
    visibility: str
    misconception: str | None
    hint: str | None
    duration_s: float
    details: dict = field(default_factory=dict)
    file: str = ""
    line: int = 0
    internal_error: bool = False


class Credit:
    """Partial credit for the running test: a fraction in [0, 1] and why it is not 1."""

    def __init__(self) -> None:
        self.fraction, self.message = 1.0, ""

    def set(self, fraction: float, message: str) -> None:
        self.fraction, self.message = float(min(max(fraction, 0.0), 1.0)), message


def exercise_of(item: pytest.Item) -> str:
    """public/test_NAME.py and hidden/test_hidden_NAME.py both grade exercise NAME."""
    return Path(item.fspath).stem.removeprefix("test_").removeprefix("hidden_")


def visibility_of(item: pytest.Item) -> str:
    return "hidden" if "hidden" in Path(item.fspath).parts else "public"


def classify(excinfo: Any, report: pytest.TestReport, visibility: str) -> tuple[Status, str, str | None, bool]:
    """(status, message, misconception id, internal error?) for one test's outcome."""
    if report.skipped:
        return Status.SKIPPED, str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else "", None, False
    if excinfo is None:
        return Status.PASSED, "", None, False
    exc = excinfo.value
    hidden = visibility == "hidden"
    if isinstance(exc, Misconception) and feedback.hint(exc.id) is None:
        return (Status.ERROR, f"internal grader error (misconception id {exc.id!r} is not declared: add it to "
                "grader/grading/feedback.py); please report it", None, True)
    if isinstance(exc, Misconception):
        shown = f"{HIDDEN_MESSAGE} {feedback.hint(exc.id)}" if hidden else exc.message
        return Status.FAILED, shown, exc.id, False
    if isinstance(exc, SubmissionProblem):
        return exc.status, exc.public_message if hidden else exc.message, None, False
    if isinstance(exc, AssertionError | pytest.fail.Exception):
        return Status.FAILED, HIDDEN_MESSAGE if hidden else first_line(exc), None, False
    detail = "" if hidden else f": {first_line(exc)}"
    return Status.ERROR, f"internal grader error ({type(exc).__name__}{detail}); please report it", None, True


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:500] if text else type(exc).__name__
