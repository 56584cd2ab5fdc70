"""Public checks for encoding.py: properties any correct answer has, no reference answers."""

import numpy as np
import pytest

from grader.core.errors import Misconception
from grader.grading.checks import as_array, as_data, expect_value_error

WORD = "goodbye!"
V = len(set(WORD))


def dataset(value, n, length):
    """make_dataset's (x, y, alphabet) for n windows of `length` letters of WORD, each of the documented kind."""
    x, y, alphabet = as_data(value, "make_dataset", list, length=3)
    shape = (n, length, V)
    return (as_array(x, "make_dataset's x", shape=shape), as_array(y, "make_dataset's y", shape=shape),
            as_data(alphabet, "make_dataset's alphabet", list, items=str, length=V))


@pytest.mark.points(1)
def test_alphabet_sorted_unique(learner):
    """build_alphabet returns each character once, sorted."""
    alphabet = as_data(learner.encoding.build_alphabet(WORD), "build_alphabet", list, items=str)
    assert set(alphabet) == set(WORD) and len(alphabet) == len(set(WORD)), (
        f"build_alphabet({WORD!r}) returned {alphabet}: expected each character of the text exactly once"
    )
    if alphabet != sorted(alphabet):
        raise Misconception("alphabet-unsorted", f"build_alphabet({WORD!r}) returned {alphabet}, which is not sorted")


@pytest.mark.points(1)
def test_encode_shape_and_dtype(learner):
    """encode returns float32 of shape (N, T, V)."""
    alphabet = sorted(set(WORD))
    as_array(learner.encoding.encode(alphabet, ["goo", "dby"], 3), "encode", shape=(2, 3, V), dtype=np.float32,
             misconception="encode-shape")


@pytest.mark.points(1)
def test_encode_is_one_hot(learner):
    """encode puts a single 1 at each character's alphabet index."""
    alphabet = sorted(set(WORD))
    encoded = as_array(learner.encoding.encode(alphabet, ["bye"], 3), "encode(alphabet, ['bye'], 3)",
                       shape=(1, 3, V), misconception="encode-not-one-hot")
    expected_index = [alphabet.index(c) for c in "bye"]
    if not np.array_equal(encoded.sum(-1), np.ones((1, 3))) or list(encoded[0].argmax(-1)) != expected_index:
        raise Misconception("encode-not-one-hot", f"encode(alphabet, ['bye'], 3) gave {encoded.tolist()}")


@pytest.mark.points(1)
@pytest.mark.parametrize("samples", [["gox"], ["go"]], ids=["unknown-character", "wrong-length"])
def test_encode_rejects_bad_input(learner, samples):
    """encode raises ValueError for a character outside the alphabet or a sample of the wrong length."""
    expect_value_error(lambda: learner.encoding.encode(sorted(set(WORD)), samples, 3),
                       f"encode(alphabet, {samples}, 3)")


@pytest.mark.points(1)
def test_decode_inverts_encode(learner):
    """decode(encode(samples)) gives the samples back."""
    alphabet = sorted(set(WORD))
    samples = ["goo", "dby", "e!g"]
    decoded = as_data(learner.encoding.decode(alphabet, learner.encoding.encode(alphabet, samples, 3)), "decode", list,
                      items=str)
    if decoded != samples:
        raise Misconception("decode-wrong", f"decode(encode({samples})) returned {decoded}")


@pytest.mark.points(2)
def test_targets_are_next_letters(learner):
    """make_dataset's y is x shifted one letter ahead, along the repeated word."""
    x, y, alphabet = dataset(learner.encoding.make_dataset(WORD, 4, 20, 0), 20, 4)
    inputs = ["".join(alphabet[i] for i in row) for row in x.argmax(-1)]
    targets = ["".join(alphabet[i] for i in row) for row in y.argmax(-1)]
    cyclic = WORD * 3
    for given, wanted in zip(inputs, targets, strict=True):
        assert given in cyclic, f"make_dataset's input {given!r} is not a window of the repeated text"
        if wanted != given[1:] + cyclic[cyclic.index(given) + 4]:
            raise Misconception("targets-not-shifted", f"for input {given!r} the targets were {wanted!r}")


@pytest.mark.points(1)
def test_dataset_reproducible(learner):
    """The same seed gives the same dataset."""
    first, second = (as_data(learner.encoding.make_dataset(WORD, 3, 16, 7), "make_dataset", list, length=3)
                     for _ in range(2))
    same = all(np.array_equal(as_array(a, "make_dataset's x and y"), b)
               for a, b in zip(first[:2], second[:2], strict=True))
    if not same:
        raise Misconception("dataset-not-reproducible", "make_dataset(..., seed=7) gave different data twice")
