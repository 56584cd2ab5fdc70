"""What the encoding checks, public and hidden, share: reading make_dataset's windows back, and judging
an alphabet, a decoding or a dataset. A failure names a mistake only when the output is what that
mistake computes; anything else is said plainly (what came back, what was expected)."""

from collections import Counter
from typing import Any

import numpy as np

from grader.core.errors import Misconception
from grader.grading.checks import as_array, as_data


def check_alphabet(alphabet: list[str], text: str, what: str) -> None:
    """Fail unless `alphabet` is the distinct characters of `text`, sorted.

    The text's characters with repeats (sorted(text), list(text)) are alphabet-duplicates; each once
    in another order (list(set(text))) is alphabet-unsorted; missing or foreign items are said plainly.
    """
    wanted = sorted(set(text))
    if alphabet == wanted:
        return
    missing, foreign = sorted(set(wanted) - set(alphabet)), sorted(set(alphabet) - set(wanted))
    if missing or foreign:
        raise AssertionError(f"{what} returned {alphabet}: " + "; ".join(
            [f"the text's characters {missing} are missing"] * bool(missing) +
            [f"{foreign} are not characters of the text"] * bool(foreign)))
    repeated = sorted(char for char, count in Counter(alphabet).items() if count > 1)
    if repeated:
        raise Misconception("alphabet-duplicates", f"{what} returned {alphabet}: {repeated} appear more than once")
    raise Misconception("alphabet-unsorted", f"{what} returned {alphabet}, which is not sorted")


def spelled(array: np.ndarray, alphabet: list[str], axis: int = -1) -> list[str]:
    """The strings an array spells in `alphabet`: at each place, the character of the largest value along
    `axis` (the last one, the alphabet, unless a mistake's other axis is asked for)."""
    return ["".join(alphabet[i] for i in row) for row in np.asarray(array).argmax(axis)]


def check_decoded(decoded: list[str], array: np.ndarray, alphabet: list[str], what: str) -> None:
    """Fail unless `decoded` is what `array` (N, T, V) spells; decode-wrong when it is the argmax over
    another axis (the batch or the time axis instead of the alphabet)."""
    wanted = spelled(array, alphabet)
    if decoded == wanted:
        return
    if any(decoded == spelled(array, alphabet, axis) for axis in range(array.ndim - 1)):
        raise Misconception("decode-wrong", f"{what} returned {decoded}: the argmax over another axis than the last")
    raise AssertionError(f"{what} returned {decoded}, expected {wanted}")


def dataset(value: Any, what: str, n: int, length: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """make_dataset's (x, y, alphabet): x and y of shape (n, length, V) for its own alphabet of V strings,
    so a check of the windows reads them whatever the alphabet (the alphabet has checks of its own)."""
    x, y, alphabet = as_data(value, what, list, length=3)
    alphabet = as_data(alphabet, f"{what}'s alphabet", list, items=str)
    assert alphabet, f"{what} returned an empty alphabet"
    shape = (n, length, len(alphabet))
    return as_array(x, f"{what}'s x", shape=shape), as_array(y, f"{what}'s y", shape=shape), alphabet


def start_of(window: str, text: str) -> int | None:
    """Where `window` starts in `text` repeated end to end (the first such position), or None if it is no
    window of it. Every window has one start when the text's letters are distinct, or the window is at
    least as long as the text and no rotation of the text equals another."""
    position = (text * (len(window) // len(text) + 2)).find(window)
    return position if 0 <= position < len(text) else None


def window_starts(inputs: list[str], text: str, what: str) -> list[int]:
    """Where each input starts in `text` repeated end to end; a failure for one that is no window of it."""
    starts = [start_of(given, text) for given in inputs]
    for given, start in zip(inputs, starts, strict=True):
        assert start is not None, f"{what}: the input {given!r} is not a window of {text!r} repeated end to end"
    return starts


def check_windows(inputs: list[str], targets: list[str], text: str, what: str) -> None:
    """Fail unless each input is a window of `text` repeated end to end and its target is the window one
    letter further; targets-not-shifted when every target is its input itself."""
    nexts = [(text * (len(given) // len(text) + 3))[start + 1 :][: len(given)]
             for given, start in zip(inputs, window_starts(inputs, text, what), strict=True)]
    if targets == nexts:
        return
    if targets == inputs:
        raise Misconception("targets-not-shifted", f"{what}: each target is its input itself, e.g. {inputs[0]!r}")
    given, target, wanted = next(row for row in zip(inputs, targets, nexts, strict=True) if row[1] != row[2])
    raise AssertionError(f"{what}: for the input {given!r} the target was {target!r}, expected {wanted!r}")


def check_every_start(inputs: list[str], text: str, what: str) -> None:
    """Fail unless the inputs are windows of `text` repeated end to end that start at every position of it.

    dataset-no-wrap when none runs past the end of the text into its repeat while some should: the
    windows of a text that was not repeated, starts drawn up to len(text) - seq_len.
    """
    starts = set(window_starts(inputs, text, what))
    missing = sorted(set(range(len(text))) - starts)
    if not missing:
        return
    length = len(inputs[0])
    example = (text * (length // len(text) + 2))[missing[-1] :][:length]
    wrapping = {start for start in range(len(text)) if start + length > len(text)}
    if not starts & wrapping:
        raise Misconception("dataset-no-wrap", f"{what}: no window runs past the end of the text into its "
                                               f"repeat; starts {missing} never occur in {len(inputs)} windows, "
                                               f"e.g. {example!r}")
    raise AssertionError(f"{what}: no window of the {len(inputs)} starts at position{'s' * (len(missing) > 1)} "
                         f"{missing} of the text, e.g. {example!r}")


def check_dataset_alphabet(value: Any, text: str, what: str, n: int, length: int) -> None:
    """Fail unless make_dataset's alphabet is that of the whole `text`; alphabet-from-windows when it
    holds exactly the characters of the windows it returned, fewer than the text's."""
    parts = as_data(value, what, list, length=3)
    alphabet = as_data(parts[2], f"{what}'s alphabet", list, items=str)
    if alphabet == sorted(set(text)):
        return
    if alphabet and set(alphabet) < set(text) and len(set(alphabet)) == len(alphabet):
        try:
            x, y, _ = dataset(value, what, n, length)
        except AssertionError:  # windows that cannot be read in it: no evidence where the alphabet came from
            x = y = None
        if x is not None and set("".join(spelled(x, alphabet) + spelled(y, alphabet))) == set(alphabet):
            raise Misconception("alphabet-from-windows", f"{what} returned the alphabet {alphabet}, the characters "
                                f"of its windows only: {sorted(set(text) - set(alphabet))} of the text are missing")
    check_alphabet(alphabet, text, f"{what}'s alphabet")
