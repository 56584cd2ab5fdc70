"""Misconceptions: the mistakes the checks recognise, each with a stable id and a one-line hint.

Each exercise declares the ids its checks may name, with their hints, in `solutions/NAME.toml`; `grade build`
copies them into the course manifest (`grader.core.course`), where this module looks them up. The grader
itself declares only the ids its own helpers raise for any exercise (`GRADER_HINTS`). A check that
recognises a mistake raises `grader.core.errors.Misconception(id, message)`; the report carries the id and
its hint, and the message (which may quote inputs and expected values) for public checks only. An id that
nobody declares is an authoring error: `grade build` refuses it (authoring/course_file.py), and a check that
raised one anyway is reported as a grader error.
"""

from grader.core.course import course

# Raised by grader/grading/checks.py and diagnose.py when an array has another shape or dtype than asked.
GRADER_HINTS = {"wrong-shape": "Check the output shape against the docstring."}


def hint(misconception_id: str) -> str | None:
    """The hint of a declared misconception; None for an id that nobody declares."""
    return GRADER_HINTS.get(misconception_id) or course().hint(misconception_id)


def declared() -> set[str]:
    """Every misconception id the grader and the course's exercises declare."""
    return set(GRADER_HINTS) | {key for exercise in course().exercises for key in exercise.misconceptions}
