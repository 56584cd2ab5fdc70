"""Hidden checks for encoding.py: agreement with the reference on texts the learner never saw."""

import numpy as np
import pytest

from grader.core.config import HASH_SEEDS
from grader.core.errors import Misconception
from grader.grading.checks import as_array, as_data, expect_close, expect_value_error
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
    if any(alphabet != ref.build_alphabet(TEXT) for alphabet in seen.values()):
        different = len({str(a) for a in seen.values()}) > 1
        raise Misconception("alphabet-unsorted", "build_alphabet's order " + (
            "changes between Python processes" if different else "is not sorted"))


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
        expect_close(encoded, expected, "encode", diagnose={
            "encode-shape": expected.transpose(1, 0, 2) if n != length else None,
        })
        if encoded.dtype != np.float32:
            raise Misconception("encode-shape", f"encode returned dtype {encoded.dtype}, expected float32")


@pytest.mark.hint('encode raises ValueError for a character outside the alphabet and for samples of different lengths.')
@pytest.mark.points(1)
@pytest.mark.parametrize("samples", [["abz"], ["abcd"], ["ab", "abc"]], ids=["unknown", "too-long", "mixed"])
def test_encode_rejects_bad_samples(learner, samples):
    """encode raises ValueError for bad samples."""
    expect_value_error(lambda: learner.encoding.encode(["a", "b", "c"], samples, 3), "encode")


@pytest.mark.hint('decode takes the argmax over the last axis of any probabilities, not only exact one-hot rows.')
@pytest.mark.points(1)
def test_decode_probabilities(learner, rng):
    """decode takes the most likely character from probabilities, not only one-hot rows."""
    alphabet = ref.build_alphabet(TEXT)
    probabilities = rng.dirichlet(np.ones(len(alphabet)), size=(4, 6))
    decoded = as_data(learner.encoding.decode(alphabet, probabilities), "decode", list, items=str)
    if decoded != ref.decode(alphabet, probabilities):
        raise Misconception("decode-wrong", "decode differs from the argmax over the last axis")


@pytest.mark.hint(
    "make_dataset cuts windows of seq_len from the text repeated end to end, targets one letter ahead, "
    "starts drawn from np.random.default_rng(seed); it must work for any text.")
@pytest.mark.points(2)
def test_dataset_on_unseen_text(learner):
    """make_dataset on a new text: windows of the repeated text, targets one letter ahead."""
    text, T, N = "backprop through time", 6, 40
    x, y, alphabet = as_data(learner.encoding.make_dataset(text, T, N, 11), "make_dataset", list, length=3)
    if as_data(alphabet, "make_dataset's alphabet", list, items=str) != ref.build_alphabet(text):
        raise Misconception("alphabet-unsorted", "make_dataset's alphabet is not build_alphabet(text)")
    V = len(alphabet)
    x, y = as_array(x, "make_dataset's x", shape=(N, T, V)), as_array(y, "make_dataset's y", shape=(N, T, V))
    cyclic = text * 3
    for given, wanted in zip(ref.decode(alphabet, x), ref.decode(alphabet, y), strict=True):
        assert given in cyclic, "make_dataset's inputs are not windows of the repeated text"
        start = cyclic.index(given)
        if wanted != cyclic[start + 1 : start + T + 1]:
            raise Misconception("targets-not-shifted", "make_dataset's targets are not the next letters")
    assert len({s for s in ref.decode(alphabet, x)}) > 1, "make_dataset returned the same window every time"
