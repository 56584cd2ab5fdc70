"""Misconceptions: the mistakes the checks recognise, each with a stable id and a one-line hint.

A check that recognises a mistake raises `grader.core.errors.Misconception(id, message)` with an id
declared here. The report carries the id and
the hint for every check; the message (which may quote inputs and expected values) is shown for
public checks only.
"""

from grader.core.course import course

HINTS = {
    "alphabet-unsorted": "Sort the characters: set() has a different order in every Python process.",
    "encode-shape": "encode must return float32 of shape (N, T, V): samples, timesteps, alphabet size.",
    "encode-not-one-hot": "Every timestep needs exactly one 1, at the index of its character in the alphabet.",
    "encode-no-error": "Raise ValueError for a character outside the alphabet or a sample of the wrong length.",
    "decode-wrong": "decode takes the argmax over the last axis (the alphabet) and joins the characters.",
    "targets-not-shifted": "The target at each step is the NEXT letter: y encodes text[i+1 : i+T+1].",
    "dataset-not-reproducible": "Draw the window starts from np.random.default_rng(seed), not global state.",
    "transposed-weights": "Multiply h_prev @ W_hh with W_hh of shape (H, H) as given; do not transpose it.",
    "missing-tanh": "Apply np.tanh to x_t W_xh + h_prev W_hh + b.",
    "state-not-carried": "Feed each step's new hidden state into the next step, not h0 every time.",
    "missing-bias": "Add the bias b (shape (H,)) inside the tanh.",
    "h0-ignored": "Start from h0 when it is given; only h0=None means zeros.",
    "time-batch-swapped": "x is (N, T, D): time is axis 1. Loop over x[:, t], not x[t].",
    "softmax-wrong-axis": "Softmax normalises over the LAST axis (the alphabet): use axis=-1, keepdims=True.",
    "softmax-unstable": "Subtract the row maximum before np.exp so large logits do not overflow.",
    "wrong-shape": "Check the output shape against the docstring.",
    "return-sequences-false": "Use SimpleRNN(..., return_sequences=True) to get a prediction after every letter.",
    "wrong-output-activation": "The last layer is Dense(n_chars, activation='softmax').",
    "wrong-architecture": "Build Input((None, n_chars)) -> SimpleRNN(units, return_sequences=True) -> Dense.",
    "model-not-learning": "Check the learning rate and epochs: the model must learn every predictable letter.",
    "device-dependent": "The model's output must not depend on the device it runs on.",
    "not-reproducible": "Seed Keras in train from its seed argument (keras.utils.set_random_seed).",
    "train-does-not-train": "train must fit the model: call model.fit(x, y, epochs=epochs, ...) and return its "
                            "History's .history dict.",
    "wrong-prediction": "predict_next returns the argmax letter at the LAST step of the prefix.",
}


def hint(misconception_id: str) -> str | None:
    return course().hint(misconception_id) or HINTS.get(misconception_id)
