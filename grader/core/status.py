"""The statuses a check and a batch row can have: the only spellings the reports use."""

from enum import StrEnum


class Status(StrEnum):
    """How one check ended (the report's `tests[].status`)."""

    PASSED = "passed"
    FAILED = "failed"  # the learner's output is wrong
    ERROR = "error"  # the learner's code raised, hung, exited or could not be imported
    SKIPPED = "skipped"


class RowStatus(StrEnum):
    """How one submission of a batch ended (the gradebook's `status` column)."""

    GRADED = "graded"
    NOT_A_SUBMISSION = "not a submission"
    TIMEOUT = "timeout"
    CRASH = "crash"
