"""`grade release` writes what learners need and nothing secret; `--gradescope` writes a bundle that
grades on Gradescope's layout."""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile

import jsonschema
import pytest

from grader.authoring.release import secrets_to_scan
from grader.cli import main
from grader.core.config import PACKAGE_DIR

GRADESCOPE_SCHEMA = PACKAGE_DIR / "reports" / "formats" / "gradescope.schema.json"
# `grade ARGS` with the released grader, as a learner's installation has it: its copy first on the path,
# run from outside the repository, and without the finder of this repository's editable install (which
# would fill in the packages the release leaves out).
RELEASED_GRADE = """
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
sys.path.insert(0, sys.argv[1])
from grader.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.fixture(scope="module")
def release(tmp_path_factory, grade_cli):
    """A release built as an instructor would: validated first (reference full marks, stubs zero)."""
    out = tmp_path_factory.mktemp("release") / "out"
    done = grade_cli("release", out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"reference: (\d+) / \1; stubs: 0 / \1", done.stdout), done.stdout
    return out


def test_release_has_stubs_notebooks_public_checks_and_installer(release):
    for name in ("encoding", "forward", "next_letter"):
        assert (release / "exercises" / f"{name}.py").is_file()
        assert (release / "exercises" / f"{name}.ipynb").is_file()
        assert (release / "grader" / "suites" / "public" / f"test_{name}.py").is_file()
    assert (release / "pyproject.toml").is_file() and (release / "README.md").is_file()
    assert not (release / "grader" / "suites" / "hidden").exists()
    assert not (release / "solutions").exists()


def test_release_contains_no_solution_line_or_hidden_test_name(release, root):
    lines, names = secrets_to_scan(root)
    assert len(lines) > 20 and "keras_reference.npz" in names
    for path in release.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert path.name not in names
            leaked = [s for s in lines | names if s in text]
            assert not leaked, f"{path} leaks {leaked}"


def test_released_grader_runs_public_checks_only(release, tmp_path):
    """The learner's copy grades with the public suites: no hidden suite, no reference needed."""
    report = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-c", RELEASED_GRADE, str(release), str(release / "exercises"), "--only",
                           "forward", "--json", str(report), "--quiet"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["hidden_suites"] is False and data["score"] == 0
    assert {t["visibility"] for t in data["tests"]} == {"public"}


def test_released_grader_has_no_instructor_commands(release, tmp_path):
    """Learners get neither grader/batch/ nor grader/authoring/: those commands say where they run."""
    assert not (release / "grader" / "batch").exists() and not (release / "grader" / "authoring").exists()
    for command, package in (("batch", "batch"), ("selfcheck", "authoring")):
        done = subprocess.run([sys.executable, "-c", RELEASED_GRADE, str(release), command, "--help"],
                              capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"no grader/{package}/" in done.stderr and "instructor's repository" in done.stderr


def test_gradescope_bundle_grades_a_submission_end_to_end(root, tmp_path):
    bundle = tmp_path / "autograder.zip"
    assert main(["release", "--gradescope", str(bundle), "--no-validate"]) == 0
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder", "pyproject.toml"} <= set(names)
        assert any(n.startswith("grader/suites/hidden/") for n in names) and "solutions/forward.py" in names
        mode = archive.getinfo("run_autograder").external_attr >> 16
        assert mode & stat.S_IXUSR
        archive.extractall(tmp_path / "autograder" / "source")
    autograder = tmp_path / "autograder"
    (autograder / "venv").symlink_to(sys.prefix)  # stands in for what setup.sh installs
    shutil.copytree(root / "solutions", autograder / "submission")
    script = autograder / "source" / "run_autograder"
    script.chmod(0o755)
    done = subprocess.run([str(script)], env={**os.environ, "AUTOGRADER_ROOT": str(autograder)},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((autograder / "results" / "results.json").read_text())
    jsonschema.validate(results, json.loads(GRADESCOPE_SCHEMA.read_text()))
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0
