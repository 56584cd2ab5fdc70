"""Hidden checks for next_letter.py: the learner's model, trained on words it never saw.

The model is trained by the learner's own build_model and train, on data from the *reference*
make_dataset (a broken encoding exercise cannot sink this one), and crosses back as config and
weights. Accuracy is measured on prefixes the grader generates itself, from the learner's weights: with
the reference numpy forward pass for the exercise's architecture, and for another architecture that the
grader runs (a GRU, an extra Dropout layer: the public test_architecture takes its points) with the trusted
device checker's Keras, which loads the saved model with no learner code. Each check judges what it can see:
what train returned is the public checks' (a History object leaves the model trained), and so is the
architecture. Calibration (docs/calibration.md): window 3, 400 windows, units 8; the reference reaches full
credit on each word for 10 of 10 seeds.
"""

import numpy as np
import pytest

from grader.core.errors import LearnerError, Misconception, SubmissionProblem
from grader.device.client import compare_devices
from grader.grading.checks import as_array, as_data
from grader.grading.evaluation import phase_windows, score_prefixes
from grader.grading.model_rules import check_architecture, check_weights, unsent_return
from grader.grading.outcomes import HIDDEN_MESSAGE
from grader.isolation.wire import Ref
from solutions import encoding as ref_encoding
from solutions import forward as ref_forward

WORDS = ("hello world!", "tensorflow")
WINDOW, SAMPLES, UNITS = 3, 400, 8
FULL_CREDIT = 0.9  # on each word


class Trained:
    """One hidden word's model: the worker's Ref, its exported config and weights, or the problem."""

    def __init__(self, learner, word, seed, limits, device_checker):
        self.word, self.device_checker = word, device_checker
        x, y, self.alphabet = ref_encoding.make_dataset(word, WINDOW, SAMPLES, seed)
        self.problem, self.weights, self.untouched = None, None, False
        try:
            self.ref = as_data(learner.next_letter.invoke("build_model", (len(self.alphabet),), {"units": UNITS},
                                                          keep=True, seed=seed), "build_model", Ref)
            before = learner.next_letter.run_model(self.ref, x[:4])
            try:
                learner.next_letter.invoke("train", (self.ref, x, y), {"seed": seed}, timeout=limits.train_s)
            except LearnerError as error:
                if not unsent_return(error):
                    raise  # what train returned is the public checks' to judge; the model is trained
            # Evidence for which mistake a model that predicts badly shows: one that train left as it was built.
            self.untouched = np.array_equal(as_array(before, "the model"),
                                            as_array(learner.next_letter.run_model(self.ref, x[:4]), "the model"))
            self.exported = learner.next_letter.export_model(self.ref)
            self.weights = self.exercise_weights()
        except (SubmissionProblem, AssertionError) as problem:
            self.problem = problem

    def exercise_weights(self):
        """The weights, for the numpy evaluation, of a model of the exercise's architecture; None for another
        one that the grader runs (its architecture is the public check's to judge), which the device checker
        evaluates. ModelRejected for a model the grader does not run."""
        try:
            units = check_architecture(self.exported.config, len(self.alphabet))
        except Misconception:
            return None
        return check_weights(self.exported.weights, len(self.alphabet), units)

    def require(self):
        if self.problem is not None:
            raise self.problem

    def predict(self, x):
        """Trusted evaluation of the learner's model: (P, L, V) -> (P, L, V). The reference numpy forward pass on
        its weights, or for another architecture the device checker's Keras on its saved model."""
        if self.weights is None:
            return self.device_checker.run(self.exported.keras_path, x).outputs[0]
        kernel, recurrent, bias, dense_kernel, dense_bias = self.weights
        return ref_forward.output_layer(ref_forward.rnn_forward(x, kernel, recurrent, bias), dense_kernel, dense_bias)


@pytest.fixture(scope="module")
def trained(learner, settings, device_checker):
    return [Trained(learner, word, settings.seed, settings.limits, device_checker) for word in WORDS]


@pytest.mark.hint(
    "Train long enough, with a learning rate that lets the loss fall: build_model and train must work for"
    " any word, not only for goodbye!")
@pytest.mark.points(6)
def test_accuracy_on_unseen_words(trained, credit, details):
    """The trained model predicts every determined next letter of words it never saw (>= 0.9 on each word for
    full marks)."""
    accuracies = []
    for number, model in enumerate(trained, 1):
        model.require()
        scored = score_prefixes(model.word, model.alphabet, model.predict, range(1, WINDOW + 1))
        longer = score_prefixes(model.word, model.alphabet, model.predict, range(WINDOW + 1, 2 * WINDOW + 1))
        accuracies.append(scored.accuracy)
        details[f"word_{number}_accuracy"] = round(scored.accuracy, 4)
        details[f"word_{number}_ceiling"] = round(scored.ceiling, 4)
        details[f"word_{number}_longer_prefix_accuracy"] = round(longer.accuracy, 4)
    details["accuracy"] = round(float(np.mean(accuracies)), 4)
    short = [(number, accuracy) for number, accuracy in enumerate(accuracies, 1) if accuracy < FULL_CREDIT]
    if short:
        if any(model.untouched for model in trained):
            raise Misconception("train-does-not-train", "the model predicts the same before and after train")
        if np.mean(accuracies) < FULL_CREDIT / 2:
            raise Misconception("model-not-learning", f"accuracy {np.mean(accuracies):.2f} on the predictable letters")
        # Full marks need the threshold on each word: one word learnt perfectly does not make up for another.
        credit.set(float(np.mean([min(accuracy / FULL_CREDIT, 1.0) for accuracy in accuracies])),
                   f"{HIDDEN_MESSAGE} " + "; ".join(f"Accuracy {accuracy:.2f} on the predictable letters of hidden "
                                                    f"word {number}" for number, accuracy in short)
                   + f": full marks from {FULL_CREDIT} on each word.")


@pytest.mark.hint(
    "predict_next one-hot encodes the prefix, runs the model, and returns the alphabet letter with the "
    "highest probability at the last step.")
@pytest.mark.points(1)
def test_predict_next_agrees_with_model(learner, trained):
    """predict_next returns the model's most likely letter for prefixes of every length."""
    model = trained[0]
    model.require()
    eye = np.eye(len(model.alphabet), dtype=np.float32)
    for length in (WINDOW, 1):
        prefixes = phase_windows(model.word, length)[:4]
        x = np.stack([eye[[model.alphabet.index(c) for c in prefix]] for prefix in prefixes])
        probabilities = as_array(model.predict(x), "the model", shape=x.shape)
        for prefix, step in zip(prefixes, probabilities[:, -1], strict=True):
            letter = as_data(learner.next_letter.predict_next(model.ref, model.alphabet, prefix), "predict_next", str)
            if letter != model.alphabet[int(step.argmax())]:
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
    trusted = as_array(model.predict(x), "the saved model")
    if ran.shape != x.shape or trusted.shape != x.shape or not np.max(np.abs(ran - trusted)) <= 1e-4:
        raise AssertionError("the model's outputs in your process do not match its saved weights")


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
    details.update(compare_devices(ran.outputs, None if model.weights is None else model.predict(x), x.shape))
    if not ran.gpu_present:
        details["note"] = "no GPU present: two logical CPU devices"
