"""Hidden checks for encoding.py: agreement with the reference on texts the learner never saw."""

import numpy as np
import pytest

from grader.core.config import HASH_SEEDS
from grader.core.errors import Misconception
from grader.grading.checks import as_data, expect_value_error
from grader.grading.diagnose import Mistake, expect_match
from grader.suites.public.encoding_checks import (
    check_alphabet,
    check_dataset_alphabet,
    check_decoded,
    check_every_start,
    check_windows,
    dataset,
    spelled,
)
from solutions import encoding as ref

TEXT = "the unrolled state — ünïcode too — carries every letter forward!"


def random_samples(rng, alphabet, n, length):
    return ["".join(rng.choice(alphabet, size=length)) for _ in range(n)]


@pytest.mark.hint("build_alphabet must return the text's distinct characters, sorted, the same in every process.")
@pytest.mark.points(2)
def test_alphabet_same_in_every_process(learner):
    """build_alphabet gives the sorted characters, identically under different hash seeds."""
    others = {f"PYTHONHASHSEED={seed}": learner.spawn("encoding", seed) for seed in HASH_SEEDS[1:]}
    seen = {name: as_data(module.build_alphabet(TEXT), "build_alphabet", list, items=str)
            for name, module in {"this process": learner.encoding, **others}.items()}
    if len({str(alphabet) for alphabet in seen.values()}) > 1 and all(
            sorted(alphabet) == ref.build_alphabet(TEXT) for alphabet in seen.values()):
        raise Misconception("alphabet-unsorted", "build_alphabet's order changes between Python processes")
    for name, alphabet in seen.items():
        check_alphabet(alphabet, TEXT, f"build_alphabet (in {name})")


@pytest.mark.hint(
    'encode: out[n, t, alphabet.index(samples[n][t])] = 1.0, float32 of shape (N, T, V), for any alphabet size.')
@pytest.mark.points(2)
def test_encode_matches_reference(learner, rng):
    """encode equals the reference on random samples of a larger alphabet."""
    alphabet = ref.build_alphabet(TEXT)
    for n, length in [(5, 7), (1, 1), (3, 12)]:
        samples = random_samples(rng, alphabet, n, length)
        encoded = learner.encoding.encode(alphabet, samples, length)
        expected = ref.encode(alphabet, samples, length)
        swapped = [Mistake("encode-shape", "returns (T, N, V): samples and steps swapped", expected.transpose(1, 0, 2))]
        expect_match(encoded, expected, "encode", swapped if n != length else [])
        if encoded.dtype != np.float32:
            raise Misconception("encode-shape", f"encode returned dtype {encoded.dtype}, expected float32")


@pytest.mark.hint('encode raises ValueError for a character outside the alphabet and for samples of different lengths.')
@pytest.mark.points(1)
@pytest.mark.parametrize("samples", [["abz"], ["abcd"], ["ab", "abc"]], ids=["unknown", "too-long", "mixed"])
def test_encode_rejects_bad_samples(learner, samples):
    """encode raises ValueError for bad samples."""
    expect_value_error(lambda: learner.encoding.encode(["a", "b", "c"], samples, 3), "encode", "encode-no-error")


@pytest.mark.hint('decode takes the argmax over the last axis of any probabilities, not only exact one-hot rows.')
@pytest.mark.points(1)
def test_decode_probabilities(learner, rng):
    """decode takes the most likely character from probabilities, not only one-hot rows."""
    alphabet = ref.build_alphabet(TEXT)
    probabilities = rng.dirichlet(np.ones(len(alphabet)), size=(4, 6))
    decoded = as_data(learner.encoding.decode(alphabet, probabilities), "decode", list, items=str)
    check_decoded(decoded, probabilities, alphabet, "decode")


@pytest.mark.hint(
    "make_dataset cuts windows of seq_len from the text repeated end to end, targets one letter ahead, "
    "starts drawn from np.random.default_rng(seed); it must work for any text.")
@pytest.mark.points(2)
def test_dataset_on_unseen_text(learner):
    """make_dataset on a new text: windows of the repeated text, targets one letter ahead."""
    text, T, N = "backprop through time", 6, 40
    x, y, alphabet = dataset(learner.encoding.make_dataset(text, T, N, 11), "make_dataset", N, T)
    inputs = spelled(x, alphabet)
    check_windows(inputs, spelled(y, alphabet), text, "make_dataset")
    assert len(set(inputs)) > 1, "make_dataset returned the same window every time"


@pytest.mark.hint("make_dataset's windows start at every position of the text, those that run past its end (into "
                  "the repeat) included, for windows shorter and longer than the text.")
@pytest.mark.points(1)
@pytest.mark.parametrize("T", [4, 10], ids=["shorter-than-text", "longer-than-text"])
def test_dataset_starts_on_unseen_text(learner, T):
    """make_dataset's windows of a new text start at every position of it."""
    text, N = "weights", 200  # distinct letters: each window has one start
    x, _, alphabet = dataset(learner.encoding.make_dataset(text, T, N, 3), "make_dataset", N, T)
    check_every_start(spelled(x, alphabet), text, "make_dataset")


@pytest.mark.hint("make_dataset's alphabet is build_alphabet of the whole text, whichever windows were drawn.")
@pytest.mark.points(1)
def test_dataset_alphabet_few_windows_unseen(learner):
    """make_dataset's alphabet is that of a new text when its few windows hold only some of its characters."""
    text = "gradient"  # 2 windows of 2 and their targets hold at most 6 of its 8 letters
    check_dataset_alphabet(learner.encoding.make_dataset(text, 2, 2, 5), text, "make_dataset", 2, 2)
