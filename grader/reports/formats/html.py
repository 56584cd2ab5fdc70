"""A self-contained feedback page for the learner: no scripts, no network, opens from disk.

Per-exercise scores, every check with what to fix, the loss curve of the model trained by the
public check (inline SVG) and its predictions on the prefixes of the public word. Hidden checks show
only their generic message (the report never holds more).
"""

import math
from collections.abc import Callable
from html import escape
from typing import Any, TypeGuard

from grader.reports import wording

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1d2330; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
td, th { padding: .3rem .6rem; border-bottom: 1px solid #dde; text-align: left; vertical-align: top; }
.passed { color: #17803d; } .failed { color: #c0262d; } .error { color: #8a2be2; } .skipped { color: #a06b00; }
.id { font-family: ui-monospace, monospace; background: #f1f2f7; padding: 0 .3rem; border-radius: 3px; }
.hint { color: #555; } .meta { color: #666; font-size: .85rem; } svg { background: #fafbff; border: 1px solid #dde; }
"""


def is_finite(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(value)


def loss_lines(losses: list[float | None], x: Callable[[int], float], y: Callable[[float], float]) -> str:
    """One SVG polyline per run of finite losses, a dot for a lone one: a value that is not finite ends
    the line, so the curve has a gap there."""
    runs: list[list[tuple[float, float]]] = [[]]
    for epoch, value in enumerate(losses):
        if is_finite(value):
            runs[-1].append((x(epoch), y(value)))
        elif runs[-1]:
            runs.append([])
    return "".join(f'<circle cx="{run[0][0]:.1f}" cy="{run[0][1]:.1f}" r="3.5" fill="#2f6fde"/>' if len(run) == 1 else
                   '<polyline points="' + " ".join(f"{px:.1f},{py:.1f}" for px, py in run) + '" fill="none" '
                   'stroke="#2f6fde" stroke-width="2.5"/>' for run in runs if run)


def loss_curve(losses: list[float | None], width: int = 560, height: int = 220, pad: int = 40) -> str:
    """An SVG line plot of the loss per epoch, with a gap at each epoch whose loss is not a finite number
    (inf or nan from a diverging train(), null once the report went through JSON)."""
    if not losses:
        return "<p>No loss history was returned by train().</p>"
    finite = [v for v in losses if is_finite(v)]
    if not finite:
        return (f"<p>train() returned {len(losses)} losses and none is a finite number (inf or nan): the training "
                "diverged.</p>")
    missing = [str(epoch) for epoch, v in enumerate(losses, start=1) if not is_finite(v)]
    listed = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
    top = max(finite) or 1.0
    step = (width - 2 * pad) / max(len(losses) - 1, 1)
    lines = loss_lines(losses, lambda epoch: pad + epoch * step,
                       lambda v: height - pad - (v / top) * (height - 2 * pad))
    last = f"{losses[-1]:.3f}" if is_finite(losses[-1]) else "not finite"
    gaps = (f"<p>The curve has a gap at each epoch whose loss is not a finite number (inf or nan), where the "
            f"training diverged: epoch {listed}.</p>" if missing else "")
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="training loss per epoch">'
            f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#889"/>'
            f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#889"/>'
            f"{lines}"
            f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle" font-size="12">epoch (1 to {len(losses)})'
            f'</text><text x="8" y="{pad - 10}" font-size="12">loss (max {top:.3f}, last {last})</text>'
            f"</svg>{gaps}")


def prefix_table(rows: list[dict[str, Any]]) -> str:
    body: list[str] = []
    for r in rows:
        verdict = "–" if r["expected"] is None else ("✓" if r["predicted"] == r["expected"] else "✗")
        css = "" if r["expected"] is None else ("passed" if verdict == "✓" else "failed")
        body.append(f"<tr><td><code>{escape(r['prefix'])}</code></td><td><code>{escape(r['predicted'])}</code>"
                    f"</td><td><code>{escape(r['expected'] or 'not determined')}</code></td>"
                    f'<td class="{css}">{verdict}</td></tr>')
    return ("<table><tr><th>prefix</th><th>predicted next letter</th><th>true next letter</th><th></th></tr>"
            + "".join(body) + "</table>")


def check_rows(tests: list[dict[str, Any]]) -> str:
    rows: list[str] = []
    for t in tests:
        advice = escape(t["message"])
        if t["misconception"]:
            advice = f'<span class="id">{escape(t["misconception"])}</span> {advice}'
        if t["hint"] and t["hint"] not in t["message"]:
            advice += f'<div class="hint">Hint: {escape(t["hint"])}</div>'
        hidden = " (hidden)" if t["visibility"] == "hidden" else ""
        rows.append(f"<tr><td>{escape(wording.label(t))}{hidden}</td>"
                    f"<td>{t['score']:g} / {t['max_score']:g}</td><td class=\"{t['status']}\">{t['status']}</td>"
                    f"<td>{advice}</td></tr>")
    return "".join(rows)


def render(report: dict[str, Any]) -> str:
    exercises = "".join(f"<tr><td>{escape(e['name'])}</td><td>{e['score']:g} / {e['max_score']:g}</td>"
                        f"<td>{escape(e['file'] or 'missing')}</td><td>{escape(e['why_this_file'])}</td></tr>"
                        for e in report["exercises"])
    model = report.get("model_feedback")
    model_html = ("<p>The public next-letter check did not run.</p>" if not model else
                  f"<h2>Your model on <code>{escape(model['word'])}</code>: {model['accuracy']:.0%} of the "
                  f"predictable letters</h2>{loss_curve(model['loss'])}<h2>Predictions on every prefix</h2>"
                  f"{prefix_table(model['prefixes'])}")
    scope = "" if report["hidden_suites"] else " (public checks only)"
    problems = [t for t in report["tests"] if t["status"] != "passed"]
    fix_html = ("<p>Nothing: every check passed.</p>" if not problems else
                "<table><tr><th>check</th><th>points</th><th>status</th><th>what to fix</th></tr>"
                f"{check_rows(problems)}</table>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Feedback: {report['score']:g} / {report['max_score']:g}</title>
<style>{STYLE}</style></head><body>
<h1>RNN exercises: {report['score']:g} / {report['max_score']:g}{scope}</h1>
<table><tr><th>exercise</th><th>points</th><th>file graded</th><th>why this file</th></tr>{exercises}</table>
<h2>What to fix</h2>
{fix_html}
{model_html}
<details><summary><h2 style="display:inline">All {len(report['tests'])} checks</h2></summary>
<table><tr><th>check</th><th>points</th><th>status</th><th>what to fix</th></tr>{check_rows(report['tests'])}</table>
</details>
<p class="meta">seed {report['seed']} · isolation {escape(report['environment']['isolation'])} ·
graded in {report['duration_s']:.1f} s</p>
</body></html>
"""
