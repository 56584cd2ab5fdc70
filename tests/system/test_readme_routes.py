"""The READMEs' commands, run exactly as written (tests/routes.py: every ```sh block, in order).

- README.md, the instructor's: on a fresh copy of this checkout (what a `git clone` of it holds), from
  `python3 -m venv .venv` on: the stubs graded, `grade build`, `grade release`, a class of two graded with
  `grade batch`, and CI's `grade ... --fail-under`.
- The learners' release README: install (a kernel for Jupyter included), a notebook solved and checked
  with its own last cell in that kernel (nbclient, a PATH without the virtual environment), the terminal
  checks, `grade submit`.

`python3 -m venv DIR` is the one stand-in: it makes DIR offline from this environment's packages
(tests/make_venv.py), so pip installs without a network; every other command is the README's own.
"""

import csv
import json
import re
import zipfile

import nbformat
from nbclient import NotebookClient

from grader.authoring.build import build_notebook, grade_cells, split_cells
from grader.core.course import exercises
from tests.routes import fresh_copy, run_blocks, sh_blocks, user


def test_the_instructors_readme_works_as_written(root, tmp_path):
    checkout = fresh_copy(root, tmp_path / "rnn-exercises")
    _, env = user(tmp_path)
    blocks = sh_blocks((checkout / "README.md").read_text())
    assert len(blocks) >= 3 and "pip install -e ." in blocks[0], blocks
    ran = run_blocks(blocks, checkout, env)

    said = " ".join("\n".join(done.stdout for _, done in ran).split())  # rich wraps at 80 columns
    assert re.search(r"Score: 0 / [1-9]\d*", ran[0][1].stdout), ran[0][1].stdout  # the stubs
    assert "no solution line or hidden test among them" in said, said
    release = tmp_path / "rnn-exercises-release"
    assert (release / "README.md").is_file() and not (release / "grader" / "suites" / "hidden").exists()
    with open(checkout / "results" / "gradebook.csv", newline="") as gradebook:
        rows = {row["id"]: row for row in csv.DictReader(gradebook)}
    assert {name: row["status"] for name, row in rows.items()} == {"reference": "graded", "stubs": "graded"}, rows
    assert rows["stubs"]["total"] == "0" != rows["reference"]["total"], rows
    assert (checkout / "results" / "summary.html").is_file()
    report = json.loads((checkout / "report.json").read_text())
    assert report["score"] == report["max_score"] > 0 and report["environment"]["isolation"] == "bubblewrap"


def solved_notebook(root, module):
    """`module`'s notebook as a learner who solved it saves it: the reference's cells, then the grade cell."""
    return build_notebook(split_cells((root / "solutions" / f"{module}.py").read_text()) + grade_cells(module), module)


def test_the_learners_readme_works_as_written(grade_cli, root, tmp_path, monkeypatch):
    release = tmp_path / "rnn-exercises"
    done = grade_cli("release", release, "--no-validate")
    assert done.returncode == 0, done.stdout + done.stderr
    home, env = user(tmp_path)
    install, *checks = sh_blocks((release / "README.md").read_text())
    run_blocks([install], release, env)
    kernels = home / ".local" / "share" / "jupyter"
    spec = json.loads((kernels / "kernels" / "rnn-exercises" / "kernel.json").read_text())
    assert spec["argv"][0] == str(release / ".venv" / "bin" / "python"), spec

    # Work and check in Jupyter: the kernel the README installed, a PATH that does not hold the venv.
    notebook = solved_notebook(root, "encoding")
    nbformat.write(notebook, release / "exercises" / "encoding.ipynb")
    monkeypatch.setenv("JUPYTER_PATH", str(kernels))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    NotebookClient(notebook, kernel_name="rnn-exercises", timeout=300,
                   resources={"metadata": {"path": str(release / "exercises")}}).execute()
    shown = "\n".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    score = re.search(r"encoding\.ipynb: (\d+) / (\d+) points", shown)
    assert score and score[1] == score[2] != "0", shown

    ran = run_blocks(checks, release, env)
    said = ran[0][1].stdout
    scores = [int(score) for score in re.findall(r"Score: (\d+) / \d+", said)]
    assert len(scores) == 3 and scores[0] > 0 == scores[1] == scores[2], said  # encoding solved, forward not
    assert "submission.zip" in ran[1][1].stdout.replace("\n", ""), ran[1][1].stdout
    with zipfile.ZipFile(release / "submission.zip") as pack:
        names = set(pack.namelist())
    assert "encoding.ipynb" in names and "encoding.py" not in names, names
    assert all(f"{module}.py" in names or f"{module}.ipynb" in names for module in exercises()), names
