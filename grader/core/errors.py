"""Every exception the grader raises on purpose, and the exit status or report status each leads to.

- command errors: `UsageError` (exit 2: the command line names something that cannot be graded),
  `GraderError` (exit 3: the grader itself failed, never the learner), `SandboxUnavailable`;
- submission problems: something about the learner's code, reported in the check that hit it
  (status `error`), with a `public_message` safe to show for hidden checks;
- check failures: `AssertionError`s a check raises (status `failed`): `Misconception` names a
  mistake by its id, `ModelRejected` and `DeviceCheckFailed` say why a model could not be judged.
"""

import builtins
import re
from typing import Any

from grader.core import sanitise
from grader.core.status import Status


class UsageError(Exception):
    """The command line names something that cannot be graded (exit status 2)."""


class GraderError(Exception):
    """The grader itself failed (exit status 3): a broken suite or installation, never the learner."""


class SandboxUnavailable(GraderError):
    """--isolation strict was asked for, and the full sandbox cannot be had here."""


class LeakFound(Exception):
    """A solution line or a hidden-suite name was found in the release."""


class UnsafeOutput(Exception):
    """A file or value from the learner's process that the grader refuses to read."""


class SubmissionProblem(Exception):
    """Something about the learner's code, not the grader: reported in the test that hit it.

    `message` may quote the learner's exception text; `public_message` holds nothing that learner
    code chose, so it is safe to show for hidden tests.
    """

    status = Status.ERROR

    def __init__(self, message: str, public_message: str | None = None):
        super().__init__(message)
        self.message = message
        self.public_message = public_message or message


# What learner code may import when it is graded: every import failure's message names it.
GRADING_ENVIRONMENT = "numpy, TensorFlow/Keras and Python's standard library"
IMPORT_FAILURES = ("ImportError", "ModuleNotFoundError")
MISSING_MODULE = re.compile(r"No module named '([A-Za-z_][\w.]*)'")


class LearnerError(SubmissionProblem):
    """The learner's function raised an exception (or importing the learner's module did).

    Every field of the worker's report is learner-controlled: each passes `sanitise.clean` here, and
    the public message names only `builtin_type` (`grading.outcomes.hidden_crash` adds the learner's
    line). A failed import (`import_failed`) is an error of the code, never a mistake that a check
    diagnoses: its message names the missing module and what the grading environment has instead.

    what: the call, in the grader's words ("forward.rnn_step()"); error: the worker's {"type",
    "message", "where", "mro"}.
    """

    def __init__(self, what: str, error: dict[str, Any]):
        self.type_name = sanitise.clean(error.get("type") or "Exception", sanitise.TYPE_NAME_CHARS)
        self.builtin_type = builtin_ancestor(error.get("mro"), self.type_name)
        mro = error.get("mro")
        # The names of the exception's classes, itself first: a learner's own subclass of ValueError is one.
        self.ancestry = tuple(name for name in mro if isinstance(name, str)) if isinstance(mro, list) else ()
        self.where = sanitise.clean(error.get("where") or "", sanitise.PLACE_CHARS)
        self.import_failed = self.type_name in IMPORT_FAILURES
        text = sanitise.clean(error.get("message") or "", sanitise.TEXT_CHARS)
        message = f"{what} raised {self.type_name}{f' at {self.where}' if self.where else ''}: {text}"
        if self.import_failed:
            found = MISSING_MODULE.match(text)
            message += (f". The module {found.group(1)} is not available in the grading environment, which has "
                        f"only {GRADING_ENVIRONMENT}: use those instead, or hand in a module of your own beside "
                        "the exercise files" if found else
                        f". An import failed: the grading environment has only {GRADING_ENVIRONMENT}, and the "
                        "modules handed in beside the exercise files")
        super().__init__(message, f"{what} raised {self.builtin_type}")


# Python's own exception types: the only type names a hidden check shows.
BUILTIN_EXCEPTIONS = frozenset(name for name, value in vars(builtins).items()
                               if isinstance(value, type) and issubclass(value, BaseException))


def builtin_ancestor(mro: object, type_name: str) -> str:
    """The first of Python's own exception types in `mro` (the names the worker reports for the
    exception's class, itself first; just `type_name` if it reported none), else "Exception"."""
    names = mro if isinstance(mro, list) else [type_name]
    return next((name for name in names if isinstance(name, str) and name in BUILTIN_EXCEPTIONS), "Exception")


class TimeLimit(SubmissionProblem):
    """A call ran past its time limit (an infinite loop, `input()`, a debugger breakpoint)."""


class WorkerExited(SubmissionProblem):
    """The worker process ended during a call (`os._exit`, a crash, a signal)."""


class BadOutput(SubmissionProblem):
    """The worker replied with something that is not acceptable data."""


class Misconception(AssertionError):
    """A failed check that recognised a specific mistake, named by a declared id
    (an exercise's `solutions/NAME.toml`, `grader/grading/feedback.py`); an undeclared id is reported as a
    grader error."""

    def __init__(self, misconception_id: str, message: str):
        super().__init__(message)
        self.id = misconception_id
        self.message = message


class ModelRejected(AssertionError):
    """The model is not one the grader will evaluate; the message says why and what to use."""


class DeviceCheckFailed(AssertionError):
    """The model could not be run on both devices, or its outputs disagree."""
