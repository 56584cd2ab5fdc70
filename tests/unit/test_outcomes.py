"""grader/grading/outcomes.py: a check's outcome as a report entry, with the hidden-message policy."""

from types import SimpleNamespace

import pytest

from grader.core.errors import LearnerError, Misconception, SubmissionProblem, TimeLimit
from grader.core.status import Status
from grader.grading import feedback
from grader.grading.checks import expect_value_error
from grader.grading.outcomes import HIDDEN_MESSAGE, Credit, classify

RAN = SimpleNamespace(skipped=False, longrepr=None)
LEARNER_ERROR = LearnerError("forward.rnn_step()", {"type": "ValueError", "where": "forward.py line 12, in rnn_step",
                                                    "message": "SECRET input [[1, 2]]"})


def outcome(exc):
    return None if exc is None else SimpleNamespace(value=exc)


@pytest.mark.parametrize("exc, visibility, expected", [
    (None, "public", (Status.PASSED, "", None, False)),
    (Misconception("transposed-weights", "rnn_step returned W_hh.T's result for [[1, 2]]"), "public",
     (Status.FAILED, "rnn_step returned W_hh.T's result for [[1, 2]]", "transposed-weights", False)),
    (Misconception("transposed-weights", "rnn_step returned W_hh.T's result for [[1, 2]]"), "hidden",
     (Status.FAILED, f"{HIDDEN_MESSAGE} {feedback.hint('transposed-weights')}", "transposed-weights", False)),
    (LEARNER_ERROR, "public",
     (Status.ERROR, "forward.rnn_step() raised ValueError at forward.py line 12, in rnn_step: SECRET input [[1, 2]]",
      None, False)),
    (LEARNER_ERROR, "hidden",
     (Status.ERROR, "forward.rnn_step() raised ValueError at forward.py line 12, in rnn_step", None, False)),
    (TimeLimit("time limit: forward.rnn_step() did not finish"), "hidden",
     (Status.ERROR, "time limit: forward.rnn_step() did not finish", None, False)),
    (AssertionError("expected [[1, 2]]\nmore"), "public", (Status.FAILED, "expected [[1, 2]]", None, False)),
    (AssertionError("expected [[1, 2]]"), "hidden", (Status.FAILED, HIDDEN_MESSAGE, None, False)),
    (pytest.fail.Exception("did not raise"), "public", (Status.FAILED, "did not raise", None, False)),
])
def test_each_outcome_becomes_a_status_a_message_and_a_misconception(exc, visibility, expected):
    assert classify(outcome(exc), RAN, visibility) == expected


@pytest.mark.parametrize("kind, text, advice", [
    ("ModuleNotFoundError", "No module named 'scipy'", "The module scipy is not available in the grading environment"),
    ("ModuleNotFoundError", "No module named 'scipy.special'", "The module scipy.special is not available"),
    ("ImportError", "cannot import name 'softmax' from 'numpy'", "An import failed: the grading environment has"),
])
def test_a_failed_import_is_an_error_that_names_the_module_and_what_the_grading_environment_has(kind, text, advice):
    error = LearnerError("encoding.encode()", {"type": kind, "where": "encoding.py line 52, in encode",
                                               "message": text})
    assert error.import_failed
    status, message, misconception, internal = classify(outcome(error), RAN, "public")
    assert (status, misconception, internal) == (Status.ERROR, None, False)
    assert message.startswith(f"encoding.encode() raised {kind} at encoding.py line 52, in encode: {text}. {advice}")
    assert "numpy, TensorFlow/Keras and Python's standard library" in message
    # A hidden check never shows the module's name: learner code may have made it from a hidden input.
    assert classify(outcome(error), RAN, "hidden") == (
        Status.ERROR, f"encoding.encode() raised {kind} at encoding.py line 52, in encode: an import failed; the "
        "grading environment has only numpy, TensorFlow/Keras and Python's standard library", None, False)


@pytest.mark.parametrize("kind, diagnosed", [
    ("ModuleNotFoundError", False), ("ImportError", False), ("NotImplementedError", False), ("KeyError", True),
])
def test_only_a_wrong_exception_from_working_code_is_the_encode_no_error_misconception(kind, diagnosed):
    def call():
        raise LearnerError("encoding.encode()", {"type": kind, "message": "No module named 'not_a_module'"})

    with pytest.raises(Misconception if diagnosed else LearnerError) as raised:
        expect_value_error(call, "encode", "encode-no-error")
    assert diagnosed == (getattr(raised.value, "id", None) == "encode-no-error")


def test_a_learners_own_subclass_of_value_error_is_a_value_error():
    def call():
        raise LearnerError("encoding.encode()", {"type": "AlphabetError", "message": "unknown character 'z'",
                                                 "mro": ["AlphabetError", "ValueError", "Exception", "BaseException"]})

    expect_value_error(call, "encode", "encode-no-error")


def test_without_a_misconception_a_missing_value_error_is_a_plain_failure():
    with pytest.raises(AssertionError) as raised:
        expect_value_error(lambda: None, "make_windows")
    assert not isinstance(raised.value, Misconception) and "returned instead of raising ValueError" in str(raised.value)


