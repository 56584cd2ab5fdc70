"""Public checks for next_letter.py: the model's architecture and interface, no reference answers."""

import numpy as np
import pytest

from grader.core.errors import Misconception
from grader.grading.checks import as_array, as_data, as_float, one_hot_rows
from grader.grading.evaluation import prefix_predictions
from grader.grading.model_rules import check_architecture
from grader.isolation.wire import Ref

WORD = "goodbye!"
ALPHABET = sorted(set(WORD))
V = len(ALPHABET)


def build_model(learner, seed):
    """The learner's build_model(V), kept in its worker: what the worker answers must be a reference to it."""
    return as_data(learner.next_letter.invoke("build_model", (V,), keep=True, seed=seed), "build_model", Ref)


@pytest.fixture(scope="module")
def model(learner):
    return build_model(learner, seed=0)


@pytest.mark.points(2)
def test_architecture(learner, model):
    """build_model gives Input((None, V)) -> SimpleRNN(return_sequences=True) -> Dense(V, softmax)."""
    check_architecture(learner.next_letter.export_model(model).config, V)


@pytest.mark.points(1)
@pytest.mark.parametrize("length", [1, 3, 7])
def test_output_shape(learner, model, length):
    """The model maps a prefix of any length L to probabilities of shape (1, L, V)."""
    x = one_hot_rows(ALPHABET, ("goodbye!" * 2)[:length])[None]
    p = as_array(learner.next_letter.run_model(model, x), "the model", shape=(1, length, V),
                 misconception="return-sequences-false")
    if not np.allclose(p.sum(-1), 1, atol=1e-4):
        raise Misconception("wrong-output-activation", "the model's outputs do not sum to 1: use softmax")


@pytest.mark.points(1)
def test_predict_next_is_last_step_argmax(learner, model):
    """predict_next returns the most likely letter at the last step of the prefix."""
    for prefix in ("g", "goo", "goodby"):
        p = as_array(learner.next_letter.run_model(model, one_hot_rows(ALPHABET, prefix)[None]), "the model",
                     shape=(1, len(prefix), V))
        letter = as_data(learner.next_letter.predict_next(model, ALPHABET, prefix),
                         f"predict_next(model, alphabet, {prefix!r})", str)
        wanted = ALPHABET[int(p[0, -1].argmax())]
        if letter != wanted:
            raise Misconception("wrong-prediction", f"predict_next(model, alphabet, {prefix!r}) returned "
                                f"{letter!r}; the model's most likely letter is {wanted!r}")


def weights_of(learner, model):
    """The kept model's weight arrays, as the worker exports them."""
    return as_data(learner.next_letter.export_model(model).weights, "the model's get_weights()", list,
                   items=np.ndarray)


def same_weights(first, second):
    return len(first) == len(second) and all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.points(1)
def test_train_is_reproducible(learner, rng):
    """train trains the model and returns {'loss': [...]}, one value per epoch; the same seed gives the same weights."""
    x = np.eye(V, dtype=np.float32)[rng.integers(0, V, size=(64, 3))]
    y = np.eye(V, dtype=np.float32)[rng.integers(0, V, size=(64, 3))]
    # Two identical models, each trained after the grader scrambles the global random state
    # differently: only train's own seeding (with its seed argument) makes them agree. Their weights
    # before training too: two untrained models agree as well, so a train that trains nothing would pass.
    models = [build_model(learner, seed=1) for _ in range(2)]
    untrained = [weights_of(learner, model) for model in models]
    trained = []
    for model, scramble in zip(models, (101, 202), strict=True):
        history = learner.next_letter.invoke("train", (model, x, y), {"epochs": 2, "seed": 3}, seed=scramble,
                                             timeout=learner.settings.limits.train_s)
        as_data(history, "train(..., epochs=2)", dict)
        as_data(history.get("loss"), "train(..., epochs=2)['loss']", list, items=(int, float), length=2)
        trained.append(weights_of(learner, model))
    if all(same_weights(before, after) for before, after in zip(untrained, trained, strict=True)):
        raise Misconception("train-does-not-train", "after train(..., epochs=2, seed=3) the model's weights are "
                            "the ones it had before: train must fit the model")
    first, second = trained
    if not same_weights(first, second):
        raise Misconception("not-reproducible", "two train(..., seed=3) runs from the same start differ")


@pytest.mark.points(2)
def test_learns_goodbye(learner, rng, artifacts, credit):
    """Trained with your train() on windows of goodbye!, the model predicts every predictable next letter."""
    cyclic, window = WORD * 3, 3
    starts = rng.integers(0, len(WORD), size=400)
    x = np.stack([one_hot_rows(ALPHABET, cyclic[s : s + window]) for s in starts])
    y = np.stack([one_hot_rows(ALPHABET, cyclic[s + 1 : s + window + 1]) for s in starts])
    model = build_model(learner, seed=0)
    history = learner.next_letter.invoke("train", (model, x, y), {"seed": 0}, timeout=learner.settings.limits.train_s)
    rows = prefix_predictions(WORD, ALPHABET, lambda z: learner.next_letter.run_model(model, z), range(1, window + 1))
    scored = [got == wanted for _, got, wanted in rows if wanted is not None]
    accuracy = sum(scored) / len(scored)
    losses = history.get("loss") if isinstance(history, dict) else None
    artifacts["model"] = {
        "word": WORD, "accuracy": accuracy,
        "loss": [as_float(v) for v in losses if isinstance(v, int | float)] if isinstance(losses, list) else [],
        "prefixes": [{"prefix": p, "predicted": got, "expected": wanted} for p, got, wanted in rows],
    }
    if accuracy < 1:
        credit.set(accuracy, f"{sum(scored)} of {len(scored)} predictable next letters of {WORD!r} right")
        if accuracy < 0.5:
            raise Misconception("model-not-learning", f"only {accuracy:.0%} of the predictable letters right")
