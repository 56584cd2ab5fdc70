"""A Markdown summary for `$GITHUB_STEP_SUMMARY` or a pull-request comment.

Every text from the report is a table cell made inert (`cell`): GitHub renders raw HTML and Markdown
in them, so learner text could otherwise add tags, images, links or cells.
"""

import re
from html import escape
from typing import Any

from grader.reports import wording

STATUS = {"passed": "✅", "failed": "❌", "error": "💥", "skipped": "⏭️"}
# What Markdown (GitHub's, with its tables, strikethrough and math) reads inside a line: emphasis, code,
# links and images, cell boundaries; `<`, `>` and `&` are HTML's, written as entities first.
MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]|~$])")


def cell(text: object) -> str:
    """`text` as the literal content of one table cell: no HTML, no Markdown, no cell boundary, one line."""
    literal = MARKDOWN_SPECIALS.sub(r"\\\1", escape(str(text), quote=False))
    return " ".join(literal.splitlines())


def render(report: dict[str, Any]) -> str:
    lines = [f"## RNN exercises: {report['score']:g} / {report['max_score']:g}", ""]
    if not report["hidden_suites"]:
        lines += ["_Public checks only._", ""]
    lines += ["| exercise | points | file graded |", "| --- | --- | --- |"]
    lines += [f"| {e['name']} | {e['score']:g} / {e['max_score']:g} | {cell(e['file'] or 'missing')} |"
              for e in report["exercises"]]
    problems = [t for t in report["tests"] if t["status"] != "passed"]
    if problems:
        lines += ["", "### What to fix", "", "| | check | points | why |", "| --- | --- | --- | --- |"]
        for t in problems:
            why = t["message"] + (f" Hint: {t['hint']}" if t["hint"] and t["hint"] not in t["message"] else "")
            misconception = f"`{t['misconception']}` " if t["misconception"] else ""  # an id: [a-z0-9-]+
            lines.append(f"| {STATUS[t['status']]} | {cell(wording.label(t))} | "
                         f"{t['score']:g} / {t['max_score']:g} | {misconception}{cell(why)} |")
    else:
        lines += ["", "Every check passed."]
    lines += ["", f"<sub>seed {report['seed']}, isolation {report['environment']['isolation']}, "
              f"{report['duration_s']:.1f} s</sub>", ""]
    return "\n".join(lines)
