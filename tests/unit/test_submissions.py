"""grader/batch/submissions.py: a class's entries found, sharded, keyed by content and unpacked safely."""

import hashlib
import os
import stat
import zipfile

import pytest

from grader.batch import submissions
from grader.batch.submissions import BatchOptions, Submission
from grader.core.course import exercises
from grader.core.errors import UsageError
from grader.grading import archive
from grader.grading.archive import safe_extract


def test_every_entry_is_a_submission_of_its_kind_sorted_by_id(tmp_path):
    (tmp_path / "bob").mkdir()
    (tmp_path / "ada.zip").write_bytes(b"")
    (tmp_path / "cy.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / ".DS_Store").write_text("")
    (tmp_path / "d e$f").mkdir()
    found = submissions.discover(tmp_path)
    assert [(s.id, s.kind) for s in found] == [("ada", "zip"), ("bob", "directory"), ("cy", "notebook"),
                                               ("d_e_f", "directory"), ("notes", "other")]
    assert submissions.submission_id(tmp_path / "$.zip") == "_"


def test_a_missing_submissions_directory_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="not a directory of submissions"):
        submissions.discover(tmp_path / "nowhere")


def test_shards_split_the_class_without_overlap():
    everyone = [Submission(f"s{i}", None, "directory") for i in range(7)]
    parts = [submissions.shard(everyone, f"{i}/3") for i in (1, 2, 3)]
    assert [[s.id for s in part] for part in parts] == [["s0", "s3", "s6"], ["s1", "s4"], ["s2", "s5"]]
    assert submissions.shard(everyone, None) == everyone


@pytest.mark.parametrize("spec", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_a_malformed_shard_is_a_usage_error(spec):
    with pytest.raises(UsageError, match="expected I/N"):
        submissions.shard([], spec)


def test_the_key_follows_the_content_and_the_options(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "forward.py").write_text("x = 1\n")
    submission = Submission("sub", tmp_path / "sub", "directory")
    grading = submissions.grading_key(BatchOptions(grade_args=["--only", "forward"]))
    assert grading == submissions.grading_key(BatchOptions(grade_args=["--only", "forward"], jobs=8, preload=False))
    assert grading != submissions.grading_key(BatchOptions(grade_args=["--only", "encoding"]))
    first = submissions.content_key(submission, grading)
    assert first == submissions.content_key(submission, grading) and len(first) == 32
    assert first != submissions.content_key(submission, submissions.grading_key(BatchOptions()))
    (tmp_path / "sub" / "forward.py").write_text("x = 2\n")
    assert submissions.content_key(submission, grading) != first


def test_a_link_is_hashed_as_where_it_points_never_what_it_points_at(tmp_path):
    (tmp_path / "tree").mkdir()
    (tmp_path / "secret").write_text("one")
    (tmp_path / "tree" / "link").symlink_to(tmp_path / "secret")

    def digest():
        hashed = hashlib.sha256()
        submissions.hash_tree(hashed, tmp_path / "tree")
        return hashed.hexdigest()

    before = digest()
    (tmp_path / "secret").write_text("two")
    assert digest() == before


def test_a_zip_of_a_folder_is_graded_inside_that_folder(tmp_path, make_zip):
    archive = make_zip(tmp_path / "gus.zip", {"gus/forward.py": "x = 1\n", "__MACOSX/._forward.py": ""})
    (tmp_path / "out").mkdir()
    assert safe_extract(archive, tmp_path / "out") == tmp_path / "out" / "gus"
    assert (tmp_path / "out" / "gus" / "forward.py").read_text() == "x = 1\n"


@pytest.mark.parametrize("member", ["../../escaped.py", "/etc/escaped.py", "sub/../../escaped.py"])
def test_a_zip_that_writes_outside_is_refused_before_anything_is_written(tmp_path, make_zip, member):
    archive = make_zip(tmp_path / "ivy.zip", {"forward.py": "x = 1\n", member: "print('out')\n"})
    (tmp_path / "out" / "deep").mkdir(parents=True)
    with pytest.raises(ValueError, match="unsafe path or link"):
        safe_extract(archive, tmp_path / "out" / "deep")
    assert not list((tmp_path / "out").rglob("*.py")) and not (tmp_path / "escaped.py").exists()


def test_a_link_in_a_zip_is_refused(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        info = zipfile.ZipInfo("forward.py")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(info, "/etc/passwd")
    (tmp_path / "out").mkdir()
    with pytest.raises(ValueError, match="unsafe path or link: forward.py"):
        safe_extract(archive, tmp_path / "out")


def test_a_zip_too_large_or_not_a_zip_is_refused(tmp_path, monkeypatch, make_zip):
    (tmp_path / "out").mkdir()
    monkeypatch.setattr(archive, "MAX_ZIP_BYTES", 100)
    with pytest.raises(ValueError, match="too large to grade"):
        safe_extract(make_zip(tmp_path / "big.zip", {"forward.py": "x" * 101}), tmp_path / "out")
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.zip is not a valid zip file"):
        safe_extract(tmp_path / "bad.zip", tmp_path / "out")
    assert not os.listdir(tmp_path / "out")


def test_a_notebook_stands_for_every_exercise_and_other_files_are_no_submission(tmp_path):
    (tmp_path / "hal.ipynb").write_text("{}")
    (tmp_path / "out").mkdir()
    notebook = Submission("hal", tmp_path / "hal.ipynb", "notebook")
    assert submissions.unpack(notebook, tmp_path / "out") == tmp_path / "out"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{e}.ipynb" for e in exercises())
    with pytest.raises(ValueError, match="not a submission: notes.txt"):
        submissions.unpack(Submission("notes", tmp_path / "notes.txt", "other"), tmp_path / "out")
