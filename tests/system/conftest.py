"""Helpers of the system tests: what whole commands leave behind."""

import csv
import io
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def read_gradebook():
    """{id: row} of a results directory's gradebook.csv (grade batch, grade merge)."""

    def read(results):
        return {row["id"]: row for row in csv.DictReader(io.StringIO((Path(results) / "gradebook.csv").read_text()))}

    return read
