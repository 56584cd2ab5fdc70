# %% [markdown]
# # A Keras RNN that predicts the next letter
#
# ## The task
# We show the network the word `goodbye!` over and over, in windows of a few letters, and at every
# step ask it: *which letter comes next?* After `g` the answer is `o`; after `go`, `o` again; after
# `goo`, `d`. Some positions cannot be predicted from the letters seen so far: after a single `o` the
# next letter is `o` or `d`, and no network can know which. We judge the model only on the
# positions whose next letter the prefix determines.
#
# ## The model
# - `keras.Input(shape=(None, V))`: sequences of any length (`None` timesteps), `V` features each;
# - `SimpleRNN(units, return_sequences=True)`: the recurrence of the `forward` exercise; `return_sequences=True`
#   returns the hidden state at *every* step, shape `(N, T, units)`, because we want a guess after
#   every letter, not only after the last;
# - `Dense(V, activation="softmax")`: applied at every step, it turns each hidden state into
#   probabilities over the alphabet, shape `(N, T, V)`.
#
# We train with categorical cross-entropy (the one-hot targets against the predicted probabilities)
# and the Adam optimiser.
#
# ## Training fast and reproducibly
# Adam's default learning rate (0.001) needs a hundred epochs and still often stops short of perfect
# on this word. A larger rate and more windows per epoch reach every predictable letter in a few
# epochs, and most of Keras's time per epoch is set-up rather than arithmetic, so fewer, larger
# epochs are much faster. Seeding Keras (`keras.utils.set_random_seed`) makes two runs identical.

# %%
import keras
import numpy as np

LEARNING_RATE = 0.02
EPOCHS = 6
BATCH_SIZE = 16


def build_model(n_chars, units=8):
    """Build and compile the next-letter model.

    Inputs:
    - n_chars: V, the size of the alphabet.
    - units: H, the size of the hidden state.

    Returns:
    - model: a compiled keras.Model mapping (N, T, V) one-hot inputs, for any T, to (N, T, V)
      probabilities: Input((None, V)) -> SimpleRNN(H, return_sequences=True) -> Dense(V, softmax),
      compiled with loss="categorical_crossentropy" and an Adam optimiser.

    Hint: keras.Sequential([...]) with keras.Input(shape=(None, n_chars)) first; pass
    keras.optimizers.Adam(learning_rate=LEARNING_RATE) to compile.
    """
    raise NotImplementedError("build_model() in next_letter.py is not written yet: replace this line with your code (the docstring above says what it takes and returns).")


def train(model, x, y, epochs=EPOCHS, seed=0):
    """Train the model on one-hot windows, reproducibly.

    Inputs:
    - model: a compiled model from build_model.
    - x: inputs, float32 of shape (N, T, V).
    - y: next-letter targets, float32 of shape (N, T, V).
    - epochs: passes over the data.
    - seed: integer; the same seed must give the same trained weights.

    Returns:
    - history: dict with key "loss", a list of one float per epoch.

    Hint: first seed Keras with keras.utils.set_random_seed and the `seed` argument, then call
    model.fit(x, y, epochs=epochs, batch_size=BATCH_SIZE, verbose=0) and return its .history.
    """
    raise NotImplementedError("train() in next_letter.py is not written yet: replace this line with your code (the docstring above says what it takes and returns).")


def predict_next(model, alphabet, prefix):
    """Predict the most likely letter after `prefix`.

    Inputs:
    - model: a trained model from build_model.
    - alphabet: the list of V characters the model was trained with.
    - prefix: a string of length L >= 1 made of alphabet characters.

    Returns:
    - letter: a single character from the alphabet.

    Hint: one-hot encode the prefix as an array of shape (1, L, V), run the model, and take the argmax
    of the probabilities at the last step.
    """
    raise NotImplementedError("predict_next() in next_letter.py is not written yet: replace this line with your code (the docstring above says what it takes and returns).")
