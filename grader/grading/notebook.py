"""Grade a notebook from its own kernel: the last cell of every generated notebook calls `grade_here`.

    from grader.grading.notebook import grade_here
    grade_here("encoding.ipynb")

It runs in the learner's Jupyter kernel and imports none of the learner's code. It grades the notebook
*as saved* with the kernel's own Python (`sys.executable -m grader.cli`: no `grade` on PATH needed),
shows the HTML feedback page in the notebook (the terminal report where there is no IPython), says
when the kernel ran cells that the saved file does not hold ("save the notebook, then run this cell
again"), and raises when grading fails, so the cell fails visibly instead of passing quietly.

How a stale file is told: IPython numbers every run (`In [n]`) and Jupyter saves each cell with the
number of its last run. The latest run the file holds with its number and its source marks the last
save; a run after it whose source is no cell of the file was of a cell changed since (a cell run
again unchanged is no reason to warn).
"""

import html
import importlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from grader.core.exits import EXIT_BELOW, EXIT_OK
from grader.grading.sources import peek_code_cells

Runner = Callable[..., "subprocess.CompletedProcess[str]"]
STALE = ("{name} on disk is older than what this kernel ran (In [{runs}] changed since the notebook was last "
         "saved), so it is not what you see: save the notebook, then run this cell again.")


def saved_cells(path: Path) -> list[tuple[int | None, str]]:
    """(execution count, source) of each code cell of the notebook as saved; none where it cannot be
    read as one (grading it then says why)."""
    try:
        return [(count, source) for source, count in peek_code_cells(path)]
    except (ValueError, OSError):
        return []


def normal(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def unsaved_runs(ran: Sequence[str], saved: Sequence[tuple[int | None, str]]) -> list[int]:
    """The numbers of the runs since the last save whose source the saved notebook does not hold.

    ran: the kernel's inputs by execution count, as IPython's `In` (ran[0] is empty, ran[-1] is the
    cell running now); saved: (execution count, source) of each code cell of the file.
    """
    now = len(ran) - 1
    sources = {normal(source) for _, source in saved}
    recorded = [count for count, source in saved
                if count is not None and 0 < count < now and normal(ran[count]) == normal(source)]
    since = max(recorded, default=0)
    return [n for n in range(since + 1, now)
            if normal(ran[n]) and normal(ran[n]) not in sources and "grade_here(" not in ran[n]]


def kernel_inputs() -> list[str] | None:
    """The inputs of the IPython kernel this runs in, by execution count; None outside IPython."""
    try:
        ipython: Any = importlib.import_module("IPython")
    except ImportError:
        return None
    shell = ipython.get_ipython()
    if shell is None:
        return None
    return [str(source) for source in shell.history_manager.input_hist_raw]


def show_page(page: str) -> bool:
    """Show the feedback page in the notebook's output; False where there is no IPython to show it."""
    try:
        ipython: Any = importlib.import_module("IPython")
        display: Any = importlib.import_module("IPython.display")
    except ImportError:
        return False
    if ipython.get_ipython() is None:
        return False
    # In a frame of its own, so the page's styles stay off the notebook's.
    display.display(display.HTML(f'<iframe srcdoc="{html.escape(page, quote=True)}" title="grade feedback" '
                                 'style="width: 100%; height: 40em; border: 1px solid #ccc"></iframe>'))
    return True


def grade_here(notebook: str | Path, *options: str, run: Runner = subprocess.run) -> None:
    """Grade the saved `notebook` (its path from the kernel's working directory, the notebook's own
    folder in Jupyter) and show the result here; raise RuntimeError when grading fails.

    options: more `grade` options, e.g. "--verbose".
    """
    path = Path(notebook)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found in {Path.cwd()} (where this kernel runs): give the "
                                f'notebook\'s path, e.g. grade_here("exercises/{path.name}")')
    ran = kernel_inputs()
    stale = unsaved_runs(ran, saved_cells(path)) if ran else []
    if stale:
        print(STALE.format(name=path.name, runs="], In [".join(map(str, stale))), file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="grade-here-") as tmp:
        page, report = Path(tmp) / "feedback.html", Path(tmp) / "report.json"
        done = run([sys.executable, "-m", "grader.cli", str(path), "--html", str(page), "--json", str(report),
                    *options], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        graded = json.loads(report.read_text()) if report.is_file() else None
        shown = show_page(page.read_text()) if graded and page.is_file() else False
    if graded is None or done.returncode not in (EXIT_OK, EXIT_BELOW):
        said = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise RuntimeError(f"grading {path.name} failed (grade exited with status {done.returncode}):\n{said}")
    scope = "" if graded.get("hidden_suites") else " (public checks)"
    print(f"{path.name}: {graded['score']:g} / {graded['max_score']:g} points{scope}")
    if not shown:
        print(done.stdout)
