"""What the sequences checks, public and hidden, share: judging make_windows's (x, y) pair."""

from collections.abc import Sequence
from typing import Any

import numpy as np

from grader.core.errors import Misconception
from grader.grading.checks import as_array, as_data, close, same_mistake
from grader.grading.diagnose import expect_match


def expect_windows(value: Any, right: tuple[Any, Any], what: str,
                   mistakes: Sequence[tuple[str | None, str, tuple[Any, Any]]] = (), atol: float = 0.0) -> None:
    """Fail unless make_windows's `value` is the pair (x, y) `right`, within `atol`.

    mistakes: (id, what the mistake does, the (x, y) it returns); one is named only when both x and y are what
    it returns. Otherwise x and y are judged one after the other, and the failure says what differs.
    """
    x, y = as_data(value, what, list, length=2)  # a tuple arrives as a list
    x, y = as_array(x, f"{what}'s x"), as_array(y, f"{what}'s y")
    if close(x, right[0], atol) and close(y, right[1], atol):
        return
    found = [(id_, does) for id_, does, (wrong_x, wrong_y) in mistakes
             if not (same_mistake(np.asarray(wrong_x, float), right[0], atol)
                     and same_mistake(np.asarray(wrong_y, float), right[1], atol))
             and same_mistake(x, wrong_x, atol) and same_mistake(y, wrong_y, atol)]
    if len({id_ for id_, _ in found}) == 1:
        message = f"{what} {' or '.join(does for _, does in found)} (its x and y match that mistake's)"
        if found[0][0] is None:
            raise AssertionError(message)
        raise Misconception(found[0][0], message)
    expect_match(x, right[0], f"{what}'s x", atol=atol)
    expect_match(y, right[1], f"{what}'s y", atol=atol)
