"""The limits hold where no cgroup can be made (an instructor grading on a laptop as themselves, a container
without cgroup delegation), for fresh workers and for workers forked in a batch: memory through RLIMIT_AS, and
the files a worker writes through a tmpfs of `--memory-mb` for each of its directories, mounted in its sandbox.

Fresh workers are graded where no cgroup can be made (`tests.routes.without_cgroups`); the batch also as uid
65534 (`tests.routes.as_ordinary_user`). Before the tmpfs, `fills-the-disk` wrote 13.6 GiB of the machine's
memory into /dev/shm with `--memory-mb 400` as uid 65534, and its check ended at the time limit; `fills-dev-shm`
had bwrap's /dev, a tmpfs of half the machine's memory.
"""

import pytest

from grader.authoring.selfcheck import build, check_expectations, grade_fixtures, load_fixtures
from tests.routes import grade_batch, without_cgroups

FILLERS = ("fills-the-disk", "fills-dev-shm")  # the working directory; /dev/shm, which bwrap makes half the memory
FIXTURES = {fixture.name: fixture for fixture in load_fixtures() if fixture.name in ("memory-hog", *FILLERS)}
ARGS = ["--only", "forward", "--isolation", "strict", "--memory-mb", "400"]


def assert_bounded_without_a_cgroup(reports):
    assert {name: fixture.grade_args for name, fixture in FIXTURES.items()} == {
        name: ARGS[2:] for name in FIXTURES}, "the batch grades them all with these arguments"
    for name, report in reports.items():
        assert report["environment"]["isolation"] == "bubblewrap", report["environment"]
        assert "no-cgroup" in [fallback["kind"] for fallback in report["environment"]["fallbacks"]]
        memory = report["environment"]["enforcement"]["memory"]
        assert memory.startswith("RLIMIT_AS: 2448 MiB") and memory.endswith("a tmpfs of 400 MiB for each of its "
                                                                            "directories and /dev/shm"), memory
        assert check_expectations(FIXTURES[name], report) == []
    for name in FILLERS:
        disk = [t["message"] for t in reports[name]["tests"] if "output_layer" in t["name"]]
        assert disk and all(message.startswith("disk limit (the files a worker writes") for message in disk), disk


def test_fresh_workers_are_held_to_the_limits_without_a_cgroup(tmp_path):
    reports = grade_fixtures(list(FIXTURES.values()), tmp_path, wrap=lambda name, command: without_cgroups(command))
    assert_bounded_without_a_cgroup(reports)


@pytest.mark.parametrize("route", ["no cgroup", "uid 65534"])
def test_forked_workers_are_held_to_the_limits_without_a_cgroup(route, tmp_path):
    for name, fixture in FIXTURES.items():
        build(fixture, tmp_path / "class" / name)
    results = grade_batch(route, tmp_path / "class", tmp_path / "out", "--jobs", "1", *ARGS, timeout=600)
    assert {name: result["status"] for name, result in results.items()} == dict.fromkeys(FIXTURES, "graded")
    assert_bounded_without_a_cgroup({name: result["report"] for name, result in results.items()})
