"""grader/authoring/release.py without building a release: the leak scan and the refusals."""

import pytest

from grader.authoring.release import scan
from grader.cli import main
from grader.core.errors import LeakFound


def test_scan_catches_a_planted_solution_line(tmp_path):
    planted = tmp_path / "notes.py"
    planted.write_text("return sorted(set(text))\n")
    with pytest.raises(LeakFound, match="sorted"):
        scan([planted])


def test_release_refuses_a_non_empty_directory(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["release", str(tmp_path), "--no-validate"]) == 2
    assert "not empty: choose an empty directory" in capsys.readouterr().err
    assert (tmp_path / "keep.txt").read_text() == "mine"
