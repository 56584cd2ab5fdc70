"""The grading report: validated against `report.schema.json`, written as JSON, shown as rich tables."""

import json
from pathlib import Path
from typing import Any

import jsonschema
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.core.status import Status
from grader.reports.formats import write

SCHEMA = json.loads(Path(__file__).with_name("report.schema.json").read_text())
STATUS_STYLE = {Status.PASSED: "green", Status.FAILED: "red", Status.ERROR: "magenta", Status.SKIPPED: "yellow"}


def validate(report: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError if `report` does not follow the documented schema."""
    jsonschema.validate(report, SCHEMA)


def write_json(report: dict[str, Any], path: str | Path) -> None:
    write(json.dumps(report, indent=2) + "\n", path)


def render(report: dict[str, Any], console: Console | None = None) -> None:
    """Print the per-exercise and per-test tables, then the total."""
    console = console or Console()
    exercises = Table(title="Exercises", title_justify="left")
    for column in ("exercise", "points", "file graded", "why"):
        exercises.add_column(column)
    for ex in report["exercises"]:
        exercises.add_row(ex["name"], f"{ex['score']:g} / {ex['max_score']:g}", escape(ex["file"] or "-"),
                          escape(ex["why_this_file"]))
    console.print(exercises)

    tests = Table(title="Checks", title_justify="left", show_lines=False)
    for column in ("check", "points", "status", "what to fix"):
        tests.add_column(column, overflow="fold")
    for test in report["tests"]:
        style = STATUS_STYLE[test["status"]]
        advice = test["message"]
        if test["misconception"]:
            advice = f"[{test['misconception']}] {advice}"
            if test["hint"] and test["hint"] not in advice:
                advice += f"\nHint: {test['hint']}"
        advice = escape(advice)
        check = f"{test['exercise']}: {test['description']}" + (" (hidden)" if test["visibility"] == "hidden" else "")
        tests.add_row(escape(check), f"{test['score']:g} / {test['max_score']:g}",
                      f"[{style}]{test['status']}[/{style}]", advice)
    console.print(tests)
    scope = "" if report["hidden_suites"] else " (public checks only)"
    console.print(f"[bold]Score: {report['score']:g} / {report['max_score']:g}{scope}[/bold]"
                  f"  in {report['duration_s']:.1f} s, seed {report['seed']}")
    if report["environment"]["device_note"] and report["environment"]["devices"]:
        console.print(f"Devices: {report['environment']['device_note']}")
