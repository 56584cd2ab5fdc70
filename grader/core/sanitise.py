"""The one sanitiser for text that the learner's code controls, and the terminal's escaping.

`clean` is applied where such text enters the report: each field of the worker's error report
(`core.errors.LearnerError`) and every check's message (`grading.outcomes`). It removes the C0 and C1
control characters but newline and tab (an ESC sequence drew a fake "Score: 63 / 63" in the learner's
terminal and retitled it; a NUL broke the JUnit XML) and the bidirectional controls, and caps the
text's length with a visible marker (a 500,000-character exception class name made a 5.5 MB report).
Each renderer then escapes for its own medium (docs/design.md); `for_terminal` is the terminal's, for
every role that prints with rich.
"""

import re

from rich.text import Text

# Caps, in characters, per field.
TYPE_NAME_CHARS = 100  # an exception's type name: Python's own are under 30
PLACE_CHARS = 300  # "forward.py line 12, in rnn_step": a file name may have 255
TEXT_CHARS = 2000  # an exception's text
MESSAGE_CHARS = 4000  # a check's whole message, which may quote all three

# C0 controls but tab and newline, DEL, C1 controls, lone surrogates (JSON can carry them, and no UTF-8
# file or terminal can take them: writing one raises), and the bidirectional controls, which reorder
# what a terminal or a browser shows (CVE-2021-42574): a message could then read as something else.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str) -> str:
    return UNSAFE.sub("", text)


def clean(text: object, limit: int) -> str:
    """`text` as a string without control characters, cut after `limit` characters with a marker."""
    kept = strip_controls(str(text))
    if len(kept) <= limit:
        return kept
    return f"{kept[:limit]}… ({len(kept) - limit} characters cut)"


def for_terminal(text: object) -> Text:
    """`text` to print with rich as it is: a `Text` is never parsed as markup or emoji codes, and a
    terminal acts on control characters, so none is left."""
    return Text(strip_controls(str(text)))
