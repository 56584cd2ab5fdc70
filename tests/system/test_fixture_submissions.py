"""Every fixture submission gets the score it deserves, and no graded check catches nothing.

The fixtures (tests/fixtures/submissions.toml) are graded once per session, each by its own `grade`
process, two at a time.
"""

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from grader.authoring.selfcheck import Fixture, check_expectations, grade_fixtures, load_fixtures, uncaught_checks
from grader.grading import feedback
from grader.reports import report

FIXTURES = load_fixtures()
REFERENCE = [Fixture(name="reference"), Fixture(name="reference-again")]
REQUIRED_MISCONCEPTIONS = {
    "alphabet-unsorted", "encode-shape", "targets-not-shifted", "transposed-weights", "missing-tanh",
    "state-not-carried", "missing-bias", "h0-ignored", "time-batch-swapped", "softmax-wrong-axis",
    "softmax-unstable", "return-sequences-false", "wrong-output-activation",
}


CANARY = Path("/tmp/grader-canary.txt")
LISTEN_PORT = 47811  # the "network" fixture tries to reach the grader's machine on this port


class Listener:
    """A TCP server on the grader's loopback that records every connection a worker makes to it."""

    def __init__(self, port):
        self.server = socket.create_server(("127.0.0.1", port))
        self.server.settimeout(0.2)
        self.connections, self.running = 0, True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                self.server.accept()[0].close()
                self.connections += 1
            except OSError:
                continue

    def close(self):
        self.running = False
        self.thread.join()
        self.server.close()


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """Every fixture graded, with a canary file and a listening port for the attacks to aim at."""
    CANARY.write_text("canary")
    listener = Listener(LISTEN_PORT)
    try:
        reports = grade_fixtures([*REFERENCE, *FIXTURES], tmp_path_factory.mktemp("fixtures"), jobs=2)
        after = grade_fixtures([Fixture(name="reference-after-bombs")], tmp_path_factory.mktemp("after"))
    finally:
        listener.close()
    return {**reports, **after}, listener.connections


@pytest.fixture(scope="session")
def reports(graded):
    return graded[0]


def test_reference_gets_full_marks(reports):
    reference = reports["reference"]
    assert "error" not in reference, reference
    assert reference["score"] == reference["max_score"] > 0
    assert reference["internal_errors"] == 0


def test_grading_twice_gives_identical_results(reports):
    first, second = reports["reference"], reports["reference-again"]
    assert [(t["name"], t["score"], t["status"], t["details"].get("accuracy")) for t in first["tests"]] == \
           [(t["name"], t["score"], t["status"], t["details"].get("accuracy")) for t in second["tests"]]
    assert first["seed"] == second["seed"] == 0 and first["hash_seed"] == second["hash_seed"]


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_fixture_gets_the_outcome_it_deserves(reports, fixture):
    assert check_expectations(fixture, reports[fixture.name]) == []


def test_every_report_follows_the_schema(reports):
    for name, data in reports.items():
        assert "error" not in data, f"{name}: {data}"
        report.validate(data)


def test_every_misconception_has_a_fixture_that_is_diagnosed(reports):
    covered = {f.misconception for f in FIXTURES if f.misconception}
    assert REQUIRED_MISCONCEPTIONS <= covered
    # device-dependent is shown by tests/unit/test_device_comparison.py, wrong-shape by the shape checks
    assert set(feedback.HINTS) - covered <= {"device-dependent", "wrong-shape"}


def test_mutation_check_every_graded_check_catches_a_mutant(reports):
    assert uncaught_checks(FIXTURES, reports, reports["reference"]) == []


def test_hidden_checks_never_show_learner_text_or_values(reports):
    for data in reports.values():
        for test in data["tests"]:
            if test["visibility"] == "hidden":
                assert "SECRET-ECHO" not in test["message"] and "[[" not in test["message"]
                if test["status"] == "failed":
                    assert test["message"].startswith("A hidden check failed.")


def test_no_check_crashes_the_grader(reports):
    assert all(data["internal_errors"] == 0 for data in reports.values())


def test_hostile_submissions_finish_quickly(reports):
    """A hang costs one time limit per call, and an import that hangs costs it once."""
    assert all(data["duration_s"] < 60 for data in reports.values())
    assert reports["sleep-at-import"]["duration_s"] < 20
    assert reports["infinite-loop"]["duration_s"] < 40
    assert json.dumps(reports["learner-conftest"]).count('"passed"') == 0


# -- the sandbox (bubblewrap) ------------------------------------------------------------------------
def test_attacks_ran_in_the_sandbox(reports):
    for name in ("reads-secrets", "writes-everywhere", "network", "memory-bomb", "fork-bomb"):
        assert reports[name]["environment"]["isolation"] == "bubblewrap", name
    assert reports["reference-unsandboxed"]["environment"]["isolation"] == "subprocess"


def test_nothing_outside_the_job_changed_and_nothing_connected(graded):
    _, connections = graded
    assert CANARY.read_text() == "canary"
    assert not Path("/etc/grader-was-here").exists()
    assert connections == 0


def test_nothing_the_workers_started_survives(reports):
    leftovers = subprocess.run(["ps", "-u", "65534", "-o", "pid=,comm="], capture_output=True, text=True).stdout
    assert leftovers.strip() == "", leftovers
    for controller in ("memory", "pids"):
        assert not list(Path("/sys/fs/cgroup", controller).glob("grader-*"))
    assert not list(Path("/dev/shm").glob("grade-*"))


def test_reference_after_the_bombs_is_as_fast_as_before(reports):
    before, after = reports["reference"], reports["reference-after-bombs"]
    assert after["score"] == after["max_score"] == before["max_score"]
    assert after["duration_s"] < 1.5 * before["duration_s"] + 5


def test_strict_isolation_without_bubblewrap_exits_3_and_says_how_to_install(root, tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no bwrap on this PATH
    done = subprocess.run([sys.executable, "-m", "grader.cli", "solutions", "--only", "forward", "--isolation",
                           "strict"], capture_output=True, text=True, cwd=root, env=env)
    assert done.returncode == 3
    assert "apt-get install bubblewrap" in done.stderr
