"""Nothing of one submission reaches another in a batch slot, whose preloaded sandbox serves one submission
after another: a fork chain (a new pid every generation) and a submission that leaves IPC objects are graded
before a victim (the reference) and a collector (which returns whatever an earlier one left instead of the
alphabet), in one slot (--jobs 1): as root with a cgroup per worker, as root where no cgroup can be made, and
as uid 65534 (no cgroup; bubblewrap through a user namespace)."""

import json
import os
import subprocess
import sys

import pytest

from grader.authoring.selfcheck import Fixture, build, check_expectations, load_fixtures
from grader.core.config import REPOSITORY
from tests.routes import ORDINARY_UID, as_ordinary_user, without_cgroups

FIXTURES = {fixture.name: fixture for fixture in load_fixtures()}
# Graded in this order (ids sort so), one after another in the same slot.
CLASS = {"a-chain": FIXTURES["fork-chain"], "b-ipc": FIXTURES["leaves-ipc"], "c-victim": Fixture(name="victim"),
         "d-collector": FIXTURES["collector"]}


ROUTES = {"cgroup": lambda command, tmp_path: command,
          "no cgroup": lambda command, tmp_path: without_cgroups(command),
          "uid 65534": lambda command, tmp_path: as_ordinary_user(
              command, reach=[tmp_path / "class", tmp_path / "out", REPOSITORY])}


@pytest.mark.parametrize("route", ROUTES)
def test_nothing_of_one_submission_reaches_the_next_in_a_slot(route, tmp_path):
    for entry, fixture in CLASS.items():
        build(fixture, tmp_path / "class" / entry)
    (tmp_path / "out").mkdir()
    os.chown(tmp_path / "out", ORDINARY_UID, ORDINARY_UID)
    command = ["env", f"HOME={tmp_path / 'out'}", sys.executable, "-m", "grader.cli", "batch", tmp_path / "class",
               "--out", tmp_path / "out", "--jobs", "1", "--only", "encoding", "--isolation", "strict"]
    done = subprocess.run(list(map(str, ROUTES[route](command, tmp_path))),
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
