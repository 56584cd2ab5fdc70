"""The grading report: validated against `report.schema.json`, written as JSON, shown as rich tables."""

import json
from pathlib import Path
from typing import Any

import jsonschema
from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.core.sanitise import for_terminal
from grader.core.status import Status
from grader.reports import strict_json, wording
from grader.reports.formats import write

SCHEMA = json.loads(Path(__file__).with_name("report.schema.json").read_text())
STATUS_STYLE = {Status.PASSED: "green", Status.FAILED: "red", Status.ERROR: "magenta", Status.SKIPPED: "yellow"}


def validate(report: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError if `report` does not follow the documented schema."""
    jsonschema.validate(report, SCHEMA)


def write_json(report: dict[str, Any], path: str | Path) -> None:
    """Write `report` to `path` as strict JSON: a non-finite loss or detail becomes null."""
    write(strict_json.dumps(report), path)


def render(report: dict[str, Any], console: Console | None = None, verbose: bool = False) -> None:
    """Print what was graded, what to fix and the total.

    The first screen stays short: the functions not written yet are listed once each, the other
    checks that did not pass get a row with what to fix, passing checks are counted; `verbose`
    gives every check a row. Text from the report (learner text, file names) is printed as it is
    (`for_terminal`): never parsed as markup, no control character left.
    """
    console = console or Console()
    exercises = Table(title="Exercises", title_justify="left")
    for column in ("exercise", "points", "file graded", "why"):
        exercises.add_column(column)
    for ex in report["exercises"]:
        exercises.add_row(ex["name"], f"{ex['score']:g} / {ex['max_score']:g}", for_terminal(ex["file"] or "-"),
                          for_terminal(ex["why_this_file"]))
    console.print(exercises)

    stubs = wording.stub_functions(report["tests"])
    shown = [t for t in report["tests"] if verbose or (t["status"] != Status.PASSED and not wording.not_written(t))]
    if stubs and not verbose:
        waiting = sum(1 for t in report["tests"] if wording.not_written(t))
        console.print(f"[magenta]Not written yet[/magenta] ({waiting} checks wait on these; each still raises "
                      "NotImplementedError, and its docstring says what it takes and returns):")
        for file, functions in stubs.items():
            console.print(for_terminal(f"  {file}: {', '.join(functions)}"))
    if shown:
        console.print(checks_table(shown if verbose else wording.merge_same_errors(shown)))
    passed = sum(t["status"] == Status.PASSED for t in report["tests"])
    scope = "" if report["hidden_suites"] else " (public checks only)"
    console.print(f"[bold]Score: {report['score']:g} / {report['max_score']:g}{scope}[/bold]"
                  f"  {passed} of {len(report['tests'])} checks passed, in {report['duration_s']:.1f} s, "
                  f"seed {report['seed']}")
    if report["environment"]["device_note"] and report["environment"]["devices"]:
        console.print(f"Devices: {report['environment']['device_note']}")
    console.print(for_terminal(next_step(report, stubs, verbose)))


def checks_table(tests: list[dict[str, Any]]) -> Table:
    table = Table(title="Checks", title_justify="left", show_lines=False)
    for column in ("check", "points", "status", "what to fix"):
        table.add_column(column, overflow="fold")
    for test in tests:
        style = STATUS_STYLE[test["status"]]
        advice = test["message"]
        if test["misconception"]:
            advice = f"[{test['misconception']}] {advice}"
        if test["hint"] and test["hint"] not in advice:
            advice += f"\nHint: {test['hint']}"
        check = wording.label(test) + (" (hidden)" if test["visibility"] == "hidden" else "")
        table.add_row(for_terminal(check), f"{test['score']:g} / {test['max_score']:g}",
                      Text(test["status"], style=style), for_terminal(advice))
    return table


def next_step(report: dict[str, Any], stubs: dict[str, list[str]], verbose: bool) -> str:
    """One line: what to do next, and how to see more."""
    more = "" if verbose else " `grade --verbose` lists every check."
    if stubs:
        file, functions = next(iter(stubs.items()))
        exercise = file.rsplit(".", 1)[0]
        return f"Next: write {functions[0]}() in {file}, then run `grade --only {exercise}`.{more}"
    failing = [t for t in report["tests"] if t["status"] != Status.PASSED]
    if failing:
        return f"Next: fix the first check above, then run `grade --only {failing[0]['exercise']}`.{more}"
    return "Every check passed." + more
