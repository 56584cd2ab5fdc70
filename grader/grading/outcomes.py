"""What one check's outcome becomes in the report: status, message, misconception, points.

The hidden-message policy lives here: a hidden check shows `HIDDEN_MESSAGE` plus the hint of the
misconception it recognised, or, for a crash, the nearest of Python's own exception types the
learner's exception derives from and the learner's line (`hidden_crash`); never the learner's
exception text, the name of its class, of a function or a file the learner chose (any of them may
spell a hidden input), nor the check's own message. Every message passes `sanitise.clean` on its
way into the report.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from grader.core import sanitise
from grader.core.course import course
from grader.core.errors import GRADING_ENVIRONMENT, LearnerError, Misconception, SubmissionProblem
from grader.core.status import Status
from grader.grading import feedback

HIDDEN_MESSAGE = "A hidden check failed."
# How the worker names the learner's innermost line (untrusted/worker.py: describe_error).
PLACE = re.compile(r"(?P<file>.+) line (?P<line>\d+), in (?P<function>.+)")


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
        # The report takes this message as it is (grading/plugin.py), not through `classify`.
        self.fraction = float(min(max(fraction, 0.0), 1.0))
        self.message = sanitise.clean(message, sanitise.MESSAGE_CHARS)


def exercise_of(item: pytest.Item) -> str:
    """public/test_NAME.py and hidden/test_hidden_NAME.py both grade exercise NAME."""
    return Path(item.fspath).stem.removeprefix("test_").removeprefix("hidden_")


def visibility_of(item: pytest.Item) -> str:
    return "hidden" if "hidden" in Path(item.fspath).parts else "public"


def classify(excinfo: Any, report: pytest.TestReport, visibility: str) -> tuple[Status, str, str | None, bool]:
    """(status, message, misconception id, internal error?) for one test's outcome."""
    status, message, misconception, internal = judge(excinfo, report, visibility == "hidden")
    return status, sanitise.clean(message, sanitise.MESSAGE_CHARS), misconception, internal


def judge(excinfo: Any, report: pytest.TestReport, hidden: bool) -> tuple[Status, str, str | None, bool]:
    """`classify`'s answer, its message not yet sanitised."""
    if report.skipped:
        return Status.SKIPPED, str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else "", None, False
    if excinfo is None:
        return Status.PASSED, "", None, False
    exc = excinfo.value
    if isinstance(exc, Misconception) and feedback.hint(exc.id) is None:
        return (Status.ERROR, f"internal grader error (misconception id {exc.id!r} is not declared: add it to the "
                "exercise's solutions/NAME.toml [misconceptions], then run grade build); please report it", None, True)
    if isinstance(exc, Misconception):
        shown = f"{HIDDEN_MESSAGE} {feedback.hint(exc.id)}" if hidden else exc.message
        return Status.FAILED, shown, exc.id, False
    if isinstance(exc, LearnerError) and hidden:
        return exc.status, hidden_crash(exc), None, False
    if isinstance(exc, SubmissionProblem):
        return exc.status, exc.public_message if hidden else exc.message, None, False
    if isinstance(exc, AssertionError | pytest.fail.Exception):
        return Status.FAILED, HIDDEN_MESSAGE if hidden else first_line(exc), None, False
    detail = "" if hidden else f": {first_line(exc)}"
    return Status.ERROR, f"internal grader error ({type(exc).__name__}{detail}); please report it", None, True


def hidden_crash(error: LearnerError) -> str:
    """A learner's exception as a hidden check shows it: "forward.rnn_step() raised ValueError at
    forward.py line 12, in rnn_step", and for a failed import what the grading environment has."""
    shown = error.public_message + hidden_place(error.where)
    if error.import_failed:
        shown += f": an import failed; the grading environment has only {GRADING_ENVIRONMENT}"
    return shown


def hidden_place(where: str) -> str:
    """The learner's line; its file only if it is an exercise's, its function only if that exercise
    names it: learner code names its functions, and its files too (`compile(code, name, "exec")`)."""
    found = PLACE.fullmatch(where)
    if not found:
        return ""
    exercise = found["file"].removesuffix(".py")
    if exercise not in course().names or found["file"] != f"{exercise}.py":
        return f" at line {found['line']} of a helper module"
    function = f", in {found['function']}" if found["function"] in course().functions(exercise) else ""
    return f" at {found['file']} line {found['line']}{function}"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
