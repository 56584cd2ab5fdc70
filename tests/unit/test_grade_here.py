"""grader/grading/notebook.py: the notebook's grade cell, its stale-file check and its failures (the kernel
route itself is tests/system/test_notebook_grade_cell.py)."""

import json
import subprocess

import nbformat
import pytest

from grader.authoring.build import build_notebook, grade_cells, split_cells
from grader.grading import notebook


def test_a_run_since_the_last_save_that_the_file_lacks_is_stale():
    saved = [(1, "import numpy as np"), (2, "def f():\n    return 1"), (None, "grade_here('f.ipynb')")]
    # Ran as saved (In [3] is this cell): nothing to say.
    assert notebook.unsaved_runs(["", "import numpy as np", "def f():\n    return 1  ", "grade"], saved) == []
    # Cell 2 changed and ran again (In [3]) after the save: stale.
    ran = ["", "import numpy as np", "def f():\n    return 1", "def f():\n    return 2", "grade"]
    assert notebook.unsaved_runs(ran, saved) == [3]
    # Saved after that run: the file holds In [3], so the older version (In [2]) is no reason to warn.
    assert notebook.unsaved_runs(ran, [(1, ran[1]), (3, ran[3])]) == []
    # An unchanged cell run again after the save is no reason either.
    assert notebook.unsaved_runs(["", *ran[1:4], ran[1], "grade"], [(1, ran[1]), (3, ran[3])]) == []
    # A file with no execution counts (never run, or saved elsewhere): every run must be one of its cells.
    assert notebook.unsaved_runs(["", "x = 1", "x = 2", "grade"], [(None, "x = 1")]) == [2]


def fake_grade(returncode, score=None, stdout="", stderr=""):
    """A stand-in for `subprocess.run` of `grade`: writes the report and page it is asked for."""
    calls = []

    def run(argv, **kwargs):
        calls.append(argv)
        if score is not None:
            with open(argv[argv.index("--json") + 1], "w") as report:
                json.dump({"score": score, "max_score": 25, "hidden_suites": False}, report)
            with open(argv[argv.index("--html") + 1], "w") as page:
                page.write("<html><body>feedback</body></html>")
        return subprocess.CompletedProcess(argv, returncode, stdout, stderr)

    run.calls = calls
    return run


@pytest.fixture
def saved_notebook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cells = split_cells("# %%\nx = 1\n") + grade_cells("forward")
    nbformat.write(build_notebook(cells, "forward"), tmp_path / "forward.ipynb")
    return tmp_path / "forward.ipynb"


def test_grade_here_grades_with_the_kernels_own_python_and_prints_the_score(saved_notebook, capsys):
    run = fake_grade(0, score=12.5, stdout="terminal report")
    notebook.grade_here("forward.ipynb", "--verbose", run=run)
    argv = run.calls[0]
    assert argv[:4] == [notebook.sys.executable, "-m", "grader.cli", "forward.ipynb"] and argv[-1] == "--verbose"
    out = capsys.readouterr().out
    assert "forward.ipynb: 12.5 / 25 points (public checks)" in out
    assert "terminal report" in out  # no IPython kernel here: the terminal report instead of the page


@pytest.mark.parametrize("returncode, score", [(2, None), (3, 10), (0, None)])
def test_a_failed_grading_fails_the_cell(saved_notebook, returncode, score):
    run = fake_grade(returncode, score, stderr="grade: forward.ipynb is the forward exercise, but --only asks for x")
    with pytest.raises(RuntimeError, match=f"grading forward.ipynb failed .*status {returncode}"):
        notebook.grade_here("forward.ipynb", run=run)


def test_a_missing_notebook_says_where_the_kernel_runs(saved_notebook):
    with pytest.raises(FileNotFoundError, match=r"nope.ipynb not found in .*exercises/nope.ipynb"):
        notebook.grade_here("nope.ipynb", run=fake_grade(0, 1))


def test_the_generated_grade_cell_calls_grade_here():
    assert grade_cells("encoding")[-1].source == (
        'from grader.grading.notebook import grade_here\n\ngrade_here("encoding.ipynb")')
