"""The limits hold where no cgroup can be made (an instructor grading on a laptop as themselves, a container
without cgroup delegation), for fresh workers and for workers forked in a batch.

The grading runs where no cgroup can be made (`tests.routes.without_cgroups`).
"""

import json
import subprocess
import sys

from grader.authoring.selfcheck import build, check_expectations, grade_fixtures, load_fixtures
from grader.core.config import REPOSITORY
from tests.routes import without_cgroups

FIXTURE = next(fixture for fixture in load_fixtures() if fixture.name == "memory-hog")


def assert_bounded_by_rlimit_as(report):
    assert report["environment"]["isolation"] == "bubblewrap", report["environment"]
    assert "no-cgroup" in [fallback["kind"] for fallback in report["environment"]["fallbacks"]]
    assert report["environment"]["enforcement"]["memory"].startswith("RLIMIT_AS: 2448 MiB"), report["environment"]
    assert check_expectations(FIXTURE, report) == []


def test_a_fresh_worker_is_held_to_the_memory_limit_without_a_cgroup(tmp_path):
    reports = grade_fixtures([FIXTURE], tmp_path, wrap=lambda name, command: without_cgroups(command))
    assert_bounded_by_rlimit_as(reports[FIXTURE.name])


def test_a_forked_worker_is_held_to_the_memory_limit_without_a_cgroup(tmp_path):
    build(FIXTURE, tmp_path / "class" / "hog")
    command = without_cgroups([sys.executable, "-m", "grader.cli", "batch", tmp_path / "class",
                               "--out", tmp_path / "out", "--jobs", "1", "--only", "forward", *FIXTURE.grade_args])
    done = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "out" / "hog.json").read_text())
    assert result["status"] == "graded", result
    assert_bounded_by_rlimit_as(result["report"])
