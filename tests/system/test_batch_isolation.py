"""Nothing of one submission reaches another in a batch slot, whose preloaded sandbox serves one submission
after another: a fork chain (a new pid every generation) and a submission that leaves IPC objects are graded
before a victim (the reference) and a collector (which returns whatever an earlier one left instead of the
alphabet), in one slot (--jobs 1), with a cgroup per worker and where no cgroup can be made."""

import json
import subprocess
import sys

import pytest

from grader.authoring.selfcheck import Fixture, build, check_expectations, load_fixtures
from grader.core.config import REPOSITORY
from tests.routes import without_cgroups

FIXTURES = {fixture.name: fixture for fixture in load_fixtures()}
# Graded in this order (ids sort so), one after another in the same slot.
CLASS = {"a-chain": FIXTURES["fork-chain"], "b-ipc": FIXTURES["leaves-ipc"], "c-victim": Fixture(name="victim"),
         "d-collector": FIXTURES["collector"]}


@pytest.mark.parametrize("route", ["cgroup", "no cgroup"])
def test_nothing_of_one_submission_reaches_the_next_in_a_slot(route, tmp_path):
    for entry, fixture in CLASS.items():
        build(fixture, tmp_path / "class" / entry)
    command = [sys.executable, "-m", "grader.cli", "batch", tmp_path / "class", "--out", tmp_path / "out",
               "--jobs", "1", "--only", "encoding", "--isolation", "strict"]
    done = subprocess.run(without_cgroups(command) if route == "no cgroup" else list(map(str, command)),
                          cwd=REPOSITORY, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    reports = {entry: json.loads((tmp_path / "out" / f"{entry}.json").read_text())["report"] for entry in CLASS}
    for entry, report in reports.items():
        kinds = {fallback["kind"] for fallback in report["environment"]["fallbacks"]}
        assert kinds <= {"no-cgroup"}, (entry, report["environment"]["fallbacks"])  # the preloaded slot served all
    victim = reports["c-victim"]
    assert victim["score"] == victim["max_score"] > 0, [t["message"] for t in victim["tests"] if t["message"]]
    for entry in ("a-chain", "b-ipc", "d-collector"):
        assert check_expectations(CLASS[entry], reports[entry]) == [], [t["message"] for t in reports[entry]["tests"]]
