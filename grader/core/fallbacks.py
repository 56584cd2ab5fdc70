"""Record every fallback the grader takes, so none is silent.

A fallback keeps a grading going when something better is not available: no bubblewrap (a plain
process), no cgroup (rlimits only), a preloaded zygote or server that is gone (a fresh process).
Each costs isolation or speed, so it is logged (logger `grader`, level WARNING) and kept for the
report's `environment.fallbacks`. A grade process records its own (`note`); the batch keeps a
`Fallbacks` per submission and adds it to that submission's report.
"""

import logging

LOG = logging.getLogger("grader")


class Fallbacks:
    """The fallbacks one grading took, each kind once."""

    def __init__(self) -> None:
        self.taken: dict[str, str] = {}

    def note(self, kind: str, message: str) -> None:
        """Record fallback `kind` (a short stable name) with what it costs, and log it."""
        if kind not in self.taken:
            LOG.warning("fallback %s: %s", kind, message)
            self.taken[kind] = message

    def as_list(self) -> list[dict[str, str]]:
        """For the report: [{"kind", "message"}]."""
        return [{"kind": kind, "message": message} for kind, message in self.taken.items()]


PROCESS = Fallbacks()  # this grade process's


def note(kind: str, message: str) -> None:
    """Record a fallback of this grade process."""
    PROCESS.note(kind, message)


def taken() -> list[dict[str, str]]:
    """This grade process's fallbacks since `forget`."""
    return PROCESS.as_list()


def forget() -> None:
    """Start a new record (each grading in a long-lived process has its own)."""
    PROCESS.taken.clear()
