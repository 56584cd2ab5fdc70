"""Public checks for next_letter.py: the model's architecture and interface, no reference answers."""

import numpy as np
import pytest

from grader.core.errors import LearnerError, Misconception, SubmissionProblem
from grader.grading.checks import as_array, as_data, as_float, one_hot_rows
from grader.grading.evaluation import prefix_predictions
from grader.grading.model_rules import check_architecture, recurrent_units, unsent_return, unsent_return_problem
from grader.isolation.wire import Ref

WORD = "goodbye!"
ALPHABET = sorted(set(WORD))
V = len(ALPHABET)


def build_model(learner, seed, **kwargs):
    """The learner's build_model(V, **kwargs), kept in its worker: what the worker answers must be a reference
    to it."""
    return as_data(learner.next_letter.invoke("build_model", (V,), kwargs, keep=True, seed=seed), "build_model", Ref)


@pytest.fixture(scope="module")
def model(learner):
    return build_model(learner, seed=0)


@pytest.mark.points(2)
def test_architecture(learner, model):
    """build_model gives Input((None, V)) -> SimpleRNN(return_sequences=True) -> Dense(V, softmax)."""
    check_architecture(learner.next_letter.export_model(model).config, V)


@pytest.mark.points(1)
def test_build_model_honours_units(learner):
    """build_model(V, units=H) gives a recurrent layer of H units."""
    asked = (3, 5)
    built = [recurrent_units(learner.next_letter.export_model(build_model(learner, 0, units=units)).config)
             for units in asked]
    if built[0] == built[1]:
        kind, found = built[0]
        raise Misconception("units-ignored", f"build_model(V, units=3) and build_model(V, units=5) both give a "
                                             f"{kind} of units={found!r}")
    for units, (kind, found) in zip(asked, built, strict=True):
        if found != units:
            raise AssertionError(f"build_model(V, units={units}) gives a {kind} of units={found!r}")


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


class Fit:
    """One model, built by build_model(V) with the grader's seed 1, and its weights before and after
    train(model, x, y, epochs=epochs, seed=3), called after the grader scrambled the global random state with
    `scramble`: what train returned, or the problem that stopped it."""

    def __init__(self, learner, x, y, epochs, scramble):
        self.what = f"train(..., epochs={epochs}, seed=3)"
        self.returned, self.unsent, self.problem = None, None, None
        try:
            model = build_model(learner, seed=1)
            self.before = weights_of(learner, model)
            try:
                self.returned = learner.next_letter.invoke("train", (model, x, y), {"epochs": epochs, "seed": 3},
                                                           seed=scramble, timeout=learner.settings.limits.train_s)
            except LearnerError as error:
                if not unsent_return(error):
                    raise
                self.unsent = error  # train ran to its end: its return value is test_train_is_reproducible's
            self.after = weights_of(learner, model)
        except (SubmissionProblem, AssertionError) as problem:
            self.problem = problem

    def require(self):
        if self.problem is not None:
            raise self.problem

    def losses(self):
        """The losses train returned, if it returned {'loss': [numbers]}; else that check's failure."""
        if self.unsent is not None:
            raise unsent_return_problem(self.unsent, self.what)
        history = as_data(self.returned, self.what, dict)
        return as_data(history.get("loss"), f"{self.what}['loss']", list, items=(int, float))

    def trained(self):
        return not same_weights(self.before, self.after)


@pytest.fixture(scope="module")
def fits(learner, settings):
    """Three models trained on the same random windows: two with epochs=2 from differently scrambled random
    states (reproducibility), one with epochs=1 (epochs honoured). Their weights before training are the
    grader's too: two untrained models agree as well, so a train that trains nothing would look reproducible."""
    rng = np.random.default_rng(settings.seed)
    x = np.eye(V, dtype=np.float32)[rng.integers(0, V, size=(64, 3))]
    y = np.eye(V, dtype=np.float32)[rng.integers(0, V, size=(64, 3))]
    return [Fit(learner, x, y, epochs, scramble) for epochs, scramble in ((2, 101), (2, 202), (1, 303))]


@pytest.mark.points(1)
def test_train_is_reproducible(fits):
    """train trains the model and returns {'loss': [...]}; the same seed gives the same weights."""
    first, second = fits[:2]
    for fit in (first, second):
        fit.require()
        fit.losses()
    if not first.trained() and not second.trained():
        raise Misconception("train-does-not-train", "after train(..., epochs=2, seed=3) the model's weights are "
                            "the ones it had before: train must fit the model")
    if not same_weights(first.after, second.after):
        raise Misconception("not-reproducible", "two train(..., seed=3) runs from the same start differ")


@pytest.mark.points(1)
def test_train_honours_epochs(fits):
    """train fits for the epochs it is given and returns one loss per epoch."""
    two, one = fits[0], fits[2]
    for fit in (one, two):
        fit.require()
    if one.trained() and same_weights(one.after, two.after):
        raise Misconception("epochs-ignored", "train(..., epochs=1, seed=3) and train(..., epochs=2, seed=3) leave "
                            "the same weights from the same start: train must fit for `epochs` epochs")
    counts = [len(fit.returned["loss"]) if isinstance(fit.returned, dict) and isinstance(fit.returned.get("loss"),
                                                                                           list) else None
              for fit in (one, two)]
    if None in counts or counts == [1, 2]:
        return  # what train returned, if not a list of losses, is test_train_is_reproducible's to judge
    message = f"train returned {counts[0]} losses for epochs=1 and {counts[1]} for epochs=2, expected one per epoch"
    if counts[0] == counts[1]:
        raise Misconception("epochs-ignored", message)
    raise AssertionError(message)


@pytest.mark.points(2)
def test_learns_goodbye(learner, rng, artifacts, credit):
    """Trained with your train() on windows of goodbye!, the model predicts every predictable next letter."""
    cyclic, window = WORD * 3, 3
    starts = rng.integers(0, len(WORD), size=400)
    x = np.stack([one_hot_rows(ALPHABET, cyclic[s : s + window]) for s in starts])
    y = np.stack([one_hot_rows(ALPHABET, cyclic[s + 1 : s + window + 1]) for s in starts])
    model = build_model(learner, seed=0)
    before = as_array(learner.next_letter.run_model(model, x[:4]), "the model")
    try:
        history = learner.next_letter.invoke("train", (model, x, y), {"seed": 0},
                                             timeout=learner.settings.limits.train_s)
    except LearnerError as error:
        if not unsent_return(error):
            raise
        history = None  # train ran to its end; what it returned is test_train_is_reproducible's to judge
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
        if np.array_equal(before, as_array(learner.next_letter.run_model(model, x[:4]), "the model")):
            raise Misconception("train-does-not-train", "the model predicts the same before and after train, "
                                f"and {sum(scored)} of {len(scored)} predictable next letters right")
        if accuracy < 0.5:
            raise Misconception("model-not-learning", f"only {accuracy:.0%} of the predictable letters right")
