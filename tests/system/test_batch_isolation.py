"""Nothing of one submission reaches another in a batch slot, whose preloaded sandbox serves one submission
after another: a fork chain (a new pid every generation) and a submission that leaves IPC objects are graded
before a victim (the reference) and a collector (which returns whatever an earlier one left instead of the
alphabet), in one slot (--jobs 1): as root with a cgroup per worker, as root where no cgroup can be made, and
as uid 65534 (no cgroup; bubblewrap through a user namespace)."""

import pytest

from grader.authoring.selfcheck import Fixture, build, check_expectations, load_fixtures
from tests.routes import BATCH_ROUTES, grade_batch

FIXTURES = {fixture.name: fixture for fixture in load_fixtures()}
# Graded in this order (ids sort so), one after another in the same slot.
CLASS = {"a-chain": FIXTURES["fork-chain"], "b-ipc": FIXTURES["leaves-ipc"], "c-victim": Fixture(name="victim"),
         "d-collector": FIXTURES["collector"]}


@pytest.mark.parametrize("route", BATCH_ROUTES)
def test_nothing_of_one_submission_reaches_the_next_in_a_slot(route, tmp_path):
    for entry, fixture in CLASS.items():
        build(fixture, tmp_path / "class" / entry)
    results = grade_batch(route, tmp_path / "class", tmp_path / "out", "--jobs", "1", "--only", "encoding",
                          "--isolation", "strict")
    reports = {entry: results[entry]["report"] for entry in CLASS}
    for entry, report in reports.items():
        kinds = {fallback["kind"] for fallback in report["environment"]["fallbacks"]}
        assert kinds <= {"no-cgroup"}, (entry, report["environment"]["fallbacks"])  # the preloaded slot served all
    victim = reports["c-victim"]
    assert victim["score"] == victim["max_score"] > 0, [t["message"] for t in victim["tests"] if t["message"]]
    for entry in ("a-chain", "b-ipc", "d-collector"):
        assert check_expectations(CLASS[entry], reports[entry]) == [], [t["message"] for t in reports[entry]["tests"]]
