"""grading/diagnose.py: a mistake is named only when the output matches it alone; otherwise what differs is
described (the suites' use of it: test_forward_diagnoses.py)."""

import numpy as np
import pytest

from grader.core.errors import LearnerError, Misconception
from grader.grading.diagnose import Mistake, expect_match

RIGHT = np.array([[0.1, 0.2], [0.3, 0.4]])


def failure(actual, mistakes, **kwargs) -> AssertionError:
    with pytest.raises(AssertionError) as raised:
        expect_match(actual, RIGHT, "f", mistakes, **kwargs)
    return raised.value


def test_the_right_answer_passes_as_the_array():
    assert expect_match(RIGHT + 1e-7, RIGHT, "f").shape == (2, 2)


def test_the_one_mistake_matched_is_named_with_what_it_does():
    raised = failure(RIGHT * 2, [Mistake("a", "doubles", RIGHT * 2), Mistake("b", "halves", RIGHT / 2)])
    assert isinstance(raised, Misconception) and raised.id == "a" and raised.message.startswith("f doubles")


def test_mistakes_of_two_ids_matched_alike_name_neither():
    raised = failure(RIGHT * 2, [Mistake("a", "doubles", RIGHT * 2), Mistake("b", "adds itself", RIGHT + RIGHT)])
    assert not isinstance(raised, Misconception) and "differs from the expected values" in str(raised)


def test_a_form_without_an_id_is_described_not_named():
    raised = failure(-RIGHT, [Mistake(None, "negates", -RIGHT)])
    assert not isinstance(raised, Misconception) and str(raised).startswith("f negates")


def test_a_mistake_that_gives_the_right_answer_here_is_no_evidence():
    near = RIGHT + 1.4e-5  # within tolerance of the mistake, just outside that of the right answer
    raised = failure(near, [Mistake("a", "changes nothing on these inputs", RIGHT + 0.6e-5)])
    assert not isinstance(raised, Misconception)


def test_a_mistake_that_cannot_be_computed_is_skipped():
    def learner_raises():
        raise LearnerError("forward.rnn_step()", {"type": "ValueError", "message": "shapes"})

    def learner_returns_garbage():
        raise AssertionError("rnn_step returned None")

    raised = failure(RIGHT * 3, [Mistake("a", "raises", learner_raises),
                                 Mistake("b", "returns garbage", learner_returns_garbage),
                                 Mistake("c", "triples", lambda: RIGHT * 3)])
    assert raised.id == "c"


def test_the_description_names_the_first_step_that_differs():
    wrong = RIGHT.copy()
    wrong[:, 1] += 1
    assert "first at step 1 of 2" in str(failure(wrong, [], steps_axis=1))
    assert "inf or nan in 1 of 4 values" in str(failure(np.where(RIGHT > 0.35, np.nan, RIGHT), []))


def test_a_shape_no_mistake_explains_is_wrong_shape():
    raised = failure(RIGHT.T[:1], [Mistake("a", "doubles", RIGHT * 2)])
    assert isinstance(raised, Misconception) and raised.id == "wrong-shape" and "(1, 2)" in raised.message
