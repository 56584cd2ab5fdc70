"""grader/batch/class_report.py: what a class's results add up to, the gradebook and the summary."""

import copy
import csv
import io

from rich.console import Console

from grader.batch import class_report


def result(report, submission_id, status="graded", reason=""):
    return {"id": submission_id, "status": status, "reason": reason, "report": report}


def test_gradebook_and_summary_of_a_class(sample_report, tmp_path):
    full = copy.deepcopy(sample_report)
    full["score"] = full["exercises"][0]["score"] = 6
    for test in full["tests"]:
        test.update(status="passed", score=2, misconception=None, hint=None)
    results = {"zed": result(sample_report, "zed"), "amy": result(full, "amy"),
               "kit": result(None, "kit", "not a submission", "kit.txt is neither a directory, a .zip nor an .ipynb")}

    summary = class_report.write(results, tmp_path)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "gradebook.csv").read_text())))
    assert [(r["id"], r["total"], r["status"]) for r in rows] == [
        ("amy", "6", "graded"), ("kit", "", "not a submission"), ("zed", "2", "graded")]
    assert rows[1]["reason"].startswith("kit.txt is neither")
    assert summary["submissions"] == 3 and summary["statuses"] == {"graded": 2, "not a submission": 1}
    assert summary["mean_percent"] == round((100 + 100 * 2 / 6) / 2, 2) and summary["median_percent"] is not None
    assert summary["distribution"]["90-100%"] == 1 and summary["distribution"]["30-40%"] == 1
    assert sum(summary["distribution"].values()) == 2
    assert summary["pass_rate"] == {"hidden/forward/test_hidden_step": 0.5, "public/forward/test_rnn_step": 0.5,
                                    "public/forward/test_softmax": 1.0}
    assert summary["misconceptions"] == [{"id": "transposed-weights", "submissions": 1}]

    console = Console(record=True, width=120)
    class_report.render(summary, console)
    shown = console.export_text()
    assert "3 submissions" in shown and "Score distribution" in shown and "transposed-weights" in shown


def test_a_class_with_nothing_graded_has_no_mean():
    summary = class_report.summarize({"kit": result(None, "kit", "crash", "grader error")})
    assert summary["mean_percent"] is None and summary["median_percent"] is None
    assert summary["misconceptions"] == [] and summary["pass_rate"] == {}


def test_parametrized_checks_keep_their_parameters_in_the_terminal_table():
    """A check's parameters are part of its unique name: `[mixed]` is shown, not taken for rich markup."""
    summary = class_report.summarize({"amy": result(None, "amy", "crash", "grader error")})
    summary["pass_rate"] = {"hidden/encoding/test_rejects[mixed]": 0.5, "hidden/encoding/test_rejects[unknown]": 0.5}
    console = Console(record=True, width=120)
    class_report.render(summary, console)
    shown = console.export_text()
    assert "test_rejects[mixed]" in shown and "test_rejects[unknown]" in shown, shown
