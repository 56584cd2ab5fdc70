"""grader/reports/: every format rendered from a report written by hand (no grading run), the
Canvas merge, and the release's CI template that uses them."""

import csv
import io
import json

import jsonschema
import pytest
import xmlschema
import yaml

from grader.core.config import PACKAGE_DIR
from grader.reports import report
from grader.reports.formats import gradebook, gradescope, html, junit, markdown
from grader.reports.formats.gradebook import merge_canvas

FORMATS = PACKAGE_DIR / "reports" / "formats"


def test_merge_refuses_an_export_without_the_id_column(root):
    with pytest.raises(ValueError, match="no 'Email' column"):
        merge_canvas("id,total\n", (root / "tests/fixtures/canvas_export.csv").read_text(), "A", "Email")


def test_classroom_workflow_grades_and_posts_the_summary(root):
    workflow = yaml.safe_load((root / "grader/authoring/templates/github-classroom.yml").read_text())
    steps = workflow["jobs"]["grade"]["steps"]
    command = next(s["run"] for s in steps if s.get("name") == "Grade")
    assert "grade exercises" in command and '--markdown "$GITHUB_STEP_SUMMARY"' in command
    assert "--junit" in command and any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps)


def test_the_sample_report_follows_the_schema(sample_report):
    report.validate(sample_report)
    del sample_report["environment"]["fallbacks"]
    with pytest.raises(jsonschema.ValidationError, match="fallbacks"):
        report.validate(sample_report)


def test_gradescope_results_follow_the_specification(sample_report):
    results = json.loads(gradescope.render(sample_report))
    jsonschema.validate(results, json.loads((FORMATS / "gradescope.schema.json").read_text()))
    assert results["score"] == 2 and [t["status"] for t in results["tests"]] == ["passed", "failed", "failed"]
    assert [t["visibility"] for t in results["tests"]] == ["visible", "visible", "after_due_date"]
    assert results["tests"][1]["output"].startswith("[transposed-weights] ")
    assert results["tests"][1]["output"].endswith("Hint: Do not transpose W_hh.")
    failed = gradescope.failure("bubblewrap is not available")
    jsonschema.validate(failed, json.loads((FORMATS / "gradescope.schema.json").read_text()))
    assert failed["score"] == 0 and "bubblewrap" in failed["output"]


def test_junit_follows_its_schema_and_names_the_misconception(sample_report):
    xml = junit.render(sample_report)
    schema = xmlschema.XMLSchema(FORMATS / "junit.xsd")
    schema.validate(xml)
    cases = [case for suite in schema.to_dict(xml)["testsuite"] for case in suite["testcase"]]
    assert [(case["@name"], case["@file"], case["@line"]) for case in cases][0] == (
        "test_softmax", "grader/suites/public/test_forward.py", 10)
    assert [case["failure"]["@type"] for case in cases if "failure" in case] == ["transposed-weights", "failed"]


def test_markdown_lists_what_to_fix_in_one_table(sample_report):
    text = markdown.render(sample_report)
    assert text.startswith("## RNN exercises: 2 / 6\n")
    assert text.count("\n| ❌ |") == 2 and "`transposed-weights`" in text and "Hint: Do not transpose W_hh." in text
    assert "would give \\| for h_prev" in text  # a | in a message does not split the table's cells
    sample_report["tests"] = sample_report["tests"][:1]
    assert "Every check passed." in markdown.render(sample_report)


def test_html_page_is_self_contained_and_escapes_the_report(sample_report):
    sample_report["tests"][1]["message"] = "<script>alert(1)</script>"
    page = html.render(sample_report)
    for forbidden in ("http://", "https://", "<script", "<link", "src="):
        assert forbidden not in page
    assert "&lt;script&gt;" in page and "transposed-weights" in page and "did not run" in page


def test_gradebook_row_names_the_submission(sample_report):
    rows = list(csv.DictReader(io.StringIO(gradebook.render(sample_report))))
    assert rows == [{"id": "student-7", "total": "2", "max_score": "6", "encoding": "", "forward": "2",
                     "next_letter": "", "status": "graded", "reason": ""}]
