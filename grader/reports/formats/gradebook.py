"""The CSV gradebook (one row per submission) and its merge into a Canvas gradebook export.

Canvas exports a CSV whose first columns are Student, ID, SIS User ID, SIS Login ID, Section, then
one column per assignment, and whose second row holds "Points Possible". `merge_canvas` fills (or
adds) one assignment column from our gradebook, matching students by an id column.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and some a tab or CR before one) as a
formula: such a cell is written with a leading apostrophe (OWASP's rule for CSV injection), unless it
is a number (a score, a negative one included), and read back without it.
"""

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from grader.core.course import exercises
from grader.core.status import RowStatus

POINTS_POSSIBLE = "Points Possible"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def row(report: dict[str, Any] | None, submission_id: str, status: str = RowStatus.GRADED,
        reason: str = "") -> dict[str, str]:
    """A gradebook row; `report` is None for a submission that could not be graded (blank scores)."""
    if report is None:
        return {"id": submission_id, "total": "", "max_score": "", **dict.fromkeys(exercises(), ""),
                "status": status, "reason": reason}
    scores = {e["name"]: f"{e['score']:g}" for e in report["exercises"]}
    return {"id": submission_id, "total": f"{report['score']:g}", "max_score": f"{report['max_score']:g}",
            **{e: scores.get(e, "") for e in exercises()}, "status": status, "reason": reason}


def columns() -> list[str]:
    """The gradebook's columns: one per exercise, in the course's order, between the totals and the status."""
    return ["id", "total", "max_score", *exercises(), "status", "reason"]


def to_csv(rows: Iterable[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns(), lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: inert(value) for key, value in r.items()} for r in rows)
    return out.getvalue()


def inert(cell: str) -> str:
    """`cell` as a spreadsheet shows it rather than runs it."""
    return f"'{cell}" if cell.startswith(FORMULA_START) and not NUMBER.fullmatch(cell) else cell


def as_written(cell: str) -> str:
    """A cell of our gradebook as it was before `inert`."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_START) else cell


def render(report: dict[str, Any]) -> str:
    """One gradebook row for this report, its id the submission's directory or file name."""
    name = report["submission"].rstrip("/").rsplit("/", 1)[-1]
    return to_csv([row(report, name)])


def merge_canvas(gradebook_text: str, canvas_text: str, assignment: str,
                 id_column: str = "SIS Login ID") -> tuple[str, list[str]]:
    """Return (merged Canvas CSV text, ids in our gradebook that matched no student)."""
    ours = {as_written(r["id"]): r for r in csv.DictReader(io.StringIO(gradebook_text))}
    table = list(csv.reader(io.StringIO(canvas_text)))
    if not table or id_column not in table[0]:
        raise ValueError(f"the Canvas export has no {id_column!r} column; pass --id-column with one of "
                         f"{', '.join(table[0]) if table else 'its columns'}")
    header = table[0]
    if assignment not in header:
        header.append(assignment)
        for line in table[1:]:
            line.append("")
    key, column = header.index(id_column), header.index(assignment)
    matched: set[str] = set()
    for line in table[1:]:
        line.extend([""] * (len(header) - len(line)))
        if line[0].strip() == POINTS_POSSIBLE:
            maxima = {float(r["max_score"]) for r in ours.values() if r.get("max_score")}
            line[column] = f"{maxima.pop():g}" if len(maxima) == 1 else line[column]
        elif line[key] in ours:
            line[column] = ours[line[key]]["total"]
            matched.add(line[key])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table)
    return out.getvalue(), sorted(set(ours) - matched)
