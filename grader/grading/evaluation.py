"""Next-letter accuracy on prefixes the grader generates itself.

For a word repeated end to end and a training window W, the evaluation prefixes are every phase of
the word (each starting letter) at every length 1..W. A prefix *determines* its next letter when
every place it occurs in the repeated word is followed by the same letter; only those prefixes are
scored (after `o` in `goodbye!` comes `o` or `d`: no model can know which). Lengths W+1..2W are
measured too, as information: the model was never trained on them.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.grading.checks import as_array


@dataclass
class PrefixScore:
    correct: int
    scored: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.scored if self.scored else 1.0

    @property
    def ceiling(self) -> float:
        """The share of prefixes whose next letter is determined (the most any model can score on)."""
        return self.scored / self.total if self.total else 1.0


def determined_next(word: str, prefix: str) -> str | None:
    """The letter that always follows `prefix` in `word` repeated, or None if it varies."""
    cyclic = word * (len(prefix) // len(word) + 2)
    following = {cyclic[i + len(prefix)] for i in range(len(word)) if cyclic.startswith(prefix, i)}
    return following.pop() if len(following) == 1 else None


def phase_windows(word: str, length: int) -> list[str]:
    """Every phase of `word` repeated, `length` letters long: a list of len(word) strings."""
    cyclic = word * (length // len(word) + 2)
    return [cyclic[s : s + length] for s in range(len(word))]


def prefix_predictions(word: str, alphabet: Sequence[str], predict: Callable[[np.ndarray], Any],
                       lengths: Sequence[int], what: str = "the model") -> list[tuple[str, str, str | None]]:
    """[(prefix, predicted letter, determined next letter or None)] for every phase and length.

    predict: maps one-hot inputs (P, L, V) to probabilities (P, L, V), L = max(lengths); causal, so
    step k's output is the prediction after the first k+1 letters. Anything else fails as `what`'s.
    """
    windows = phase_windows(word, max(lengths))
    eye = np.eye(len(alphabet), dtype=np.float32)
    x = np.stack([eye[[alphabet.index(c) for c in w]] for w in windows])
    predicted = as_array(predict(x), what, shape=x.shape).argmax(-1)
    return [(window[:length], alphabet[predicted[p, length - 1]], determined_next(word, window[:length]))
            for p, window in enumerate(windows) for length in lengths]


def score_prefixes(word: str, alphabet: Sequence[str], predict: Callable[[np.ndarray], Any],
                   lengths: Sequence[int]) -> PrefixScore:
    """Score `predict` on every phase of `word` at each prefix length in `lengths` (see above)."""
    rows = prefix_predictions(word, alphabet, predict, lengths)
    scored = [(got, wanted) for _, got, wanted in rows if wanted is not None]
    return PrefixScore(sum(got == wanted for got, wanted in scored), len(scored), len(rows))
