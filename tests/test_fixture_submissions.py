"""Every fixture submission gets the score it deserves, and no graded check catches nothing.

The fixtures (tests/fixtures/submissions.toml) are graded once per session, each by its own `grade`
process, two at a time.
"""

import json

import pytest

from grader import feedback, report
from grader.selfcheck import Fixture, check_expectations, grade_fixtures, load_fixtures, uncaught_checks

FIXTURES = load_fixtures()
REFERENCE = [Fixture(name="reference"), Fixture(name="reference-again")]
REQUIRED_MISCONCEPTIONS = {
    "alphabet-unsorted", "encode-shape", "targets-not-shifted", "transposed-weights", "missing-tanh",
    "state-not-carried", "missing-bias", "h0-ignored", "time-batch-swapped", "softmax-wrong-axis",
    "softmax-unstable", "return-sequences-false", "wrong-output-activation",
}


@pytest.fixture(scope="session")
def reports(tmp_path_factory):
    return grade_fixtures([*REFERENCE, *FIXTURES], tmp_path_factory.mktemp("fixtures"), jobs=2)


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
    # device-dependent is shown by tests/test_units.py (compare_devices), wrong-shape by the shape checks
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
    assert reports["sleep-at-import"]["duration_s"] < 20
    assert reports["infinite-loop"]["duration_s"] < 40
    assert json.dumps(reports["learner-conftest"]).count('"passed"') == 0
