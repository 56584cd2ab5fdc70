"""A learner's inf and nan reach every JSON file the grader writes as null (strict JSON, which the schema
allows there), and the feedback page's loss curve has a gap there instead of breaking."""

import copy
import json
import math
import re

import jsonschema
import pytest

from grader.batch import class_report, runner
from grader.reports import report
from grader.reports.formats import gradescope, html

LOSSES = [2.0, math.inf, 1.0, math.nan, -math.inf, 0.5, 0.25]


def strict(text):
    """`text` parsed as JSON, refusing NaN, Infinity and -Infinity as every strict parser does."""

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def diverged(sample_report):
    """The sample report with inf and nan wherever a learner's number can be: the loss curve and every
    check's details (a diverged model's accuracy, its device difference); a limit given as inf."""
    data = copy.deepcopy(sample_report)
    data["model_feedback"] = {"word": "goodbye!", "accuracy": 0.5, "loss": list(LOSSES),
                              "prefixes": [{"prefix": "g", "predicted": "o", "expected": "o"}]}
    for test in data["tests"]:
        test["details"] = {"accuracy": math.nan, "max_abs_diff": math.inf, "min": -math.inf, "note": "x"}
    data["limits"]["train_s"] = math.inf
    return data


def test_the_report_is_strict_json_that_follows_the_schema(diverged, tmp_path):
    report.validate(diverged)
    report.write_json(diverged, tmp_path / "report.json")
    written = strict((tmp_path / "report.json").read_text())
    jsonschema.validate(written, report.SCHEMA)
    assert written["model_feedback"]["loss"] == [2.0, None, 1.0, None, None, 0.5, 0.25]
    assert written["tests"][0]["details"] == {"accuracy": None, "max_abs_diff": None, "min": None, "note": "x"}
    assert written["limits"]["train_s"] is None and written["score"] == diverged["score"]


def test_gradescope_results_are_strict_json(diverged):
    written = strict(gradescope.render(diverged))
    assert written["score"] == diverged["score"] and len(written["tests"]) == len(diverged["tests"])


def test_batch_results_and_the_class_summary_are_strict_json(diverged, tmp_path):
    row = {"id": "ann", "submission": "/class/ann", "status": "graded", "reason": "", "duration_s": 1.0,
           "report": diverged}
    runner.write_result(tmp_path, row)
    loaded = strict((tmp_path / "ann.json").read_text())
    assert loaded["report"]["model_feedback"]["loss"][1] is None
    class_report.write({"ann": loaded}, tmp_path)  # the class pages render the report as read back
    strict((tmp_path / "summary.json").read_text())
    assert "<polyline" in (tmp_path / "ann.html").read_text()


@pytest.mark.parametrize("route", ["as graded (inf, nan)", "read back from report.json (null)"])
def test_the_loss_curve_has_a_gap_where_a_loss_is_not_finite(diverged, route, tmp_path):
    if route.startswith("read back"):  # what the batch's class pages render
        report.write_json(diverged, tmp_path / "report.json")
        diverged = strict((tmp_path / "report.json").read_text())
    page = html.render(diverged)
    curve = page[page.index("<svg"):page.index("</svg>")]
    # Epochs 1 | 3 | 6-7 are finite: a dot, a dot, a line.
    assert re.findall(r'<circle cx="([^"]*)" cy="([^"]*)"', curve) == [("40.0", "40.0"), ("200.0", "110.0")]
    assert re.findall(r'<polyline points="([^"]*)"', curve) == ["440.0,145.0 520.0,162.5"]
    assert not re.search(r"(?i:\bnan\b|\binf)|None", curve)  # no number that is not one; fill="none" is fine
    assert "last 0.250" in curve and "epoch 2, 4, 5." in page


def test_a_curve_without_any_finite_loss_says_so():
    assert "none is a finite number" in html.loss_curve([math.nan, None, math.inf])
