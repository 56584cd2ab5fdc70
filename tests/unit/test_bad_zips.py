"""grader/grading/archive.py and the batch: a zip the learner got wrong is `not a submission`, with a
reason naming the zip, the member and what is wrong; never a crash or a grader error."""

import csv
import io
import os
import zipfile

import pytest
from rich.console import Console

from grader.batch.command import main_batch
from grader.grading.archive import safe_extract

LONG_NAME = "a" * 300 + ".py"  # over the 255 bytes a file name may have on Linux filesystems
DEEP_NAME = "/".join(["b" * 200] * 25) + "/forward.py"  # each part fits; the path is over 4096 bytes


def patched(path, members, patch):
    """A zip of {name: text} with `patch(bytearray)` applied to its bytes: what no zip library writes."""
    with zipfile.ZipFile(path, "w") as bundle:
        for name, text in members.items():
            bundle.writestr(name, text)
    data = bytearray(path.read_bytes())
    patch(data)
    path.write_bytes(bytes(data))
    return path


def encrypted(data):
    """Set the 'encrypted' flag of the first member, in its local header and its central directory entry."""
    data[6] |= 1
    data[data.rfind(b"PK\x01\x02") + 8] |= 1


def unknown_method(data):
    """Compression method 99 (WinZip's AES), which Python's zipfile cannot read."""
    data[8:10] = (99).to_bytes(2, "little")
    central = data.rfind(b"PK\x01\x02")
    data[central + 10 : central + 12] = (99).to_bytes(2, "little")


def make_bad_zip(path, kind, make_zip):
    if kind == "name too long":
        return make_zip(path, {"forward.py": "x = 1\n", LONG_NAME: "y = 2\n"})
    if kind == "path too long":
        return make_zip(path, {DEEP_NAME: "x = 1\n"})
    if kind == "file, then a folder of its name":
        return make_zip(path, {"forward.py": "x = 1\n", "forward.py/helper.py": "y = 2\n"})
    if kind == "folder, then a file of its name":
        return make_zip(path, {"forward.py/": "", "forward.py": "x = 1\n"})
    if kind == "password":
        return patched(path, {"forward.py": "x = 1\n"}, encrypted)
    if kind == "unknown compression":
        return patched(path, {"forward.py": "x = 1\n"}, unknown_method)
    if kind == "corrupt data":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("forward.py", "x = 1\n" * 1000)
        data = bytearray(path.read_bytes())
        start = 30 + len("forward.py")  # the compressed data follows the local header and the name
        data[start : start + 8] = bytes(b ^ 0xFF for b in data[start : start + 8])
        path.write_bytes(bytes(data))
        return path
    path.write_text("not a zip\n")  # "not a zip"
    return path


PROBLEMS = {
    "name too long": "holds a file whose name is too long to unpack (303 bytes): " + "a" * 80 + "...; give it",
    "path too long": "holds a file whose name is too long to unpack",
    "file, then a folder of its name": "holds both a file and a folder named forward.py: keep one",
    "folder, then a file of its name": "holds both a file and a folder named forward.py: keep one",
    "password": "holds a password-protected file, forward.py: zip your files again without a password",
    "unknown compression": "its member forward.py cannot be unpacked (That compression method is not supported)",
    "corrupt data": "its member forward.py cannot be unpacked (Error -3 while decompressing data",
    "not a zip": "is not a valid zip file (File is not a zip file)",
}


@pytest.mark.parametrize("kind", PROBLEMS)
def test_a_bad_zip_is_refused_with_what_is_wrong(tmp_path, make_zip, kind):
    archive = make_bad_zip(tmp_path / "ann.zip", kind, make_zip)
    (tmp_path / "out").mkdir()
    with pytest.raises(ValueError) as refused:
        safe_extract(archive, tmp_path / "out")
    assert str(refused.value).startswith("ann.zip") and PROBLEMS[kind] in str(refused.value)


def test_a_file_and_a_folder_of_one_name_are_refused_before_anything_is_written(tmp_path, make_zip):
    archive = make_bad_zip(tmp_path / "ann.zip", "file, then a folder of its name", make_zip)
    (tmp_path / "out").mkdir()
    with pytest.raises(ValueError):
        safe_extract(archive, tmp_path / "out")
    assert not os.listdir(tmp_path / "out")


def batch_rows(klass, out):
    """Grade `klass` as `grade batch` does (nothing in it is a submission, so no process starts): {id: row}."""
    assert main_batch([str(klass), "--out", str(out), "--jobs", "2", "--no-preload", "--only", "forward"],
                      Console(record=True)) == 0
    return {row["id"]: row for row in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))}


def test_every_bad_zip_of_a_class_is_a_row_not_a_submission(tmp_path, make_zip):
    klass = tmp_path / "class"
    klass.mkdir()
    names = {kind: f"s{i}" for i, kind in enumerate(PROBLEMS)}
    for kind, name in names.items():
        make_bad_zip(klass / f"{name}.zip", kind, make_zip)
    rows = batch_rows(klass, tmp_path / "out")
    for kind, name in names.items():
        assert rows[name]["status"] == "not a submission", (kind, rows[name])
        assert rows[name]["reason"].startswith(f"{name}.zip") and PROBLEMS[kind] in rows[name]["reason"], kind


@pytest.mark.parametrize("kind", ["pipe", "link to nothing"])
def test_a_zip_that_is_not_a_regular_file_is_a_row_not_a_submission(tmp_path, kind):
    """Reading a pipe to key it would hang the batch; a link to nothing stopped it."""
    klass = tmp_path / "class"
    klass.mkdir()
    if kind == "pipe":
        os.mkfifo(klass / "ann.zip")
    else:
        (klass / "ann.zip").symlink_to(tmp_path / "nowhere.zip")
    row = batch_rows(klass, tmp_path / "out")["ann"]
    assert row["status"] == "not a submission"
    assert row["reason"] == ("not a submission: ann.zip is not a regular file (a pipe, a device or a link to nothing): "
                             "put the .zip file itself in the submissions directory")
