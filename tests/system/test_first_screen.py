"""What a learner sees first: `grade` on the untouched stubs fits a screen, names each function to
write once, and says what to do next; `--verbose` shows every check; a real mistake still shows what
to fix; no two checks share a name in any output."""

import json
import os
import re

import pytest

from grader.authoring.selfcheck import build
from grader.core.course import course
from grader.reports import wording
from grader.reports.formats import gradescope, junit

COLUMNS = {**os.environ, "COLUMNS": "100", "TERM": "dumb"}


@pytest.fixture(scope="module")
def stubs(grade_cli, tmp_path_factory):
    report = tmp_path_factory.mktemp("stubs") / "report.json"
    done = grade_cli("exercises", "--json", report, env=COLUMNS)
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(report.read_text())


def test_the_stubs_first_screen_is_short_and_lists_each_function_once(stubs):
    screen, report = stubs
    lines = screen.splitlines()
    assert len(lines) <= 40, screen
    assert max(map(len, lines)) <= 100
    assert "Not written yet" in screen and f"Score: 0 / {report['max_score']:g}" in screen
    for file, functions in wording.stub_functions(report["tests"]).items():
        listed = next(line for line in lines if line.strip().startswith(f"{file}:"))
        assert listed.split(":", 1)[1].strip().split(", ") == functions
    assert screen.count("is not written yet") == 0  # the stub's message is not repeated per check
    first = course().exercises[0]
    assert re.search(rf"Next: write {first.functions[0]}\(\) in {first.name}\.py", screen)  # the course's order


def test_verbose_gives_every_check_a_row(grade_cli, tmp_path):
    report = tmp_path / "report.json"
    done = grade_cli("exercises", "--only", "forward", "--verbose", "--json", report, env=COLUMNS)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("│ forward: ")]
    assert len(rows) == len(json.loads(report.read_text())["tests"])
    assert "Next: write rnn_step() in forward.py" in done.stdout


def test_a_real_mistake_still_shows_what_to_fix(grade_cli, fixture_submissions, tmp_path):
    submission = build(fixture_submissions["transposed-weights"], tmp_path / "transposed")
    done = grade_cli(submission, "--only", "forward", env=COLUMNS)
    assert done.returncode == 0, done.stderr
    assert "[transposed-weights]" in done.stdout and "Next: fix the first check above" in done.stdout


def test_no_two_checks_share_a_name_in_any_output(stubs):
    _, report = stubs
    labels = [wording.label(t) for t in report["tests"]]
    assert len(set(labels)) == len(labels)
    assert len({t["name"] for t in report["tests"]}) == len(report["tests"])
    names = [t["name"] for t in json.loads(gradescope.render(report))["tests"]]
    assert len(set(names)) == len(names)
    cases = re.findall(r'<testcase classname="([^"]+)" name="([^"]+)"', junit.render(report))
    assert len(cases) == len(report["tests"]) and len(set(cases)) == len(cases)
