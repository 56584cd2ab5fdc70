"""A Markdown summary for `$GITHUB_STEP_SUMMARY` or a pull-request comment."""

from typing import Any

from grader.reports import wording

STATUS = {"passed": "✅", "failed": "❌", "error": "💥", "skipped": "⏭️"}


def cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


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
            why = (f"`{t['misconception']}` " if t["misconception"] else "") + t["message"]
            if t["hint"] and t["hint"] not in why:
                why += f" Hint: {t['hint']}"
            lines.append(f"| {STATUS[t['status']]} | {cell(wording.label(t))} | "
                         f"{t['score']:g} / {t['max_score']:g} | {cell(why)} |")
    else:
        lines += ["", "Every check passed."]
    lines += ["", f"<sub>seed {report['seed']}, isolation {report['environment']['isolation']}, "
              f"{report['duration_s']:.1f} s</sub>", ""]
    return "\n".join(lines)
