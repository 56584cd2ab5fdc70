"""Bad input, said once and clearly: what is not a submission is refused with what was expected, a
zip is graded as the batch grades one, and a batch row says `not a submission`."""

import json
import shutil
import subprocess
import sys
import zipfile

from grader.core.config import REPOSITORY
from tests.routes import as_ordinary_user, grade_batch


def test_a_directory_without_exercise_files_is_not_a_submission(grade_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "README.md").write_text("my answers are in my head\n")
    for directory in ("empty", "notes"):
        done = grade_cli(tmp_path / directory)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "is not a submission" in done.stderr and "forward.py" in done.stderr


def test_a_zip_is_graded_as_its_contents(grade_cli, root, tmp_path):
    archive = tmp_path / "alice.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(root / "solutions" / "forward.py", "alice/forward.py")
    done = grade_cli(archive, "--only", "forward", "--json", tmp_path / "report.json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["score"] == report["max_score"] > 0


def test_a_file_named_zip_that_is_not_one_is_refused_by_name(grade_cli, tmp_path):
    (tmp_path / "alice.zip").write_text("not a zip\n")
    done = grade_cli(tmp_path / "alice.zip")
    assert done.returncode == 2 and "alice.zip is not a valid zip file" in done.stderr


def test_a_batch_row_for_what_is_not_a_submission(grade_cli, root, tmp_path):
    klass = tmp_path / "class"
    (klass / "empty").mkdir(parents=True)
    shutil.copytree(root / "solutions", klass / "alice", ignore=shutil.ignore_patterns("__pycache__"))
    done = grade_cli("batch", klass, "--out", tmp_path / "out", "--jobs", "1", "--only", "forward", "--no-preload")
    assert done.returncode == 0, done.stdout + done.stderr
    empty = json.loads((tmp_path / "out" / "empty.json").read_text())
    assert empty["status"] == "not a submission" and "none of the exercise files" in empty["reason"]
    assert json.loads((tmp_path / "out" / "alice.json").read_text())["status"] == "graded"


def test_files_the_user_cannot_read_are_named_and_the_rest_is_graded(root, tmp_path):
    """An instructor grading as themselves (uid 65534 here) meets a submission they cannot read, and one
    exercise file they cannot read: each is said (which file, what to run), and everything else is graded.
    Before, either stopped the whole class with "grader error ... Please report it"."""
    klass, out = tmp_path / "class", tmp_path / "out"
    for entry in ("closed", "open", "one-file-closed", "zipped-closed"):
        shutil.copytree(root / "solutions", klass / entry, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.make_archive(str(klass / "zipped"), "zip", klass / "zipped-closed")
    shutil.rmtree(klass / "zipped-closed")
    (klass / "closed").chmod(0o700)
    (klass / "one-file-closed" / "forward.py").chmod(0o600)
    (klass / "zipped.zip").chmod(0o600)
    rows = grade_batch("uid 65534", klass, out, "--jobs", "1", "--only", "encoding", "forward")
    for entry in ("closed", "zipped"):
        assert rows[entry]["status"] == "not a submission", rows[entry]
        assert "cannot be read by the user running grade (uid 65534)" in rows[entry]["reason"]
        assert "chmod -R a+rX" in rows[entry]["reason"]
    assert rows["open"]["report"]["score"] == rows["open"]["report"]["max_score"] > 0
    tests = rows["one-file-closed"]["report"]["tests"]
    assert {t["status"] for t in tests if "/encoding/" in t["name"]} == {"passed"}
    forward = [t for t in tests if "/forward/" in t["name"]]
    assert forward and all(t["status"] == "error" and "forward.py cannot be read" in t["message"] for t in forward)

    alone = subprocess.run(as_ordinary_user(["env", f"HOME={out}-home", sys.executable, "-m", "grader.cli",
                                             klass / "closed"], reach=[klass, REPOSITORY]),
                           cwd=REPOSITORY, capture_output=True, text=True, timeout=600)
    assert alone.returncode == 2 and "closed cannot be read by the user running grade" in alone.stderr, alone.stderr
