"""Helpers of the system tests: what whole commands leave behind."""

import csv
import io
import json
from pathlib import Path

import pytest

from tests import survivors

# A grading still running after this long hangs: the observer kills it (with all it started) and says so.
HANG_S = 600


@pytest.fixture(scope="session")
def read_gradebook():
    """{id: row} of a results directory's gradebook.csv (grade batch, grade merge)."""

    def read(results):
        return {row["id"]: row for row in csv.DictReader(io.StringIO((Path(results) / "gradebook.csv").read_text()))}

    return read


@pytest.fixture(scope="session")
def observe():
    """observe(report, command): the command line that runs `command` under tests/survivors.py, which
    writes to `report` what `command` left running when it ended. It sees only the processes that
    `command` started (however they were orphaned), never another user's or another grading's running
    beside it, and it stops a `command` that runs `HANG_S`."""

    def wrap(report, command):
        return survivors.command(Path(report), list(command), HANG_S)

    return wrap


@pytest.fixture(scope="session")
def observed():
    """observed(report): what the observer wrote: {"pid", "returncode", "timed_out", "survivors"}."""

    def read(report):
        return json.loads(Path(report).read_text())

    return read
