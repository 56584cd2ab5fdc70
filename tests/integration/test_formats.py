"""Every consumer's format, from one `grade` run, validated against its specification
(grader/reports/formats/)."""

import csv
import io
import json
import os

import jsonschema
import pytest
import xmlschema

from grader.authoring.selfcheck import Fixture, build
from grader.cli import main
from grader.core.config import PACKAGE_DIR

FORMATS = PACKAGE_DIR / "reports" / "formats"
ARTIFACTS = PACKAGE_DIR.parent / "tests" / "artifacts"
FLAGS = {"json": "report.json", "gradescope": "results.json", "junit": "junit.xml", "markdown": "summary.md",
         "html": "feedback.html", "csv": "gradebook.csv"}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, grade_cli):
    """One `grade` run of a submission with one mistake, writing every format at once."""
    work = tmp_path_factory.mktemp("formats")
    submission = build(Fixture(name="student-42", replace=[
        {"module": "forward", "old": "h_prev @ W_hh + b)", "new": "h_prev @ W_hh.T + b)"}]), work / "student-42")
    args = [a for flag, name in FLAGS.items() for a in (f"--{flag}", str(work / name))]
    done = grade_cli(submission, "--quiet", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return work


def test_gradescope_results_follow_the_specification(outputs):
    results = json.loads((outputs / "results.json").read_text())
    report = json.loads((outputs / "report.json").read_text())
    jsonschema.validate(results, json.loads((FORMATS / "gradescope.schema.json").read_text()))
    assert results["score"] == report["score"] < report["max_score"]
    assert sum(t["score"] for t in results["tests"]) == pytest.approx(report["score"])
    hidden = [t for t in results["tests"] if "hidden" in t["tags"]]
    assert hidden and all(t["visibility"] == "after_due_date" for t in hidden)
    assert any("transposed-weights" in t["output"] for t in results["tests"] if t["status"] == "failed")


def test_gradescope_results_are_written_when_grading_fails(grade_cli, tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no bwrap: --isolation strict cannot grade
    done = grade_cli("solutions", "--isolation", "strict", "--gradescope", tmp_path / "results.json", env=env)
    assert done.returncode == 3
    results = json.loads((tmp_path / "results.json").read_text())
    jsonschema.validate(results, json.loads((FORMATS / "gradescope.schema.json").read_text()))
    assert results["score"] == 0 and "bubblewrap" in results["output"] and results["tests"]


def test_junit_is_valid_and_points_at_each_check(outputs, root):
    xml = outputs / "junit.xml"
    xmlschema.XMLSchema(FORMATS / "junit.xsd").validate(xml)
    report = json.loads((outputs / "report.json").read_text())
    cases = xmlschema.XMLSchema(FORMATS / "junit.xsd").to_dict(xml)["testsuite"]
    testcases = [case for suite in cases for case in suite["testcase"]]
    assert len(testcases) == len(report["tests"])
    for case in testcases:
        lines = (root / case["@file"]).read_text().splitlines()
        nearby = lines[case["@line"] - 1 : case["@line"] + 3]
        assert any(line.lstrip().startswith(("def test_", "@pytest")) for line in nearby), case["@name"]
    failures = [case for case in testcases if "failure" in case]
    assert failures and all(case["failure"]["@type"] == "transposed-weights" for case in failures)


def test_markdown_summary_names_what_to_fix(outputs):
    text = (outputs / "summary.md").read_text()
    report = json.loads((outputs / "report.json").read_text())
    assert text.startswith(f"## RNN exercises: {report['score']:g} / {report['max_score']:g}")
    assert "### What to fix" in text and "`transposed-weights`" in text
    assert text.count("\n| ❌ |") == sum(t["status"] == "failed" for t in report["tests"])


def test_html_page_is_self_contained(outputs):
    page = (outputs / "feedback.html").read_text()
    for forbidden in ("http://", "https://", "<script", "<link", "src="):
        assert forbidden not in page
    assert "<polyline" in page and "Predictions on every prefix" in page and "transposed-weights" in page


def test_html_page_renders_in_headless_chromium(outputs, chromium_screenshot):
    """The screenshot is kept in tests/artifacts/feedback.png for a person to look at."""
    data = chromium_screenshot(outputs / "feedback.html", "feedback.png", (1100, 2000))
    assert len(data) > 50_000  # text, a plot and a table, not a blank page


def test_gradebook_row_and_canvas_merge(outputs, root, tmp_path):
    rows = list(csv.DictReader(io.StringIO((outputs / "gradebook.csv").read_text())))
    report = json.loads((outputs / "report.json").read_text())
    assert rows == [{"id": "student-42", "total": f"{report['score']:g}", "max_score": f"{report['max_score']:g}",
                     **{e["name"]: f"{e['score']:g}" for e in report["exercises"]}, "status": "graded", "reason": ""}]
    gradebook = tmp_path / "ours.csv"
    ours = (outputs / "gradebook.csv").read_text().replace("student-42", "alan")
    gradebook.write_text(ours + f"nobody,1,{report['max_score']:g},,,,graded,\n")
    out = tmp_path / "merged.csv"
    assert main(["merge-lms", str(gradebook), str(root / "tests/fixtures/canvas_export.csv"), "--assignment",
                 "RNN (202)", "--out", str(out)]) == 0
    merged = list(csv.reader(out.open()))
    column = merged[0].index("RNN (202)")
    assert merged[1][0].strip() == "Points Possible" and merged[1][column] == f"{report['max_score']:g}"
    assert {r[3]: r[column] for r in merged[2:]} == {"ada": "", "alan": f"{report['score']:g}", "grace": ""}
    assert merged[2][5] == "9"  # other assignments untouched
