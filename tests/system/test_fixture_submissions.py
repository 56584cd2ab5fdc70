"""Every fixture submission gets the score it deserves, and no graded check catches nothing.

The fixtures (tests/fixtures/submissions.toml) are graded once per session, each by its own `grade`
process, two at a time, each under an observer (tests/survivors.py) of what that grading left running:
these tests look at what their own gradings started, never at the rest of the machine, so another
grading running beside them changes nothing here. How long gradings take is for the benchmarks.
"""

import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from grader.authoring.selfcheck import (
    Fixture,
    check_expectations,
    exercise_variants,
    grade_fixtures,
    load_fixtures,
    uncaught_checks,
)
from grader.grading import feedback
from grader.reports import report

FIXTURES = load_fixtures() + exercise_variants()  # the corpus, and the variants each exercise declares
REFERENCE = [Fixture(name="reference"), Fixture(name="reference-again")]
REQUIRED_MISCONCEPTIONS = {
    "alphabet-unsorted", "encode-shape", "targets-not-shifted", "transposed-weights", "missing-tanh",
    "state-not-carried", "missing-bias", "h0-ignored", "time-batch-swapped", "softmax-wrong-axis",
    "softmax-unstable", "return-sequences-false", "wrong-output-activation",
}


CANARY = Path("/tmp/grader-canary.txt")


class Listener:
    """A TCP server on the grader's loopback that records every connection a worker makes to it."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))  # a free port: other test runs may listen beside
        self.port = self.server.getsockname()[1]
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


def aimed_at(fixture, port):
    """`fixture` with its `listen_port.py` (the "network" attack's target) naming `port`."""
    if "listen_port.py" not in fixture.files:
        return fixture
    return dataclasses.replace(fixture, files={**fixture.files, "listen_port.py": f"PORT = {port}\n"})


@pytest.fixture(scope="session")
def graded(tmp_path_factory, observe, observed):
    """Every fixture graded, with a canary file and a listening port for the attacks to aim at:
    {"reports": {name: report}, "connections": how many reached the port, "observed": {name: what the
    observer saw that grading leave running}}."""
    CANARY.write_text("canary")
    listener = Listener()
    observations = tmp_path_factory.mktemp("observed")
    fixtures = [aimed_at(fixture, listener.port) for fixture in FIXTURES]

    def wrap(name, command):
        return observe(observations / f"{name}.json", command)

    try:
        reports = grade_fixtures([*REFERENCE, *fixtures], tmp_path_factory.mktemp("fixtures"), jobs=2, wrap=wrap)
        after = grade_fixtures([Fixture(name="reference-after-bombs")], tmp_path_factory.mktemp("after"), wrap=wrap)
    finally:
        listener.close()
    return {"reports": {**reports, **after}, "connections": listener.connections,
            "observed": {path.stem: observed(path) for path in observations.glob("*.json")}}


@pytest.fixture(scope="session")
def reports(graded):
    return graded["reports"]


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
    assert feedback.declared() - covered <= set(feedback.GRADER_HINTS)  # wrong-shape: by the shape checks


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


def test_a_hang_is_stopped_at_its_time_limit_and_an_import_waited_for_once(graded):
    """Every grading ended on its own, though the hostile code would run for an hour or forever; a check
    that hit a time limit took that limit (one hanging call), plus a margin for a busy machine; and an
    import that hangs is waited for by one check at most (the worker starts importing when the checks
    are collected), the others fail at once. How long hostile gradings take against the reference is
    bench/bench_hostile.py's to measure."""
    assert [name for name, seen in graded["observed"].items() if seen["timed_out"]] == []
    reports = graded["reports"]
    for name in ("infinite-loop", "ignores-sigalrm", "sleep-at-import"):
        limits = reports[name]["limits"]
        stopped = [test for test in reports[name]["tests"] if "time limit" in test["message"]]
        assert stopped, name
        assert all(test["duration_s"] < max(limits["call_s"], limits["import_s"]) + 30 for test in stopped), name
    import_s = reports["sleep-at-import"]["limits"]["import_s"]
    waited = [test["name"] for test in reports["sleep-at-import"]["tests"] if test["duration_s"] > import_s / 2]
    assert len(waited) <= 1, waited


def test_a_learner_conftest_passes_nothing(reports):
    assert json.dumps(reports["learner-conftest"]).count('"passed"') == 0


IMPORT_FAILURES = ("imports-scipy", "scipy-in-softmax", "import-in-encode")


def test_an_import_failure_is_an_error_of_the_code_never_a_misconception(reports):
    """A module that is not in the grading environment, imported at the top or inside a function, makes
    the checks that need it errors that say so; none of them names a misconception (encode-no-error)."""
    for name in IMPORT_FAILURES:
        hit = [test for test in reports[name]["tests"] if "ModuleNotFoundError" in test["message"]]
        assert hit, name
        assert all(test["status"] == "error" and test["misconception"] is None for test in hit), name
        assert all("not available in the grading environment" in test["message"] for test in hit
                   if test["visibility"] == "public"), name
        assert all("only numpy, TensorFlow/Keras and Python's standard library" in test["message"] for test in hit)
        assert not any(test["misconception"] for test in reports[name]["tests"]), name


# -- the sandbox (bubblewrap) ------------------------------------------------------------------------
def test_attacks_ran_in_the_sandbox(reports):
    for name in ("reads-secrets", "writes-everywhere", "network", "memory-bomb", "fork-bomb"):
        assert reports[name]["environment"]["isolation"] == "bubblewrap", name
    assert reports["reference-unsandboxed"]["environment"]["isolation"] == "subprocess"


def test_nothing_outside_the_job_changed_and_nothing_connected(graded):
    assert CANARY.read_text() == "canary"
    assert not Path("/etc/grader-was-here").exists()
    assert graded["connections"] == 0


def test_nothing_the_workers_started_survives(graded):
    """When a grading ends, nothing it started is left: no process (however orphaned, of any user), no
    cgroup, no workspace. Only these gradings' own are looked at: their processes through the observer,
    their cgroups and workspaces by the creator's pid in their names (grader-PID-..., grade-PID-...)."""
    observed = graded["observed"]
    assert set(observed) == set(graded["reports"])
    assert {name: seen["survivors"] for name, seen in observed.items() if seen["survivors"]} == {}
    creators = {str(seen["pid"]) for seen in observed.values()}

    def ours(paths):
        return [str(path) for path in paths if path.name.split("-")[1] in creators]

    cgroups = Path("/sys/fs/cgroup")
    assert ours([*cgroups.glob("grader-*"), *cgroups.glob("memory/grader-*"), *cgroups.glob("pids/grader-*")]) == []
    assert ours(Path("/dev/shm").glob("grade-*")) == []


def test_reference_after_the_bombs_gets_full_marks(reports):
    """The bombs leave nothing that costs a later grading points (how fast it is: bench/bench_hostile.py)."""
    before, after = reports["reference"], reports["reference-after-bombs"]
    assert after["score"] == after["max_score"] == before["max_score"]


def test_strict_isolation_without_bubblewrap_exits_3_and_says_how_to_install(root, tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no bwrap on this PATH
    done = subprocess.run([sys.executable, "-m", "grader.cli", "solutions", "--only", "forward", "--isolation",
                           "strict"], capture_output=True, text=True, cwd=root, env=env)
    assert done.returncode == 3
    assert "apt-get install bubblewrap" in done.stderr
