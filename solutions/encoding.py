# %% [markdown]
# # Turning text into numbers an RNN can read
#
# ## Sequence problems come in shapes
# A recurrent network reads a sequence one step at a time. What it returns depends on the task:
# - **many to one**: read a whole sentence, output one label (is this review positive?);
# - **one to many**: from one input, produce a sequence (describe an image in words);
# - **many to many**: one output per input step (tag every word, or predict every next letter).
#
# Our task is *many to many*: after every letter of a word, guess the letter that comes next.
#
# ## Why a plain dense network falls short
# A dense layer takes a fixed number of inputs and gives every input position its own weights.
# A word of 5 letters and one of 9 need different networks, and what it learns about the letter
# `o` in position 2 teaches it nothing about `o` in position 6. An RNN reuses the *same* weights at
# every step and carries a memory (the hidden state) from one step to the next, so it handles any
# length and learns a pattern once wherever it occurs.
#
# ## Three dimensions: (batch, timesteps, features)
# Every sequence array in this course has the shape `(N, T, V)`:
# - `N`, the batch: how many sequences are processed together;
# - `T`, the timesteps: how long each sequence is;
# - `V`, the features per step: here one number per letter of the alphabet.
#
# A letter becomes a **one-hot** vector: all zeros except a single 1 at the letter's index in the
# alphabet. The alphabet must be in the same order every time the program runs, or a model trained
# today decodes to nonsense tomorrow. `set()` has no stable order between Python processes
# (string hashing is randomised per process), so we **sort** the characters.

# %%
import numpy as np


def build_alphabet(text):
    """Return the characters used in `text`, sorted and without repeats.

    Inputs:
    - text: a string, e.g. "goodbye!".

    Returns:
    - alphabet: a list of single-character strings in sorted order, e.g.
      ['!', 'b', 'd', 'e', 'g', 'o', 'y']. It must be the same list in every Python process.

    Hint: `set(text)` removes repeats but its order changes from one run to the next; `sorted` fixes it.
    """
    # BEGIN SOLUTION
    return sorted(set(text))
    # END SOLUTION


def encode(alphabet, samples, seq_len):
    """One-hot encode strings of equal length.

    Inputs:
    - alphabet: list of V distinct characters, as returned by build_alphabet.
    - samples: list of N strings, each of length seq_len.
    - seq_len: T, the number of timesteps.

    Returns:
    - encoded: float32 array of shape (N, T, V) with encoded[n, t, alphabet.index(samples[n][t])] = 1
      and zeros elsewhere.

    Raises ValueError, naming the culprit, if a sample's length is not seq_len or if a character is not
    in the alphabet.

    Hint: build a dict from character to index once, then fill a zero array with np.zeros((N, T, V)).
    """
    # BEGIN SOLUTION
    index = {char: i for i, char in enumerate(alphabet)}
    encoded = np.zeros((len(samples), seq_len, len(alphabet)), dtype=np.float32)
    for n, sample in enumerate(samples):
        if len(sample) != seq_len:
            raise ValueError(f"sample {sample!r} has length {len(sample)}, expected seq_len={seq_len}")
        for t, char in enumerate(sample):
            if char not in index:
                raise ValueError(f"character {char!r} in sample {sample!r} is not in the alphabet")
            encoded[n, t, index[char]] = 1.0
    return encoded
    # END SOLUTION


def decode(alphabet, encoded):
    """Turn one-hot vectors or probabilities back into strings.

    Inputs:
    - alphabet: list of V characters.
    - encoded: array of shape (N, T, V), one-hot rows or probabilities over the alphabet.

    Returns:
    - samples: list of N strings of length T; each character is the alphabet entry with the largest
      value at that step.

    Hint: np.argmax over the last axis gives the index of the chosen character at every step.
    """
    # BEGIN SOLUTION
    indices = np.argmax(np.asarray(encoded), axis=-1)
    return ["".join(alphabet[i] for i in row) for row in indices]
    # END SOLUTION


# %% [markdown]
# ## Inputs and targets for next-letter prediction
# We cut the text, repeated end to end (`goodbye!goodbye!...`), into windows of `seq_len` letters.
# The input is the window; the target is the same window shifted one letter to the right, so at
# every step the network is asked for the letter that follows:
#
# ```
# x: g o o        (text[i : i + 3])
# y: o o d        (text[i + 1 : i + 4])
# ```
#
# The starting positions are drawn at random with a seed, so the same seed always gives the same data.

# %%
def make_dataset(text, seq_len, n_samples, seed):
    """Build one-hot inputs and next-letter targets from windows of `text` repeated cyclically.

    Inputs:
    - text: the training string, e.g. "goodbye!"; it is treated as repeating forever.
    - seq_len: T, the window length.
    - n_samples: N, the number of windows.
    - seed: integer seed for choosing the window starts.

    Returns a tuple (x, y, alphabet):
    - x: float32 array (N, T, V), the one-hot encoding of text[i : i + T] for a start i.
    - y: float32 array (N, T, V), the one-hot encoding of the next letters, text[i + 1 : i + T + 1].
    - alphabet: the list from build_alphabet(text).

    Hint: np.random.default_rng(seed).integers(0, len(text), size=n_samples) gives the starts; repeat the
    text enough times that every window fits, then slice.
    """
    # BEGIN SOLUTION
    alphabet = build_alphabet(text)
    starts = np.random.default_rng(seed).integers(0, len(text), size=n_samples)
    cyclic = text * (seq_len // len(text) + 2)
    inputs = [cyclic[i : i + seq_len] for i in starts]
    targets = [cyclic[i + 1 : i + seq_len + 1] for i in starts]
    return encode(alphabet, inputs, seq_len), encode(alphabet, targets, seq_len), alphabet
    # END SOLUTION
