"""Public checks for encoding.py: properties any correct answer has, no reference answers."""

import numpy as np
import pytest

from grader.core.errors import Misconception
from grader.grading.checks import as_array, expect_shape, expect_value_error

WORD = "goodbye!"


@pytest.mark.points(1)
def test_alphabet_sorted_unique(learner):
    """build_alphabet returns each character once, sorted."""
    alphabet = learner.encoding.build_alphabet(WORD)
    assert isinstance(alphabet, list), f"build_alphabet returned {type(alphabet).__name__}, expected a list"
    assert set(alphabet) == set(WORD) and len(alphabet) == len(set(WORD)), (
        f"build_alphabet({WORD!r}) returned {alphabet}: expected each character of the text exactly once"
    )
    if alphabet != sorted(alphabet):
        raise Misconception("alphabet-unsorted", f"build_alphabet({WORD!r}) returned {alphabet}, which is not sorted")


@pytest.mark.points(1)
def test_encode_shape_and_dtype(learner):
    """encode returns float32 of shape (N, T, V)."""
    alphabet = sorted(set(WORD))
    encoded = expect_shape(learner.encoding.encode(alphabet, ["goo", "dby"], 3), (2, 3, 7), "encode",
                           "encode-shape")
    if encoded.dtype != np.float32:
        raise Misconception("encode-shape", f"encode returned dtype {encoded.dtype}, expected float32")


@pytest.mark.points(1)
def test_encode_is_one_hot(learner):
    """encode puts a single 1 at each character's alphabet index."""
    alphabet = sorted(set(WORD))
    encoded = as_array(learner.encoding.encode(alphabet, ["bye"], 3), "encode")
    expected_index = [alphabet.index(c) for c in "bye"]
    ok = encoded.shape == (1, 3, 7) and np.array_equal(encoded.sum(-1), np.ones((1, 3)))
    if not ok or list(encoded[0].argmax(-1)) != expected_index:
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
    decoded = learner.encoding.decode(alphabet, learner.encoding.encode(alphabet, samples, 3))
    if decoded != samples:
        raise Misconception("decode-wrong", f"decode(encode({samples})) returned {decoded}")


@pytest.mark.points(2)
def test_targets_are_next_letters(learner):
    """make_dataset's y is x shifted one letter ahead, along the repeated word."""
    x, y, alphabet = learner.encoding.make_dataset(WORD, 4, 20, 0)
    x, y = expect_shape(x, (20, 4, 7), "make_dataset's x"), expect_shape(y, (20, 4, 7), "make_dataset's y")
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
    first, second = (learner.encoding.make_dataset(WORD, 3, 16, 7) for _ in range(2))
    same = all(np.array_equal(a, b) for a, b in zip(first[:2], second[:2], strict=True))
    if not same:
        raise Misconception("dataset-not-reproducible", "make_dataset(..., seed=7) gave different data twice")
