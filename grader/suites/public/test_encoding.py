"""Public checks for encoding.py: properties any correct answer has, on small cases worked out by hand
(in the comments), no reference answers."""

import numpy as np
import pytest

from grader.core.errors import Misconception
from grader.grading.checks import as_array, as_data, expect_value_error, one_hot_rows
from grader.suites.public.encoding_checks import (
    check_alphabet,
    check_dataset_alphabet,
    check_decoded,
    check_every_start,
    check_windows,
    dataset,
    spelled,
)

WORD = "goodbye!"
ALPHABET = ["!", "b", "d", "e", "g", "o", "y"]  # WORD's characters once each, sorted: '!' comes before letters
V = len(ALPHABET)


@pytest.mark.points(1)
def test_alphabet_sorted_unique(learner):
    """build_alphabet returns each character once, sorted."""
    alphabet = as_data(learner.encoding.build_alphabet(WORD), f"build_alphabet({WORD!r})", list, items=str)
    check_alphabet(alphabet, WORD, f"build_alphabet({WORD!r})")


@pytest.mark.points(1)
@pytest.mark.parametrize("samples", [["goo", "dby"], []], ids=["two-samples", "no-samples"])
def test_encode_shape_and_dtype(learner, samples):
    """encode returns float32 of shape (N, T, V), also for N = 0 samples."""
    as_array(learner.encoding.encode(ALPHABET, samples, 3), f"encode(alphabet, {samples}, 3)",
             shape=(len(samples), 3, V), dtype=np.float32, misconception="encode-shape")


@pytest.mark.points(1)
def test_encode_is_one_hot(learner):
    """encode puts a single 1 at each character's alphabet index."""
    encoded = as_array(learner.encoding.encode(ALPHABET, ["bye"], 3), "encode(alphabet, ['bye'], 3)",
                       shape=(1, 3, V), misconception="encode-shape")
    # b, y and e are at indices 1, 6 and 3 of ALPHABET: a 1 there at steps 0, 1 and 2, zeros elsewhere
    if not np.array_equal(encoded, one_hot_rows(ALPHABET, "bye")[None]):
        raise Misconception("encode-not-one-hot", f"encode(alphabet, ['bye'], 3) gave {encoded.tolist()}")


@pytest.mark.points(1)
@pytest.mark.parametrize("samples", [["gox"], ["go"]], ids=["unknown-character", "wrong-length"])
def test_encode_rejects_bad_input(learner, samples):
    """encode raises ValueError for a character outside the alphabet or a sample of the wrong length."""
    expect_value_error(lambda: learner.encoding.encode(ALPHABET, samples, 3), f"encode(alphabet, {samples}, 3)",
                       "encode-no-error")


@pytest.mark.points(1)
def test_decode_one_hot_and_probabilities(learner):
    """decode gives back the strings one-hot rows spell, and the likeliest character of probabilities."""
    samples = ["goo", "dby", "e!g"]
    one_hot = np.stack([one_hot_rows(ALPHABET, sample) for sample in samples])
    what = f"decode(alphabet, the one-hot rows of {samples})"
    check_decoded(as_data(learner.encoding.decode(ALPHABET, one_hot), what, list, items=str), one_hot, ALPHABET, what)
    # over ['a', 'b', 'c']: 'b' (0.7) is the likeliest at the first step, 'a' (0.5) at the second: "ba"
    probabilities = np.array([[[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]]])
    what = f"decode(['a', 'b', 'c'], {probabilities.tolist()})"
    decoded = as_data(learner.encoding.decode(["a", "b", "c"], probabilities), what, list, items=str)
    check_decoded(decoded, probabilities, ["a", "b", "c"], what)


@pytest.mark.points(2)
def test_targets_are_next_letters(learner):
    """make_dataset's y is x shifted one letter ahead, along the repeated word."""
    what = f"make_dataset({WORD!r}, 4, 20, seed=0)"
    x, y, alphabet = dataset(learner.encoding.make_dataset(WORD, 4, 20, 0), what, 20, 4)
    # e.g. the input 'ye!g' (it runs into the repeat) has the target 'e!go'
    check_windows(spelled(x, alphabet), spelled(y, alphabet), WORD, what)


