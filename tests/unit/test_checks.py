"""grader/grading/checks.py: a returned value of the wrong kind fails with what came back and what was expected."""

import math

import numpy as np
import pytest

from grader.core.errors import Misconception
from grader.grading.checks import as_array, as_data, as_float
from grader.isolation.wire import Ref


@pytest.mark.parametrize("value, got", [
    (None, "None"), (True, "a bool"), (10**400, "an int"), (math.nan, "a float"), ("abc", "a str of 3 characters"),
    ([[1.0, 2.0], [3.0]], "a list (or tuple) of 2 items"), ({"a": {"b": 1}}, "a dict of 1 item"),
    (Ref("obj-0", 1), "a model kept in your process"),
])
def test_anything_but_an_array_is_named_where_an_array_is_expected(value, got):
    with pytest.raises(AssertionError) as raised:
        as_array(value, "rnn_step", shape=(2, 4))
    assert str(raised.value) == f"rnn_step returned {got}, expected a numpy array of shape (2, 4)"


def test_an_array_of_the_wrong_shape_or_dtype_is_a_misconception_that_names_both():
    with pytest.raises(Misconception) as raised:
        as_array(np.zeros(()), "the model", shape=(1, 3, 7), misconception="return-sequences-false")
    assert raised.value.id == "return-sequences-false"
    assert raised.value.message == "the model returned shape (), expected (1, 3, 7)"
    with pytest.raises(Misconception, match=r"encode returned dtype >f8, expected float32"):
        as_array(np.zeros((2, 3), dtype=">f8"), "encode", shape=(2, 3), dtype=np.float32)
    array = np.zeros((2, 3), dtype=np.uint8)
    assert as_array(array, "encode", shape=(2, 3)) is array


@pytest.mark.parametrize("value, message", [
    ([["g"], ["o"]], "build_alphabet returned a list (or tuple) of 2 items whose item 0 is a list (or tuple) of 1 "
                     "item, expected a list, each item a str"),
    ("go", "build_alphabet returned a str of 2 characters, expected a list, each item a str"),
    (np.array(["g"]).view(np.uint32), "build_alphabet returned an array of shape (1,) and dtype uint32, expected a "
                                      "list, each item a str"),
])
def test_plain_data_of_the_wrong_kind_names_the_item_that_is_wrong(value, message):
    with pytest.raises(AssertionError) as raised:
        as_data(value, "build_alphabet", list, items=str)
    assert str(raised.value) == message


def test_a_tuple_of_the_wrong_length_is_named_with_its_length():
    with pytest.raises(AssertionError, match=r"make_dataset returned a list \(or tuple\) of 2 items, expected a "
                                             r"list of 3 items$"):
        as_data([np.zeros(2), np.zeros(2)], "make_dataset", list, length=3)
    assert as_data(["g", "o"], "build_alphabet", list, items=str, length=2) == ["g", "o"]


def test_an_integer_beyond_a_floats_range_is_infinite():
    assert as_float(10**400) == math.inf and as_float(-(10**400)) == -math.inf
    assert as_float(3) == 3.0 and math.isnan(as_float(math.nan))
