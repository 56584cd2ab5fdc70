"""What a class's results add up to: the gradebook and the summary (distribution, pass rates,
most frequent misconceptions), as files and as terminal tables."""

import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from grader.batch import class_page
from grader.core.sanitise import for_terminal
from grader.reports import strict_json
from grader.reports.formats import gradebook

BUCKETS = [(0, 10), (10, 20), (20, 30), (30, 40), (40, 50), (50, 60), (60, 70), (70, 80), (80, 90), (90, 101)]


def gradebook_csv(results: dict[str, dict[str, Any]]) -> str:
    """results: {id: result} -> the CSV gradebook, one row per submission, in id order."""
    return gradebook.to_csv([gradebook.row(r["report"], r["id"], r["status"], r["reason"])
                             for _, r in sorted(results.items())])


def summarize(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A JSON-ready summary of {id: result}."""
    graded = [r["report"] for r in results.values() if r["report"]]
    percents = [100 * rep["score"] / rep["max_score"] for rep in graded if rep["max_score"]]
    tests: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    misconceptions: Counter[str] = Counter()
    for rep in graded:
        for test in rep["tests"]:
            tests[test["name"]] += 1
            passed[test["name"]] += test["status"] == "passed"
        misconceptions.update({t["misconception"] for t in rep["tests"] if t["misconception"]})
    return {
        "submissions": len(results),
        "statuses": dict(Counter(r["status"] for r in results.values())),
        "mean_percent": round(statistics.fmean(percents), 2) if percents else None,
        "median_percent": round(statistics.median(percents), 2) if percents else None,
        "distribution": {f"{lo}-{min(hi, 100)}%": sum(lo <= p < hi for p in percents) for lo, hi in BUCKETS},
        "pass_rate": {name: round(passed[name] / count, 4) for name, count in sorted(tests.items())},
        "misconceptions": [{"id": key, "submissions": n} for key, n in misconceptions.most_common()],
    }


def write(results: dict[str, dict[str, Any]], out_dir: Path) -> dict[str, Any]:
    """Write gradebook.csv, summary.json and the class page (summary.html, and a feedback page per
    learner) into `out_dir`; return the summary."""
    summary = summarize(results)
    (out_dir / "gradebook.csv").write_text(gradebook_csv(results))
    (out_dir / "summary.json").write_text(strict_json.dumps(summary))
    class_page.write_pages(results, summary, out_dir)
    return summary


def render(summary: dict[str, Any], console: Console) -> None:
    console.print(f"[bold]{summary['submissions']} submissions[/bold]: "
                  + ", ".join(f"{n} {status}" for status, n in sorted(summary["statuses"].items()))
                  + (f"; mean {summary['mean_percent']:.1f} %, median {summary['median_percent']:.1f} %"
                     if summary["mean_percent"] is not None else ""))
    spread = Table(title="Score distribution", title_justify="left")
    spread.add_column("score")
    spread.add_column("submissions", justify="right")
    for bucket, n in summary["distribution"].items():
        spread.add_row(bucket, f"{n} " + "#" * n)
    console.print(spread)
    hardest = Table(title="Hardest checks (lowest pass rate)", title_justify="left")
    hardest.add_column("check")
    hardest.add_column("pass rate", justify="right")
    for name, rate in sorted(summary["pass_rate"].items(), key=lambda item: item[1])[:10]:
        hardest.add_row(for_terminal(name), f"{rate:.0%}")  # as it is: "[mixed]" is a parameter, not markup
    console.print(hardest)
    if summary["misconceptions"]:
        common = Table(title="Most frequent misconceptions", title_justify="left")
        common.add_column("misconception")
        common.add_column("submissions", justify="right")
        for item in summary["misconceptions"][:10]:
            common.add_row(for_terminal(item["id"]), str(item["submissions"]))
        console.print(common)
