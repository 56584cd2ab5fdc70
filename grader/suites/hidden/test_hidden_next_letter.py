"""Hidden checks for next_letter.py: the learner's model, trained on words it never saw.

The model is trained by the learner's own build_model and train, on data from the *reference*
make_dataset (a broken encoding exercise cannot sink this one), and crosses back as config and
weights. Accuracy is measured here with the reference numpy forward pass on prefixes the grader
generates itself. Calibration (docs/calibration.md): window 3, 400 windows, units 8; the reference
scores 1.0 on the scored prefixes for 10 of 10 seeds on both words.
"""

import numpy as np
import pytest

from grader.core.errors import Misconception, ModelRejected, SubmissionProblem
from grader.device.client import compare_devices
from grader.grading.checks import as_array, as_data
from grader.grading.evaluation import phase_windows, score_prefixes
from grader.grading.model_rules import check_architecture, check_weights
from grader.isolation.wire import Ref
from solutions import encoding as ref_encoding
from solutions import forward as ref_forward

WORDS = ("hello world!", "tensorflow")
WINDOW, SAMPLES, UNITS = 3, 400, 8
FULL_CREDIT = 0.9


class Trained:
    """One hidden word's model: the worker's Ref, its exported config and weights, or the problem."""

    def __init__(self, learner, word, seed, limits):
        self.word = word
        x, y, self.alphabet = ref_encoding.make_dataset(word, WINDOW, SAMPLES, seed)
        self.problem = None
        try:
            self.ref = as_data(learner.next_letter.invoke("build_model", (len(self.alphabet),), {"units": UNITS},
                                                          keep=True, seed=seed), "build_model", Ref)
            learner.next_letter.invoke("train", (self.ref, x, y), {"seed": seed}, timeout=limits.train_s)
            self.exported = learner.next_letter.export_model(self.ref)
            units = check_architecture(self.exported.config, len(self.alphabet))
            self.weights = check_weights(self.exported.weights, len(self.alphabet), units)
        except (SubmissionProblem, AssertionError) as problem:
            self.problem = problem

    def require(self):
        if self.problem is not None:
            raise self.problem

    def predict(self, x):
        """Trusted numpy evaluation of the learner's weights: (P, L, V) -> (P, L, V)."""
        kernel, recurrent, bias, dense_kernel, dense_bias = self.weights
        return ref_forward.output_layer(ref_forward.rnn_forward(x, kernel, recurrent, bias), dense_kernel, dense_bias)


@pytest.fixture(scope="module")
def trained(learner, settings):
    return [Trained(learner, word, settings.seed, settings.limits) for word in WORDS]


@pytest.mark.hint(
    "Train long enough, with a learning rate that lets the loss fall: build_model and train must work for"
    " any word, not only for goodbye!")
@pytest.mark.points(6)
def test_accuracy_on_unseen_words(trained, credit, details):
    """The trained model predicts every determined next letter of words it never saw (>= 0.9 for full marks)."""
    scores = []
    for model in trained:
        model.require()
        scored = score_prefixes(model.word, model.alphabet, model.predict, range(1, WINDOW + 1))
        longer = score_prefixes(model.word, model.alphabet, model.predict, range(WINDOW + 1, 2 * WINDOW + 1))
        scores.append(scored.accuracy)
        details[f"word_{len(scores)}_accuracy"] = round(scored.accuracy, 4)
        details[f"word_{len(scores)}_ceiling"] = round(scored.ceiling, 4)
        details[f"word_{len(scores)}_longer_prefix_accuracy"] = round(longer.accuracy, 4)
    accuracy = float(np.mean(scores))
    details["accuracy"] = round(accuracy, 4)
    if accuracy < FULL_CREDIT:
        credit.set(accuracy / FULL_CREDIT, f"accuracy {accuracy:.2f} on the predictable letters; full marks "
                   f"from {FULL_CREDIT}")
        if accuracy < FULL_CREDIT / 2:
            raise Misconception("model-not-learning", f"accuracy {accuracy:.2f} on the predictable letters")


@pytest.mark.hint(
    "predict_next one-hot encodes the prefix, runs the model, and returns the alphabet letter with the "
    "highest probability at the last step.")
@pytest.mark.points(1)
def test_predict_next_agrees_with_model(learner, trained):
    """predict_next returns the model's most likely letter for prefixes of every length."""
    model = trained[0]
    model.require()
    for prefix in phase_windows(model.word, WINDOW)[:4] + phase_windows(model.word, 1)[:4]:
        x = np.eye(len(model.alphabet), dtype=np.float32)[[model.alphabet.index(c) for c in prefix]][None]
        wanted = model.alphabet[int(model.predict(x)[0, -1].argmax())]
        letter = as_data(learner.next_letter.predict_next(model.ref, model.alphabet, prefix), "predict_next", str)
        if letter != wanted:
            raise Misconception("wrong-prediction", "predict_next disagrees with the model's own probabilities")


@pytest.mark.hint('Return the model build_model made and train fitted, unchanged: the grader runs its saved weights.')
@pytest.mark.points(1)
def test_model_matches_its_weights(learner, trained):
    """The model in your process computes what its config and weights say it computes."""
    model = trained[1]
    model.require()
    x = np.eye(len(model.alphabet), dtype=np.float32)[np.random.default_rng(0).integers(0, len(model.alphabet),
                                                                                       size=(4, 2 * WINDOW))]
    ran = as_array(learner.next_letter.run_model(model.ref, x), "the model")
    if ran.shape != x.shape or not np.max(np.abs(ran - model.predict(x))) <= 1e-4:
        raise ModelRejected("the model's outputs in your process do not match its saved weights")


@pytest.mark.hint(
    'The model must be the plain SimpleRNN and Dense layers: nothing random or device-dependent at prediction time.')
@pytest.mark.points(2)
def test_same_on_two_devices(trained, device_checker, facts, details):
    """The saved model gives the same predictions on two devices and in the grader's numpy code."""
    model = trained[0]
    model.require()
    x = np.stack([np.eye(len(model.alphabet), dtype=np.float32)[[model.alphabet.index(c) for c in w]]
                  for w in phase_windows(model.word, 2 * WINDOW)])
    ran = device_checker.run(model.exported.keras_path, x)
    facts.update(devices=ran.devices, gpu_present=ran.gpu_present, device_note=(
        "CPU vs GPU" if ran.gpu_present else "no GPU present: compared two logical CPU devices"))
    details.update(compare_devices(ran.outputs, model.predict(x)))
    if not ran.gpu_present:
        details["note"] = "no GPU present: two logical CPU devices"
