"""The whole hostile corpus (every fixture marked `hostile`) graded in one `grade batch --jobs 2`, as root
(cgroups) and as uid 65534 (no cgroup can be made: rlimits; bubblewrap through a user namespace), with the
reference before and after the attackers: no submission becomes a crash row, the references keep full
marks, and nothing of one submission shows in another's outputs.

The numpy exercises hold nearly every attack; the three that attack the trusted model check (the device
server, which a batch shares between submissions) are graded on next_letter in a second batch.
"""

import pytest

from grader.authoring.selfcheck import Fixture, build, load_fixtures
from tests.routes import grade_batch

CORPUS = [fixture for fixture in load_fixtures() if fixture.hostile]
MODEL_ATTACKS = [fixture for fixture in CORPUS if fixture.only == ["next_letter"]]
LIMITS = ["--isolation", "strict", "--max-processes", "64", "--call-timeout", "5"]
ROUTES = ["root", "uid 65534"]


def build_class(directory, attackers):
    """The attackers between two references, as entries whose ids sort in that order; each module ends in
    a comment naming its entry, so a copy of one submission's source shows where it lands."""
    entries = {"s00-reference": Fixture(name="reference")}
    entries |= {f"s{number:02d}-{fixture.name}": fixture for number, fixture in enumerate(attackers, start=1)}
    entries["s99-reference"] = Fixture(name="reference")
    for entry, fixture in entries.items():
        build(fixture, directory / entry)
        for module in (directory / entry).glob("*.py"):
            module.write_text(module.read_text() + f"\n# submission {entry}\n")
    return entries


def assert_contained(entries, results, out):
    assert set(results) == set(entries)
    for entry, result in results.items():
        assert result["status"] == "graded", (entry, result)
    for entry in ("s00-reference", "s99-reference"):
        report = results[entry]["report"]
        assert report["score"] == report["max_score"] > 0, [t["message"] for t in report["tests"] if t["message"]]
    for entry in entries:
        own = "".join((out / f"{entry}{suffix}").read_text() for suffix in (".json", ".html"))
        assert [other for other in entries if other != entry and other in own] == [], entry
        for module in (out.parent / "class" / entry).glob("*.py"):  # nothing overwrote the sources
            assert module.read_text().endswith(f"\n# submission {entry}\n"), module


@pytest.mark.parametrize("route", ROUTES)
def test_the_hostile_corpus_in_one_batch(route, tmp_path):
    entries = build_class(tmp_path / "class", CORPUS)
    results = grade_batch(route, tmp_path / "class", tmp_path / "out", "--jobs", "2", "--only", "encoding", "forward",
                          "--memory-mb", "400", "--import-timeout", "3", *LIMITS, timeout=1200)
    assert_contained(entries, results, tmp_path / "out")
    enforcement = results["s99-reference"]["report"]["environment"]["enforcement"]
    assert enforcement["memory"].startswith("memory cgroup" if route == "root" else "RLIMIT_AS"), enforcement


@pytest.mark.parametrize("route", ROUTES)
def test_the_attacks_on_the_model_check_in_one_batch(route, tmp_path):
    assert {fixture.name for fixture in MODEL_ATTACKS} >= {"lambda-layer", "saves-h5-and-lies-in-config"}
    entries = build_class(tmp_path / "class", MODEL_ATTACKS)
    results = grade_batch(route, tmp_path / "class", tmp_path / "out", "--jobs", "2", "--only", "next_letter", *LIMITS,
                          timeout=1200)
    assert_contained(entries, results, tmp_path / "out")
