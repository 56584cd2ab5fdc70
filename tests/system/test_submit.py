"""`grade submit [PATH] --out FILE.zip`: the pack holds exactly what is graded (exercise files chosen as
`grade` chooses them, helper modules and packages, never links), is graded with the public checks, and
`grade batch` grades it alike. (Each test fails before `grade submit` existed: the command did not.)"""

import json
import os
import re
import shutil
import zipfile

from grader.core.course import exercises

FAST = ["--only", "encoding", "forward"]


def public_score(report):
    return sum(t["score"] for t in report["tests"] if t["visibility"] == "public")


def solved(root, directory):
    """The solutions, forward.py importing a helper module and a helper package, and a link beside them."""
    directory.mkdir()
    for name in exercises():
        shutil.copy(root / "solutions" / f"{name}.py", directory / f"{name}.py")
    (directory / "shapes.py").write_text("HIDDEN = 'a helper module'\n")
    (directory / "mypkg" / "sub").mkdir(parents=True)
    (directory / "mypkg" / "__init__.py").write_text("from mypkg.sub.util import ANSWER\n")
    (directory / "mypkg" / "sub" / "util.py").write_text("ANSWER = 42\n")
    forward = directory / "forward.py"
    forward.write_text("import shapes  # noqa\nimport mypkg  # noqa\n" + forward.read_text())
    outside = directory.parent / "elsewhere.py"
    outside.write_text("SECRET = 1\n")
    (directory / "linked.py").symlink_to(outside)
    return directory


def test_the_stubs_are_packed_and_score_zero(grade_cli, root, tmp_path):
    out = tmp_path / "submission.zip"
    done = grade_cli("submit", root / "exercises", "--out", out, *FAST, "--json", tmp_path / "report.json")
    assert done.returncode == 0, done.stdout + done.stderr
    names = sorted(zipfile.ZipFile(out).namelist())
    # One file per exercise, at the zip's top level: the stubs' .py (neither file holds work, so the .py).
    assert names == sorted(f"{name}.py" for name in exercises())
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["score"] == 0 < report["max_score"] and not report["hidden_suites"]
    assert {t["visibility"] for t in report["tests"]} == {"public"}
    assert "Public score of the pack: 0 /" in done.stdout and str(out) in done.stdout.replace("\n", "")


def test_a_solved_directory_packs_its_helpers_not_its_links_and_scores_full(grade_cli, root, tmp_path):
    directory = solved(root, tmp_path / "mine")
    out = tmp_path / "submission.zip"
    done = grade_cli("submit", directory, "--out", out, *FAST, "--json", tmp_path / "report.json")
    assert done.returncode == 0, done.stdout + done.stderr
    names = sorted(zipfile.ZipFile(out).namelist())
    assert names == sorted([*(f"{name}.py" for name in exercises()), "mypkg/__init__.py", "mypkg/sub/util.py",
                            "shapes.py"])
    assert "linked.py" in done.stdout and "symbolic link" in done.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["score"] == report["max_score"] > 0, done.stdout
    assert re.search(rf"Public score of the pack: {report['score']:g} / {report['max_score']:g}", done.stdout)

    # A class directory holding that zip: the batch's row has the same public score.
    klass = tmp_path / "class"
    klass.mkdir()
    shutil.copy(out, klass / "alice.zip")
    batch = grade_cli("batch", klass, "--out", tmp_path / "results", "--jobs", "1", "--no-preload", *FAST)
    assert batch.returncode == 0, batch.stdout + batch.stderr
    row = json.loads((tmp_path / "results" / "alice.json").read_text())
    assert row["status"] == "graded" and public_score(row["report"]) == report["score"]


def test_a_notebook_with_the_work_is_packed_rather_than_its_stub_twin(grade_cli, root, tmp_path):
    directory = tmp_path / "mine"
    shutil.copytree(root / "exercises", directory)
    shutil.copy(root / "solutions" / "forward.py", directory / "forward.py")
    out = tmp_path / "submission.zip"
    done = grade_cli("submit", directory, "--out", out, "--only", "forward")
    assert done.returncode == 0, done.stdout + done.stderr
    names = sorted(zipfile.ZipFile(out).namelist())
    assert "forward.py" in names and "forward.ipynb" not in names and len(names) == len(exercises())


def test_an_exercise_file_that_is_a_link_is_refused_by_name(grade_cli, root, tmp_path):
    directory = tmp_path / "mine"
    directory.mkdir()
    shutil.copy(root / "solutions" / "encoding.py", directory / "encoding.py")
    (directory / "forward.py").symlink_to(root / "solutions" / "forward.py")
    out = tmp_path / "submission.zip"
    done = grade_cli("submit", directory, "--out", out)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{directory / 'forward.py'} is a symbolic link" in done.stderr.replace("\n", "")
    assert not out.exists()


def test_an_oversize_exercise_file_is_refused_by_name(grade_cli, tmp_path):
    directory = tmp_path / "mine"
    directory.mkdir()
    (directory / "encoding.py").write_text("#" * (3 << 20) + "\n")
    done = grade_cli("submit", directory, "--out", tmp_path / "submission.zip")
    assert done.returncode == 2 and "encoding.py is 3.0 MiB, over the grader's cap" in done.stderr.replace("\n", "")
    assert not (tmp_path / "submission.zip").exists()


def test_an_existing_out_is_not_overwritten_without_force(grade_cli, root, tmp_path):
    out = tmp_path / "submission.zip"
    out.write_bytes(b"my earlier upload")
    done = grade_cli("submit", root / "exercises", "--out", out, "--only", "encoding")
    assert done.returncode == 2 and "--force" in done.stderr
    assert out.read_bytes() == b"my earlier upload"
    done = grade_cli("submit", root / "exercises", "--out", out, "--only", "encoding", "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    assert zipfile.is_zipfile(out)
    assert not any(name.startswith(".") for name in os.listdir(tmp_path))  # no partial file left