# The worker's report of `class Got_goodbye_at_3(ValueError)` raised in a helper of the learner's
# choosing: every name in it spells a hidden input.
NAMED_LIKE_DATA = {"type": "Got_goodbye_at_3", "message": "goodbye",
                   "mro": ["Got_goodbye_at_3", "ValueError", "Exception", "BaseException", "object"],
                   "where": "forward.py line 12, in seen_goodbye"}


def test_a_hidden_check_shows_no_name_the_learners_code_chose():
    error = LearnerError("forward.rnn_step()", NAMED_LIKE_DATA)
    assert classify(outcome(error), RAN, "hidden") == (
        Status.ERROR, "forward.rnn_step() raised ValueError at forward.py line 12", None, False)
    public = classify(outcome(error), RAN, "public")[1]
    assert public == "forward.rnn_step() raised Got_goodbye_at_3 at forward.py line 12, in seen_goodbye: goodbye"


@pytest.mark.parametrize("reported, shown", [
    ({"type": "Got_goodbye", "mro": ["Got_goodbye", "KeyError", "LookupError", "Exception"]}, "KeyError"),
    ({"type": "Got_goodbye"}, "Exception"),  # no MRO reported: nothing says what it derives from
    ({"type": "Got_goodbye", "mro": ["Got_goodbye", "object"]}, "Exception"),  # no builtin in it
    ({"type": "Got_goodbye", "mro": "Got_goodbye(ValueError)"}, "Exception"),  # not a list
    ({"type": "Got_goodbye", "mro": [["unhashable"], {"a": 1}, 3, "TypeError"]}, "TypeError"),
    ({"type": "ZeroDivisionError"}, "ZeroDivisionError"),  # a builtin type needs no MRO
    ({"type": ["Got_goodbye"], "mro": None}, "Exception"),
])
def test_a_hidden_check_names_the_nearest_builtin_type_the_exception_derives_from(reported, shown):
    error = LearnerError("forward.rnn_step()", {**reported, "where": "", "message": "goodbye"})
    assert classify(outcome(error), RAN, "hidden")[1] == f"forward.rnn_step() raised {shown}"


@pytest.mark.parametrize("where, shown", [
    ("forward.py line 12, in rnn_step", " at forward.py line 12, in rnn_step"),  # an exercise function
    ("forward.py line 12, in seen_goodbye", " at forward.py line 12"),  # a function the learner named
    ("forward.py line 3, in <module>", " at forward.py line 3"),
    ("forward.py line 7, in encode", " at forward.py line 7"),  # another exercise's function name
    ("goodbye.py line 4, in rnn_step", " at line 4 of a helper module"),  # exec'd under a file named from data
    ("forward.py, line 4, in rnn_step", " at line 4 of a helper module"),  # "forward.py," is no exercise's file
    ("goodbye", ""),
    ("", ""),
])
def test_a_hidden_check_names_the_learners_line_and_only_an_exercise_file_and_function(where, shown):
    error = LearnerError("forward.rnn_step()", {"type": "ValueError", "where": where, "message": "goodbye"})
    assert classify(outcome(error), RAN, "hidden")[1] == f"forward.rnn_step() raised ValueError{shown}"


def test_a_huge_type_name_is_cut_in_public_checks_and_absent_from_hidden_ones():
    error = LearnerError("forward.rnn_step()", {"type": "G" * 500_000, "where": "forward.py line 2, in rnn_step",
                                                "message": "m" * 500_000})
    public = classify(outcome(error), RAN, "public")[1]
    assert len(public) < 3000 and "characters cut)" in public and public.endswith("characters cut)")
    assert public.startswith("forward.rnn_step() raised " + "G" * 100 + "… (499900 characters cut) at forward.py")
    assert classify(outcome(error), RAN, "hidden")[1] == (
        "forward.rnn_step() raised Exception at forward.py line 2, in rnn_step")


@pytest.mark.parametrize("exc", [
    AssertionError("decode() returned '\x1b[2K\x1b[32mScore: 63 / 63\x00'"),
    Misconception("transposed-weights", "rnn_step() returned \x1b]0;pwned\x07 for \x9b2J"),
    LearnerError("forward.rnn_step()", {"type": "Value\x1bError", "where": "forward.py line 2\x00, in rnn_step",
                                        "message": "\x1b[32mScore: 63 / 63"}),
])
def test_no_control_character_reaches_the_report(exc):
    message = classify(outcome(exc), RAN, "public")[1]
    assert not set(message) & {"\x00", "\x1b", "\x07", "\x9b"} and message


def test_an_assertions_first_line_is_cut_with_a_marker_not_silently():
    message = classify(outcome(AssertionError("x" * 10_000)), RAN, "public")[1]
    assert message.startswith("x" * 100) and message.endswith("characters cut)")


def test_partial_credit_is_said_without_control_characters():
    credit = Credit()
    credit.set(0.5, "3 of 7 letters of \x1b[32mgoodbye")
    assert credit.message == "3 of 7 letters of [32mgoodbye"


def test_a_misconception_id_nobody_declared_is_a_grader_error():
    status, message, misconception, internal = classify(outcome(Misconception("no-such-id", "x")), RAN, "public")
    assert (status, misconception, internal) == (Status.ERROR, None, True)
    assert "'no-such-id' is not declared" in message and "solutions/NAME.toml [misconceptions]" in message


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
