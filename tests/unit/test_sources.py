"""grader/grading/sources.py: which file is graded for each exercise; notebooks as plain Python."""

import os

import nbformat
import pytest

from grader.authoring.build import build_notebook, split_cells
from grader.grading import sources


def test_notebook_magics_and_shell_lines_are_stripped(tmp_path):
    cells = split_cells("# %%\n%matplotlib inline\n!pip install numpy\nx = 1\n")
    nbformat.write(build_notebook(cells, "forward"), tmp_path / "forward.ipynb")
    source = sources.notebook_to_python(tmp_path / "forward.ipynb")
    compile(source, "forward.py", "exec")
    assert "removed by grade" in source and "x = 1" in source and "get_ipython" not in source.replace(
        "removed by grade (IPython only): get_ipython", "")


def test_a_malformed_notebook_names_the_file_and_the_fix(tmp_path):
    (tmp_path / "forward.ipynb").write_text("{ not json")
    with pytest.raises(ValueError, match="forward.ipynb is not a valid notebook.*submit forward.py"):
        sources.notebook_to_python(tmp_path / "forward.ipynb")


def test_the_newer_notebook_is_chosen_and_the_reason_given(tmp_path):
    (tmp_path / "forward.py").write_text("")
    (tmp_path / "forward.ipynb").write_text("")
    os.utime(tmp_path / "forward.py", (1_000_000, 1_000_000))
    chosen = sources.choose(tmp_path, "forward")
    assert chosen.path.name == "forward.ipynb" and "newer" in chosen.reason
    missing = sources.choose(tmp_path, "encoding")
    assert missing.path is None and "no encoding.py or encoding.ipynb" in missing.problem
