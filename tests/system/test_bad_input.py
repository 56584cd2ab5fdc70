"""Bad input, said once and clearly: what is not a submission is refused with what was expected, a
zip is graded as the batch grades one, and a batch row says `not a submission`."""

import json
import shutil
import zipfile


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
