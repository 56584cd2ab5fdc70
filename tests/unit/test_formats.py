"""grader/reports/: every format rendered from a report written by hand (no grading run), the
Canvas merge, and the release's CI template that uses them."""

import csv
import io
import json
from xml.etree import ElementTree

import jsonschema
import pytest
import xmlschema
import yaml
from rich.console import Console

from grader.core.config import PACKAGE_DIR
from grader.core.course import exercises
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
    assert text.count("\n| ❌ |") == 2 and "`transposed-weights`" in text and "Hint: Do not transpose W\\_hh." in text
    assert "would give \\| for h\\_prev" in text  # a | in a message does not split the table's cells
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
    assert rows == [{"id": "student-7", "total": "2", "max_score": "6", **dict.fromkeys(exercises(), ""),
                     "forward": "2", "status": "graded", "reason": ""}]
    assert list(rows[0]) == ["id", "total", "max_score", *exercises(), "status", "reason"]  # the course's order


# -- hostile text: each rendering escapes for its medium -----------------------------------------
# Learner text as it might reach a renderer: rich markup, HTML, a Markdown table row, a spreadsheet
# formula, a NUL and a terminal escape sequence (the report sanitises messages on the way in, but
# file names and reports read back from disk reach the renderers too).
HOSTILE = ('[bold red]x[/] <script>alert(1)</script> "><img src=x onerror=alert(2)> | a | b | '
           '=HYPERLINK("http://evil.example","y") `tick` ![i](http://evil.example/i.png) \x00\x1b[32mScore: 63 / 63')


@pytest.fixture
def hostile_report(sample_report):
    sample_report["tests"][1]["message"] = HOSTILE
    sample_report["tests"][1]["hint"] = HOSTILE
    sample_report["exercises"][0].update(file=f"/submissions/{HOSTILE}/forward.py", why_this_file=HOSTILE)
    return sample_report


def test_the_terminal_shows_hostile_text_as_it_is_without_markup_or_control_sequences(hostile_report):
    out = io.StringIO()
    report.render(hostile_report, Console(file=out, force_terminal=False, width=1000))
    shown = out.getvalue()
    assert "[bold red]x[/] <script>" in shown and "63 / 63" in shown
    assert "\x1b" not in shown and "\x00" not in shown


def test_markdown_cells_hold_hostile_text_as_text(hostile_report):
    from markdown_it import MarkdownIt

    page = MarkdownIt("commonmark").enable("table").render(markdown.render(hostile_report))
    assert "<script" not in page and "<img" not in page and "<strong" not in page
    fix = page.split("What to fix", 1)[1]
    rows = [row for row in fix.split("<tr>")[1:]]
    assert [row.count("<td>") + row.count("<th>") for row in rows] == [4, 4, 4]  # no cell added by a |
    assert "[bold red]x[/] &lt;script&gt;" in fix and "| a | b |" in fix and "`tick`" in fix
    assert "<code>transposed-weights</code>" in fix  # the id, still a code span


def test_the_html_page_holds_hostile_text_as_text(hostile_report):
    from html.parser import HTMLParser

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.seen = set()

        def handle_starttag(self, tag, attrs):
            self.seen.add(tag)
            self.seen.update(f"{tag}@{name}" for name, _ in attrs)

    tags = Tags()
    tags.feed(html.render(hostile_report))
    assert not {"script", "img", "img@onerror", "img@src"} & tags.seen
    assert tags.seen <= {"html", "head", "meta", "meta@charset", "title", "style", "body", "h1", "h2", "h2@style",
                         "html@lang", "table", "tr", "th", "td", "td@class", "span", "span@class", "div",
                         "div@class", "p", "p@class", "details", "summary", "code"}


def test_junit_xml_stays_well_formed_with_characters_xml_forbids(hostile_report):
    hostile_report["tests"][1]["message"] += "\ufffe\x08 \x85"
    xml = junit.render(hostile_report)
    xmlschema.XMLSchema(FORMATS / "junit.xsd").validate(xml)
    failure = ElementTree.fromstring(xml).find(".//failure")
    assert failure.get("message").startswith("[bold red]x[/] <script>") and "\x00" not in failure.get("message")
    assert failure.text.startswith("[bold red]x[/] <script>alert(1)</script>") and "63 / 63" in failure.text


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://evil.example","y")', "+cmd|' /C calc'!A0", "-2+3+cmd",
                                  "@SUM(A1:A9)", "\t=1+1"])
def test_a_gradebook_cell_that_a_spreadsheet_would_run_gets_a_leading_apostrophe(cell):
    text = gradebook.to_csv([gradebook.row(None, cell, "graded", cell)])
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["id"] == row["reason"] == "'" + cell


def test_a_cell_that_starts_with_a_carriage_return_is_inert_too():
    # Not through to_csv: Python's csv module writes a CR unquoted with our "\n" line ends, so no reader
    # gets the row back; report text never holds one (sanitise.clean drops it).
    assert gradebook.inert("\r=1+1") == "'\r=1+1"


def test_gradebook_scores_stay_numbers_negative_ones_included(sample_report):
    sample_report.update(score=-1.5, max_score=6)
    sample_report["exercises"][0]["score"] = -1.5
    row = next(csv.DictReader(io.StringIO(gradebook.to_csv([gradebook.row(sample_report, "-alice")]))))
    assert (row["id"], row["total"], row["forward"], row["max_score"]) == ("'-alice", "-1.5", "-1.5", "6")


def test_canvas_merge_matches_an_id_the_gradebook_made_inert(root):
    ours = gradebook.to_csv([{**gradebook.row(None, "-ada"), "total": "7"}])
    canvas = (root / "tests/fixtures/canvas_export.csv").read_text().replace(",ada,", ",-ada,")
    merged, unmatched = merge_canvas(ours, canvas, "RNN (202)")
    assert unmatched == [] and "-ada,Section A,9,7" in merged
