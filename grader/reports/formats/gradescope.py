"""Gradescope's autograder `results.json` (its specification's fields only; see gradescope.schema.json).

Hidden checks are shown after the due date, public ones at once; "error" and "skipped" become
"failed", the only other status Gradescope knows. `failure(message)` is the file written when
grading itself fails, so Gradescope always gets a results.json.
"""

from typing import Any

from grader.reports import strict_json, wording

VISIBILITY = {"public": "visible", "hidden": "after_due_date"}


def test_entry(number: int, test: dict[str, Any]) -> dict[str, Any]:
    output = test["message"]
    if test["misconception"]:
        output = f"[{test['misconception']}] {output}"
    if test["hint"]:
        output += f"\nHint: {test['hint']}"
    return {
        "name": wording.label(test),
        "number": str(number),
        "score": test["score"],
        "max_score": test["max_score"],
        "status": "passed" if test["status"] == "passed" else "failed",
        "output": output,
        "visibility": VISIBILITY[test["visibility"]],
        "tags": [test["exercise"], test["visibility"]] + ([test["misconception"]] if test["misconception"] else []),
    }


def results(report: dict[str, Any]) -> dict[str, Any]:
    files = "; ".join(f"{e['name']}: {e['file'] or 'missing'} ({e['why_this_file']})" for e in report["exercises"])
    return {
        "score": report["score"],
        "execution_time": max(1, round(report["duration_s"])),
        "output": f"Graded {files}. Isolation: {report['environment']['isolation']}.",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [test_entry(i, t) for i, t in enumerate(report["tests"], start=1)],
    }


def failure(message: str) -> dict[str, Any]:
    """The results.json for a run that could not grade: zero, with the reason, and a tests array."""
    return {
        "score": 0,
        "output": f"The autograder could not grade this submission: {message}",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [{"name": "grading", "score": 0, "max_score": 0, "status": "failed", "output": message,
                   "visibility": "visible"}],
    }


def render(report: dict[str, Any]) -> str:
    return strict_json.dumps(results(report))
