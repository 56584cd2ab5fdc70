"""`grade release` writes what learners need and nothing secret."""

import json
import re
import subprocess
import sys

import pytest

from grader.authoring.release import scan, secrets_to_scan
from grader.cli import main
from grader.core.errors import LeakFound


@pytest.fixture(scope="module")
def release(tmp_path_factory, root):
    """A release built as an instructor would: validated first (reference full marks, stubs zero)."""
    out = tmp_path_factory.mktemp("release") / "out"
    done = subprocess.run([sys.executable, "-m", "grader.cli", "release", str(out)], capture_output=True,
                          text=True, cwd=root)
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


def test_scan_catches_a_planted_solution_line(release, tmp_path):
    planted = tmp_path / "notes.py"
    planted.write_text("return sorted(set(text))\n")
    with pytest.raises(LeakFound, match="sorted"):
        scan([planted])


def test_release_refuses_a_non_empty_directory(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["release", str(tmp_path), "--no-validate"]) == 2
    assert "not empty: choose an empty directory" in capsys.readouterr().err
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_released_grader_runs_public_checks_only(release, tmp_path):
    """The learner's copy grades with the public suites: no hidden suite, no reference needed."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from grader.cli import main; "
            "sys.exit(main([sys.argv[2], '--only', 'forward', '--json', sys.argv[3], '--quiet']))")
    report = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-c", code, str(release), str(release / "exercises"), str(report)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["hidden_suites"] is False and data["score"] == 0
    assert {t["visibility"] for t in data["tests"]} == {"public"}
