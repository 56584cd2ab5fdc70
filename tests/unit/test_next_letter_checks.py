"""The next_letter checks grade what each can see: a documented argument ignored, or train returning the
History object, loses the check that sees it and no other; the hidden accuracy needs the threshold on each word.

The suites run through the real plugin with scripted workers answering for numpy stand-ins of the learner's
module (tests/unit/test_returned_values.py), so no process starts and no TensorFlow is imported.
"""

import importlib

import numpy as np
import pytest

from grader.core.config import SUITES
from grader.grading.evaluation import determined_next, score_prefixes
from grader.grading.outcomes import HIDDEN_MESSAGE, Credit
from tests.unit.test_returned_values import (  # noqa: F401 - suites_alone: the suites run as `grade` runs them
    REFERENCES,
    Right,
    StandInModel,
    StandInNextLetter,
    grade_scripted,
    suites_alone,
)

NEXT_LETTER = [f"{SUITES}/public/test_next_letter.py", f"{SUITES}/hidden/test_hidden_next_letter.py"]


class HonoursEpochs(StandInNextLetter):
    """The stand-in's train, one step of noise per epoch."""

    @staticmethod
    def train(model: StandInModel, x: np.ndarray, y: np.ndarray, epochs: int = 6, seed: int = 0) -> dict:
        rng = np.random.default_rng(seed)
        for _ in range(epochs):
            model.weights = [w + rng.normal(scale=0.01, size=w.shape).astype(np.float32) for w in model.weights]
        return {"loss": [1.0 / (epoch + 1) for epoch in range(epochs)]}


class IgnoresUnits(HonoursEpochs):
    @staticmethod
    def build_model(n_chars: int, units: int = 8) -> StandInModel:
        return StandInModel(n_chars, 32)


class IgnoresEpochs(HonoursEpochs):
    @staticmethod
    def train(model: StandInModel, x: np.ndarray, y: np.ndarray, epochs: int = 6, seed: int = 0) -> dict:
        return HonoursEpochs.train(model, x, y, 6, seed)


class History:
    """What model.fit returns: not data the worker can send back."""


History.__module__ = "keras.src.callbacks.history"


class ReturnsHistory(HonoursEpochs):
    @staticmethod
    def train(model: StandInModel, x: np.ndarray, y: np.ndarray, epochs: int = 6, seed: int = 0) -> History:
        HonoursEpochs.train(model, x, y, epochs, seed)
        return History()


class ReturnsNone(HonoursEpochs):
    @staticmethod
    def train(model: StandInModel, x: np.ndarray, y: np.ndarray, epochs: int = 6, seed: int = 0) -> None:
        HonoursEpochs.train(model, x, y, epochs, seed)


def graded(monkeypatch, module):
    """{check name: (status, misconception)} for the next_letter suites run against `module`."""
    monkeypatch.setitem(REFERENCES, "next_letter", module)
    report, crashes = grade_scripted([Right()], NEXT_LETTER)
    assert crashes == {}
    return {test["name"].split("/", 1)[1]: (test["status"], test["misconception"]) for test in report["tests"]}


@pytest.mark.parametrize("module, check, misconception", [
    (IgnoresUnits, "next_letter/test_build_model_honours_units", "units-ignored"),
    (IgnoresEpochs, "next_letter/test_train_honours_epochs", "epochs-ignored"),
    (ReturnsHistory, "next_letter/test_train_is_reproducible", "train-returns-history"),
    (ReturnsNone, "next_letter/test_train_is_reproducible", None),
], ids=["units-ignored", "epochs-ignored", "train-returns-history", "train-returns-none"])
def test_one_slip_fails_the_check_that_sees_it_and_no_other(monkeypatch, module, check, misconception):
    right = graded(monkeypatch, HonoursEpochs)
    assert right[check] == ("passed", None)
    wrong = graded(monkeypatch, module)
    assert wrong[check] == ("failed", misconception)
    assert {name: outcome for name, outcome in wrong.items() if name != check} == \
           {name: outcome for name, outcome in right.items() if name != check}


class Predicts:
    """A trained model of `word` as the hidden accuracy check sees it: right on every determined next letter,
    except after the prefixes that start with one of `misses`."""

    untouched = False  # train changed the model

    def __init__(self, word: str, misses: str = ""):
        self.word, self.alphabet, self.misses = word, sorted(set(word)), misses

    def require(self):
        pass

    def predict(self, x):
        out = np.zeros_like(x)
        for p, window in enumerate(x.argmax(-1)):
            text = "".join(self.alphabet[i] for i in window)
            for k in range(len(text)):
                letter = determined_next(self.word, text[: k + 1]) or self.alphabet[0]
                if text[0] in self.misses:
                    letter = next(c for c in self.alphabet if c != letter)
                out[p, k, self.alphabet.index(letter)] = 1.0
        return out


@pytest.fixture
def hidden(request):
    """The hidden suite's module, its checks called as functions: its markers are the grading plugin's
    (`plugin.pytest_configure`), registered here for this session's --strict-markers."""
    for marker in ("points(n): points this test is worth", "hint(text): what to look at when this test fails"):
        request.config.addinivalue_line("markers", marker)
    return importlib.import_module("grader.suites.hidden.test_hidden_next_letter")


def test_full_accuracy_credit_needs_the_threshold_on_each_word(hidden):
    """One word learnt perfectly does not make up for another below the threshold (their mean is above it)."""
    first, second = Predicts(hidden.WORDS[0]), Predicts(hidden.WORDS[1], misses="t")
    accuracies = [score_prefixes(m.word, m.alphabet, m.predict, range(1, hidden.WINDOW + 1)).accuracy
                  for m in (first, second)]
    assert accuracies[0] == 1.0 and accuracies[1] < hidden.FULL_CREDIT <= np.mean(accuracies)
    credit, details = Credit(), {}
    hidden.test_accuracy_on_unseen_words([first, second], credit, details)
    assert credit.fraction == pytest.approx((1 + accuracies[1] / hidden.FULL_CREDIT) / 2)
    assert credit.message.startswith(HIDDEN_MESSAGE) and "hidden word 2" in credit.message
    assert details["word_2_accuracy"] == round(accuracies[1], 4)
    perfect = Credit()
    hidden.test_accuracy_on_unseen_words([first, Predicts(hidden.WORDS[1])], perfect, {})
    assert perfect.fraction == 1.0
