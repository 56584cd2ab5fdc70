"""The instructor's class page, `RESULTS/summary.html`: one self-contained page (no scripts, no
network) with the score distribution as a chart, the pass rate of every check, the most frequent
misconceptions and how many learners made each, and a row per learner linking to that learner's own
feedback page (`RESULTS/<id>.html`, the page `grade --html` writes)."""

from html import escape
from pathlib import Path
from typing import Any

from grader.core.status import RowStatus
from grader.grading import feedback
from grader.reports.formats import html, write


def distribution_chart(distribution: dict[str, int], width: int = 640, height: int = 240, pad: int = 36) -> str:
    """An SVG bar chart: submissions per score bucket."""
    top = max(distribution.values(), default=0) or 1
    slot = (width - 2 * pad) / max(len(distribution), 1)
    bars = []
    for i, (bucket, count) in enumerate(distribution.items()):
        bar = (height - 2 * pad) * count / top
        x, y = pad + i * slot, height - pad - bar
        bars.append(f'<rect x="{x + 4:.1f}" y="{y:.1f}" width="{slot - 8:.1f}" height="{bar:.1f}" fill="#2f6fde">'
                    f"<title>{escape(bucket)}: {count}</title></rect>"
                    f'<text x="{x + slot / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="12">{count}</text>'
                    f'<text x="{x + slot / 2:.1f}" y="{height - pad + 14}" text-anchor="middle" '
                    f'font-size="10">{escape(bucket)}</text>')
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            'aria-label="submissions per score bucket">'
            f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#889"/>'
            + "".join(bars) + "</svg>")


def pass_rates(summary: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{escape(name)}</td><td>{rate:.0%}</td>"
                   f'<td><svg width="200" height="10"><rect width="{200 * rate:.0f}" height="10" fill="#17803d"/>'
                   "</svg></td></tr>"
                   for name, rate in sorted(summary["pass_rate"].items(), key=lambda item: (item[1], item[0])))
    return f"<table><tr><th>check</th><th>pass rate</th><th></th></tr>{rows}</table>"


def misconceptions(summary: dict[str, Any]) -> str:
    if not summary["misconceptions"]:
        return "<p>No check recognised a known mistake.</p>"
    rows = "".join(f'<tr><td><span class="id">{escape(item["id"])}</span></td><td>{item["submissions"]}</td>'
                   f'<td class="hint">{escape(feedback.hint(item["id"]) or "")}</td></tr>'
                   for item in summary["misconceptions"])
    return f"<table><tr><th>misconception</th><th>learners</th><th>hint they were given</th></tr>{rows}</table>"


def learner_rows(results: dict[str, dict[str, Any]]) -> str:
    rows = []
    for key, result in sorted(results.items()):
        report = result["report"]
        name = escape(key)
        link = f'<a href="{escape(key)}.html">{name}</a>' if report else name
        score = f"{report['score']:g} / {report['max_score']:g}" if report else "–"
        css = "" if result["status"] == RowStatus.GRADED else "error"
        rows.append(f'<tr><td>{link}</td><td>{score}</td><td class="{css}">{escape(result["status"])}</td>'
                    f"<td>{escape(result['reason'])}</td></tr>")
    return ("<table><tr><th>learner</th><th>points</th><th>status</th><th>reason</th></tr>"
            + "".join(rows) + "</table>")


def render(results: dict[str, dict[str, Any]], summary: dict[str, Any]) -> str:
    statuses = ", ".join(f"{n} {escape(status)}" for status, n in sorted(summary["statuses"].items()))
    centre = ("" if summary["mean_percent"] is None else
              f"; mean {summary['mean_percent']:.1f} %, median {summary['median_percent']:.1f} %")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Class results: {summary['submissions']} submissions</title>
<style>{html.STYLE}</style></head><body>
<h1>Class results</h1>
<p>{summary['submissions']} submissions: {statuses}{centre}</p>
<h2>Score distribution</h2>
{distribution_chart(summary['distribution'])}
<h2>Most frequent misconceptions</h2>
{misconceptions(summary)}
<h2>Pass rate of every check (hardest first)</h2>
{pass_rates(summary)}
<h2>Learners</h2>
{learner_rows(results)}
</body></html>
"""


def write_pages(results: dict[str, dict[str, Any]], summary: dict[str, Any], out_dir: Path) -> None:
    """`out_dir/summary.html`, and each graded learner's feedback page `out_dir/<id>.html`."""
    for key, result in results.items():
        if result["report"]:
            write(html.render(result["report"]), out_dir / f"{key}.html")
    write(render(results, summary), out_dir / "summary.html")
