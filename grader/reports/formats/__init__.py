"""Renderings of one grading report for other consumers, each `render(report) -> str`.

| flag | module | for |
| --- | --- | --- |
| `--gradescope FILE` | `gradescope.py` | Gradescope's autograder `results.json` |
| `--junit FILE` | `junit.py` | JUnit XML for CI annotators (file and line per check) |
| `--markdown FILE` | `markdown.py` | `$GITHUB_STEP_SUMMARY` and pull-request comments |
| `--html FILE` | `html.py` | a self-contained feedback page for the learner |
| `--csv FILE` | `gradebook.py` | one gradebook row, mergeable into a Canvas export |
"""

import os
from pathlib import Path

from grader.reports.formats import gradebook, gradescope, html, junit, markdown

RENDERERS = {
    "gradescope": gradescope.render,
    "junit": junit.render,
    "markdown": markdown.render,
    "html": html.render,
    "csv": gradebook.render,
}


def write(text: str, path: str | Path) -> None:
    """Write `text` to `path` atomically: a reader (or a crash, or kill -9) never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
