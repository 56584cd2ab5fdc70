"""The notebook's own grade cell, run as a learner runs it: in a Jupyter kernel of the grader's venv
(nbclient, ipykernel), with a PATH that does not hold the venv, so no `grade` command is found."""

import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from grader.authoring.build import build_notebook, grade_cells, split_cells

STALE = "save the notebook, then run this cell again"


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory):
    """A kernelspec `grader-test` for this Python (the venv's), in a directory of its own."""
    prefix = tmp_path_factory.mktemp("kernel")
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", "grader-test"],
                   check=True, capture_output=True)
    return prefix / "share" / "jupyter"


@pytest.fixture
def learner_kernel(kernel_dir, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    monkeypatch.setenv("PATH", "/usr/local/bin:/usr/bin:/bin")
    assert shutil.which("grade") is None or not shutil.which("grade").startswith(sys.prefix)

    def execute(notebook, directory):
        """Run every cell of `notebook` (the one in memory, as the kernel sees it) from `directory`."""
        NotebookClient(notebook, kernel_name="grader-test", timeout=300,
                       resources={"metadata": {"path": str(directory)}}).execute()
        return notebook

    return execute


def solved(root):
    """The forward exercise solved, as the generated notebook holds it: narrative, code, the grade cell."""
    return build_notebook(split_cells((root / "solutions" / "forward.py").read_text()) + grade_cells("forward"),
                          "forward")


def output_text(cell):
    """What a cell showed: its printed text (stdout and stderr) and the HTML it displayed."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/html", ""))
    return "\n".join(parts)


def test_the_grade_cell_grades_the_saved_notebook_and_warns_when_the_kernel_ran_newer_cells(root, tmp_path,
                                                                                           learner_kernel):
    nbformat.write(solved(root), tmp_path / "forward.ipynb")
    shown = output_text(learner_kernel(solved(root), tmp_path).cells[-1])
    score = re.search(r"forward\.ipynb: (\d+) / (\d+) points", shown)
    assert score and score[1] == score[2] != "0", shown
    assert "<iframe" in shown and "feedback" in shown  # the HTML feedback page, in the notebook
    assert STALE not in shown

    # The learner changes a cell and runs it, but does not save: the file on disk is older.
    edited = solved(root)
    cell = next(c for c in edited.cells if c.cell_type == "code" and "def softmax" in c.source)
    cell.source += "\n\n# tried something"
    shown = output_text(learner_kernel(edited, tmp_path).cells[-1])
    assert STALE in shown and "forward.ipynb on disk is older than what this kernel ran" in shown
    assert re.search(r"forward\.ipynb: (\d+) / \1 points", shown), shown


def test_a_grading_that_fails_fails_the_cell(root, tmp_path, learner_kernel):
    notebook = solved(root)
    notebook.cells[-1].source = ('from grader.grading.notebook import grade_here\n'
                                 'grade_here("forward.ipynb", "--only", "encoding")')  # grade exits 2
    nbformat.write(notebook, tmp_path / "forward.ipynb")
    with pytest.raises(CellExecutionError, match="grading forward.ipynb failed"):
        learner_kernel(notebook, tmp_path)
