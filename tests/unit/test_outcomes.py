"""grader/grading/outcomes.py: a check's outcome as a report entry, with the hidden-message policy."""

from types import SimpleNamespace

import pytest

from grader.core.errors import LearnerError, Misconception, SubmissionProblem, TimeLimit
from grader.core.status import Status
from grader.grading import feedback
from grader.grading.outcomes import HIDDEN_MESSAGE, Credit, classify

RAN = SimpleNamespace(skipped=False, longrepr=None)
LEARNER_ERROR = LearnerError("forward.rnn_step()", {"type": "ValueError", "where": "forward.py:12",
                                                    "message": "SECRET input [[1, 2]]"})


def outcome(exc):
    return None if exc is None else SimpleNamespace(value=exc)


@pytest.mark.parametrize("exc, visibility, expected", [
    (None, "public", (Status.PASSED, "", None, False)),
    (Misconception("transposed-weights", "rnn_step returned W_hh.T's result for [[1, 2]]"), "public",
     (Status.FAILED, "rnn_step returned W_hh.T's result for [[1, 2]]", "transposed-weights", False)),
    (Misconception("transposed-weights", "rnn_step returned W_hh.T's result for [[1, 2]]"), "hidden",
     (Status.FAILED, f"{HIDDEN_MESSAGE} {feedback.HINTS['transposed-weights']}", "transposed-weights", False)),
    (LEARNER_ERROR, "public",
     (Status.ERROR, "forward.rnn_step() raised ValueError at forward.py:12: SECRET input [[1, 2]]", None, False)),
    (LEARNER_ERROR, "hidden", (Status.ERROR, "forward.rnn_step() raised ValueError at forward.py:12", None, False)),
    (TimeLimit("time limit: forward.rnn_step() did not finish"), "hidden",
     (Status.ERROR, "time limit: forward.rnn_step() did not finish", None, False)),
    (AssertionError("expected [[1, 2]]\nmore"), "public", (Status.FAILED, "expected [[1, 2]]", None, False)),
    (AssertionError("expected [[1, 2]]"), "hidden", (Status.FAILED, HIDDEN_MESSAGE, None, False)),
    (pytest.fail.Exception("did not raise"), "public", (Status.FAILED, "did not raise", None, False)),
])
def test_each_outcome_becomes_a_status_a_message_and_a_misconception(exc, visibility, expected):
    assert classify(outcome(exc), RAN, visibility) == expected


def test_a_misconception_id_nobody_declared_is_a_grader_error():
    status, message, misconception, internal = classify(outcome(Misconception("no-such-id", "x")), RAN, "public")
    assert (status, misconception, internal) == (Status.ERROR, None, True)
    assert "'no-such-id' is not declared" in message and "grader/grading/feedback.py" in message


@pytest.mark.parametrize("visibility, shown", [("public", ": 'W_hh'"), ("hidden", "")])
def test_a_bug_in_a_check_is_an_internal_error_that_hides_its_text_in_hidden_checks(visibility, shown):
    status, message, _, internal = classify(outcome(KeyError("W_hh")), RAN, visibility)
    assert status == Status.ERROR and internal
    assert message == f"internal grader error (KeyError{shown}); please report it"


def test_a_skipped_check_says_why():
    skipped = SimpleNamespace(skipped=True, longrepr=("suite.py", 3, "Skipped: needs a GPU"))
    assert classify(None, skipped, "public") == (Status.SKIPPED, "Skipped: needs a GPU", None, False)


def test_a_submission_problem_keeps_its_status_and_public_message():
    problem = SubmissionProblem("forward.py is larger than 2097152 bytes")
    assert classify(outcome(problem), RAN, "hidden")[:2] == (Status.ERROR, "forward.py is larger than 2097152 bytes")


def test_partial_credit_is_a_fraction_between_0_and_1():
    credit = Credit()
    assert (credit.fraction, credit.message) == (1.0, "")
    credit.set(1.5, "too generous")
    assert credit.fraction == 1.0
    credit.set(-1, "4 of 7 letters")
    assert (credit.fraction, credit.message) == (0.0, "4 of 7 letters")
