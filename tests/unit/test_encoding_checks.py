"""The encoding checks name a mistake only when the output is what that mistake computes
(grader.suites.public.encoding_checks.py): each candidate's output against the others'."""

import numpy as np
import pytest

from grader.core.errors import Misconception
from grader.grading.checks import one_hot_rows
from grader.suites.public.encoding_checks import (
    check_alphabet,
    check_dataset_alphabet,
    check_decoded,
    check_every_start,
    check_windows,
)


def named(check, *args):
    """The misconception id `check(*args)` names, None for a plain failure, "passed" when it passes."""
    try:
        check(*args)
    except Misconception as failure:
        return failure.id
    except AssertionError:
        return None
    return "passed"


@pytest.mark.parametrize("alphabet, expected", [
    (["!", "b", "d", "e", "g", "o", "y"], "passed"),
    (sorted("goodbye!"), "alphabet-duplicates"),
    (list("goodbye!"), "alphabet-duplicates"),  # repeats and text order: sorted(set()) mends both
    (["y", "o", "g", "e", "d", "b", "!"], "alphabet-unsorted"),
    (["!", "b", "d", "e", "g", "o"], None),  # 'y' missing: no mistake of the alphabet's own computes that
    ([], None),
])
def test_alphabet(alphabet, expected):
    assert named(check_alphabet, alphabet, "goodbye!", "build_alphabet") == expected


def windows(text, starts, length):
    cyclic = text * (length // len(text) + 3)
    return [cyclic[start : start + length] for start in starts]


@pytest.mark.parametrize("starts, expected", [
    ([0, 1, 2, 3], "passed"),
    ([0], "dataset-no-wrap"),  # starts drawn below len(text) - seq_len, the text not repeated
    ([0, 1], "dataset-no-wrap"),
    ([0, 1, 2], None),  # 'cda' runs into the repeat: the windows wrap, the last start is missing
    ([1, 2, 3], None),
])
def test_every_start(starts, expected):
    assert named(check_every_start, windows("abcd", starts * 5, 3), "abcd", "make_dataset") == expected


@pytest.mark.parametrize("shift, expected", [(1, "passed"), (0, "targets-not-shifted"), (2, None), (-1, None)])
def test_targets(shift, expected):
    starts = [0, 3, 6, 7]
    inputs = windows("goodbye!", starts, 4)
    targets = windows("goodbye!", [(start + shift) % 8 for start in starts], 4)
    assert named(check_windows, inputs, targets, "goodbye!", "make_dataset") == expected


def test_a_window_longer_than_the_text_has_the_window_one_letter_further_as_target():
    assert named(check_windows, ["tcatc"], ["catca"], "cat", "make_dataset") == "passed"
    assert named(check_windows, ["tcatc", "catca"], ["atcat", "atcat"], "cat", "make_dataset") is None


@pytest.mark.parametrize("axis, expected", [(-1, "passed"), (1, "decode-wrong"), (0, "decode-wrong")])
def test_decode(axis, expected):
    alphabet = ["!", "b", "d", "e", "g", "o", "y"]
    one_hot = np.stack([one_hot_rows(alphabet, sample) for sample in ["goo", "dby", "e!g"]])
    decoded = ["".join(alphabet[i] for i in row) for row in one_hot.argmax(axis)]
    assert named(check_decoded, decoded, one_hot, alphabet, "decode") == expected
    assert named(check_decoded, ["goo", "dby"], one_hot, alphabet, "decode") is None


def dataset_of(inputs, targets, alphabet):
    x, y = (np.stack([one_hot_rows(alphabet, sample) for sample in samples]) for samples in (inputs, targets))
    return [x, y, alphabet]


@pytest.mark.parametrize("alphabet, target, expected", [
    (["a", "b", "c"], "c", "passed"),
    (["b", "c"], "c", "alphabet-from-windows"),  # the letters of the window 'b' and its target 'c'
    (["a", "b"], "b", None),  # 'a' is in no window: not what an alphabet of the windows gives
    (["c", "b", "a"], "c", "alphabet-unsorted"),
])
def test_dataset_alphabet(alphabet, target, expected):
    value = dataset_of(["b"], [target], alphabet)
    assert named(check_dataset_alphabet, value, "abc", "make_dataset", 1, 1) == expected