@pytest.mark.points(1)
@pytest.mark.hint("Every position of the text can start a window: draw starts from 0 to len(text) - 1, "
                  "and repeat the text so that a window may run past its end.")
def test_dataset_every_start(learner):
    """make_dataset's windows start at every position of the text, those that run past its end included."""
    what = "make_dataset('abcd', 3, 60, seed=0)"
    x, _, alphabet = dataset(learner.encoding.make_dataset("abcd", 3, 60, 0), what, 60, 3)
    # 'abcd' repeated is abcdabcd...: the windows of 3 are 'abc', 'bcd', 'cda' and 'dab' (the last two
    # run into the repeat); 60 windows drawn from 4 starts miss one with a chance of about 1 in 10 million
    check_every_start(spelled(x, alphabet), "abcd", what)


@pytest.mark.points(1)
@pytest.mark.hint("A window may be longer than the text: repeat the text enough times (seq_len // len(text) + 2) "
                  "that every window and its target fit.")
def test_dataset_windows_longer_than_text(learner):
    """make_dataset cuts windows longer than the text from the text repeated end to end."""
    what = "make_dataset('cat', 5, 60, seed=0)"
    x, _, alphabet = dataset(learner.encoding.make_dataset("cat", 5, 60, 0), what, 60, 5)
    # 'cat' repeated is catcatcat...: the windows of 5 are 'catca', 'atcat' and 'tcatc'
    check_every_start(spelled(x, alphabet), "cat", what)


@pytest.mark.points(1)
@pytest.mark.hint("make_dataset's alphabet is build_alphabet of the whole text, whichever windows were drawn.")
def test_dataset_alphabet_whole_text(learner):
    """make_dataset's alphabet is that of the whole text, even with a character no window holds."""
    # one window of 1 letter and its target hold 2 of the 3 letters of 'abc', whatever its start;
    # the alphabet is still ['a', 'b', 'c']
    check_dataset_alphabet(learner.encoding.make_dataset("abc", 1, 1, 0), "abc", "make_dataset('abc', 1, 1, seed=0)",
                           1, 1)


def x_and_y(learner, seed):
    """make_dataset(WORD, 3, 16, seed)'s x and y, arrays of any shape: these checks compare two calls."""
    what = f"make_dataset({WORD!r}, 3, 16, seed={seed})"
    x, y, _ = as_data(learner.encoding.make_dataset(WORD, 3, 16, seed), what, list, length=3)
    return as_array(x, f"{what}'s x"), as_array(y, f"{what}'s y")


@pytest.mark.points(1)
def test_dataset_float32(learner):
    """make_dataset's x and y are float32, as encode's output is."""
    x, y = x_and_y(learner, 7)
    assert x.dtype == y.dtype == np.float32, (
        f"make_dataset({WORD!r}, 3, 16, seed=7) returned x of dtype {x.dtype} and y of dtype {y.dtype}, "
        "expected float32")


@pytest.mark.points(1)
def test_dataset_reproducible(learner):
    """The same seed gives the same dataset."""
    first, second = x_and_y(learner, 7), x_and_y(learner, 7)
    if not all(np.array_equal(a, b) for a, b in zip(first, second, strict=True)):
        raise Misconception("dataset-not-reproducible", "make_dataset(..., seed=7) gave different data twice")


@pytest.mark.points(1)
def test_dataset_seed_chooses_windows(learner):
    """Different seeds give different windows."""
    # the 16 starts drawn for seed 7 and those for seed 8 are all the same with a chance of 8 ** -16
    if all(np.array_equal(a, b) for a, b in zip(x_and_y(learner, 7), x_and_y(learner, 8), strict=True)):
        raise Misconception("dataset-seed-ignored", "make_dataset(..., seed=7) and make_dataset(..., seed=8) gave "
                                                    "the same windows")
