"""Submissions as they really arrive: a `git clone`, a zip graded by `grade batch`, a Gradescope-like upload
(files copied with equal times), notebooks that use what IPython gives them, helper packages.

A clone or an unzip gives the untouched stub `forward.py` and the learner's solved `forward.ipynb` the same
modification time: the notebook, which holds the work, must be graded.
"""

import json
import os
import shutil
import subprocess
import zipfile

import nbformat

from grader.authoring.build import build_notebook, grade_cells, split_cells

FORWARD = ["--only", "forward", "--call-timeout", "5"]


def solved_notebook(root, extra_cells="", module="forward"):
    """The reference solution as a generated notebook holds it (narrative, code, grade cell), plus cells."""
    cells = split_cells((root / "solutions" / f"{module}.py").read_text() + extra_cells)
    return build_notebook(cells + grade_cells(module), module)


def stub_beside_solved_notebook(root, directory):
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / "exercises" / "forward.py", directory / "forward.py")
    nbformat.write(solved_notebook(root), directory / "forward.ipynb")


def graded(grade_cli, path, tmp_path, *options):
    wide = {**os.environ, "COLUMNS": "400"}  # so the terminal's table keeps each reason on one line
    done = grade_cli(path, *FORWARD, "--json", tmp_path / "report.json", *options, env=wide)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((tmp_path / "report.json").read_text()), done.stdout


def full_marks_from_the_notebook(report):
    (forward,) = report["exercises"]
    assert forward["file"].endswith("forward.ipynb"), forward
    assert "forward.py is still the stub" in forward["why_this_file"]
    assert report["score"] == report["max_score"] > 0, [t["message"] for t in report["tests"] if t["score"] == 0]


def test_a_git_clone_grades_the_solved_notebook_not_the_stub_beside_it(root, tmp_path, grade_cli):
    repository, clone = tmp_path / "learner", tmp_path / "clone"
    stub_beside_solved_notebook(root, repository)
    git = ["git", "-c", "user.name=Learner", "-c", "user.email=learner@example.com", "-c", "init.defaultBranch=main"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "solved forward in the notebook"]):
        subprocess.run([*git, *command], cwd=repository, check=True, capture_output=True)
    subprocess.run([*git, "clone", "-q", str(repository), str(clone)], check=True, capture_output=True)
    report, terminal = graded(grade_cli, clone, tmp_path)
    full_marks_from_the_notebook(report)
    assert "forward.ipynb holds your work; forward.py is still the stub" in terminal  # the terminal says why


def test_a_gradescope_like_upload_with_equal_times_grades_the_solved_notebook(root, tmp_path, grade_cli):
    upload, submission = tmp_path / "upload", tmp_path / "autograder" / "submission"
    stub_beside_solved_notebook(root, upload)
    shutil.copytree(upload, submission)
    for path in submission.iterdir():
        os.utime(path, (1_700_000_000, 1_700_000_000))
    report, _ = graded(grade_cli, submission, tmp_path, "--gradescope", tmp_path / "results.json", "--quiet")
    full_marks_from_the_notebook(report)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["score"] == report["max_score"]


def test_a_zipped_class_grades_the_notebook_with_the_work_and_helper_packages(root, tmp_path, grade_cli,
                                                                            read_gradebook):
    """`grade batch` on zips (safe_extract, the preloaded workers): alice solved the notebook beside the stub;
    bob solved forward.py with a helper package of his own, beside the untouched notebook."""
    subs = tmp_path / "submissions"
    subs.mkdir()
    stub_beside_solved_notebook(root, tmp_path / "alice")
    with zipfile.ZipFile(subs / "alice.zip", "w") as bundle:
        for name in ("forward.ipynb", "forward.py"):
            bundle.write(tmp_path / "alice" / name, f"alice/{name}")
    solution = (root / "solutions" / "forward.py").read_text()
    start, end = solution.index("def softmax"), solution.index("def output_layer")
    with zipfile.ZipFile(subs / "bob.zip", "w") as bundle:
        bundle.writestr("forward.py",
                        solution[:start] + "from mypkg.maths import softmax  # noqa\n\n\n" + solution[end:])
        bundle.writestr("mypkg/__init__.py", "")
        bundle.writestr("mypkg/maths.py", "import numpy as np\n\n\n" + solution[start:end])
        bundle.write(root / "exercises" / "forward.ipynb", "forward.ipynb")
    done = grade_cli("batch", subs, "--out", tmp_path / "results", "--jobs", "1", *FORWARD)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = read_gradebook(tmp_path / "results")
    reports = {learner: json.loads((tmp_path / "results" / f"{learner}.json").read_text())["report"]
               for learner in ("alice", "bob")}
    for learner, report in reports.items():
        assert rows[learner]["status"] == "graded" and report["score"] == report["max_score"] > 0, (
            learner, [t["message"] for t in report["tests"] if t["score"] == 0])
    assert reports["alice"]["exercises"][0]["file"].endswith("alice/forward.ipynb")
    assert reports["bob"]["exercises"][0]["file"].endswith("/forward.py")


def test_a_helper_package_beside_the_exercise_is_importable(root, tmp_path, grade_cli):
    solution = (root / "solutions" / "forward.py").read_text()
    start, end = solution.index("def softmax"), solution.index("def output_layer")
    (tmp_path / "sub" / "mypkg" / "numeric").mkdir(parents=True)
    (tmp_path / "sub" / "forward.py").write_text(
        solution[:start] + "from mypkg.numeric.stable import softmax  # noqa\n\n\n" + solution[end:])
    (tmp_path / "sub" / "mypkg" / "__init__.py").write_text("")
    (tmp_path / "sub" / "mypkg" / "numeric" / "__init__.py").write_text("")
    (tmp_path / "sub" / "mypkg" / "numeric" / "stable.py").write_text("import numpy as np\n\n\n" + solution[start:end])
    report, _ = graded(grade_cli, tmp_path / "sub", tmp_path)
    assert report["score"] == report["max_score"] > 0, [t["message"] for t in report["tests"] if t["score"] == 0]


def test_a_notebook_that_uses_display_and_get_ipython_is_graded_in_full(root, tmp_path, grade_cli):
    extra = ("\n# %%\nfrom IPython.display import HTML\n\nx = np.linspace(-1, 1, 5)\ndisplay(softmax(x))\n"
             "display(HTML('<b>done</b>'))\nget_ipython().run_line_magic('matplotlib', 'inline')\n"
             "shell = get_ipython()\nif shell is not None:\n    shell.system('ls')\n")
    nbformat.write(solved_notebook(root, extra), tmp_path / "forward.ipynb")
    report, _ = graded(grade_cli, tmp_path, tmp_path)
    assert report["score"] == report["max_score"] > 0, [t["message"] for t in report["tests"] if t["score"] == 0]


def test_an_error_in_a_notebook_names_the_learners_cell_and_line(root, tmp_path, grade_cli):
    broken = "\n# %%\ndef softmax(z):\n    scale = 1.0\n    raise ValueError('not yet')\n"
    notebook = solved_notebook(root, broken)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    number = next(i for i, cell in enumerate(code, 1) if "not yet" in cell.source)
    code[number - 1].execution_count = 12
    nbformat.write(notebook, tmp_path / "forward.ipynb")
    report, _ = graded(grade_cli, tmp_path, tmp_path)
    messages = [t["message"] for t in report["tests"] if "softmax" in t["message"]]
    where = f"at forward.ipynb code cell {number} (In [12]), line 3, in softmax"
    assert messages and all(where in message for message in messages), messages
    assert not any("forward.py line" in t["message"] for t in report["tests"])
