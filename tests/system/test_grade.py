"""`grade` on whole submissions: exit statuses, what it imports, notebook submissions."""

import json
import subprocess
import sys

import nbformat

from grader.authoring.build import build_notebook, split_cells


def test_fail_under_exits_1_and_only_forward_needs_no_tensorflow(root, tmp_path):
    code = ("import sys; from grader.cli import main; rc = main(sys.argv[1:]); "
            "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code, "exercises", "--only", "forward", "--fail-under", "50",
                           "--json", str(tmp_path / "r.json")], capture_output=True, text=True, cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["score"] == 0 and {e["name"] for e in data["exercises"]} == {"forward"}


def test_a_notebook_submission_is_graded_like_a_module(root, tmp_path, grade_cli):
    cells = split_cells((root / "solutions" / "forward.py").read_text())
    cells += split_cells("# %%\n%timeit softmax(np.zeros(3))\n!ls\n")
    nbformat.write(build_notebook(cells, "forward"), tmp_path / "forward.ipynb")
    done = grade_cli(tmp_path, "--only", "forward", "--json", tmp_path / "r.json")
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["exercises"][0]["file"].endswith("forward.ipynb")
    assert data["score"] == data["max_score"] > 0


def test_a_malformed_notebook_is_graded_zero_with_a_precise_message(tmp_path, grade_cli):
    (tmp_path / "forward.ipynb").write_text('{"cells": 3}')
    done = grade_cli(tmp_path, "--only", "forward", "--json", tmp_path / "r.json")
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["score"] == 0
    assert all("forward.ipynb is not a valid notebook" in t["message"] for t in data["tests"])
