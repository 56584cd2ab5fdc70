"""grader/batch/submissions.py: every entry of a class gets an id of its own, the same on every run, and
a batch says which entries would have shared one instead of letting one result overwrite another."""

import csv
import io
import json

from rich.console import Console

from grader.batch import submissions
from grader.batch.command import main_batch


def make_class(root, directories=(), files=()):
    root.mkdir(exist_ok=True)
    for name in directories:
        (root / name).mkdir(parents=True)
    for name in files:
        (root / name).write_text("not a submission\n")
    return root


def ids(root):
    return {s.path.name: s.id for s in submissions.discover(root)}


def test_entries_whose_names_give_one_id_get_one_each(tmp_path):
    klass = make_class(tmp_path, directories=("alice", "alice bob", "alice_bob", "bob", "summary"),
                       files=("alice.zip",))
    assert ids(klass) == {"alice": "alice", "alice.zip": "alice.zip", "alice_bob": "alice_bob",
                          "alice bob": "alice_bob-2", "bob": "bob", "summary": "summary-2"}
    found = {s.path.name: s for s in submissions.discover(klass)}
    assert found["bob"].note == ""
    assert found["alice.zip"].note == "the entries alice/, alice.zip would all have the id alice: this entry's id is " \
                                      "alice.zip"
    assert found["alice bob"].note.endswith("this entry's id is alice_bob-2")
    assert "class summary" in found["summary"].note


def test_an_id_never_takes_one_another_entry_has_and_follows_from_the_names_alone(tmp_path):
    klass = make_class(tmp_path, directories=("alice", "alice.zip-2"), files=("alice.zip", "alice.zip.ipynb"))
    first = ids(klass)
    # alice.zip.ipynb is alice.zip (nobody else's usual id), so the zip, which clashed with alice/, is numbered
    # past alice.zip-2, taken by a directory of that name.
    assert first == {"alice": "alice", "alice.zip": "alice.zip-3", "alice.zip.ipynb": "alice.zip",
                     "alice.zip-2": "alice.zip-2"}
    assert ids(klass) == first and len(set(first.values())) == len(first)


def test_ids_that_differ_only_in_case_are_a_clash(tmp_path):
    """On a case-insensitive disk (macOS, Windows, a USB stick) Alice.json and alice.json are one file."""
    klass = make_class(tmp_path, directories=("Alice", "alice", "Summary", "bob"), files=("BOB.zip", "ALICE-2.ipynb"))
    found = {s.path.name: s for s in submissions.discover(klass)}
    assert {name: s.id for name, s in found.items()} == {
        "Alice": "Alice", "alice": "alice-3", "ALICE-2.ipynb": "ALICE-2", "Summary": "Summary-2",
        "bob": "bob", "BOB.zip": "BOB.zip"}
    assert len({s.id.lower() for s in found.values()}) == len(found)
    assert found["alice"].note == "the entries Alice/, alice/ would all have the id Alice (ignoring case): " \
                                  "this entry's id is alice-3"
    assert found["Summary"].note.startswith("the id Summary is the class summary's (RESULTS/summary.json)")


def test_an_id_clash_is_part_of_the_key_so_the_row_that_says_so_is_remade(tmp_path):
    (tmp_path / "alice").mkdir()
    plain = submissions.Submission("alice", tmp_path / "alice", "directory")
    clashing = submissions.Submission("alice", tmp_path / "alice", "directory", note="alice.zip is here too")
    assert submissions.content_key(plain, "g") != submissions.content_key(clashing, "g")


def test_a_batch_warns_once_and_keeps_every_entry_with_a_reason_saying_so(tmp_path):
    # Not one of these is a submission, so no grade process starts: the batch's own path, end to end.
    klass = make_class(tmp_path / "class", files=("alice.zip", "alice.txt", "alice bob.txt", "alice_bob.txt",
                                                  "carol.txt"))
    console = Console(record=True, width=100)
    assert main_batch([str(klass), "--out", str(tmp_path / "out"), "--jobs", "1", "--no-preload", "--only",
                       "forward"], console) == 0
    shown = console.export_text()
    warnings = [line for line in shown.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, shown
    for entry, entry_id in (("alice.zip", "alice.zip"), ("alice.txt", "alice.txt"), ("alice_bob.txt", "alice_bob.txt"),
                            ("alice bob.txt", "alice_bob.txt-2")):
        assert f"{entry} -> {entry_id}" in warnings[0]
    assert "carol" not in warnings[0]
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO((tmp_path / "out" / "gradebook.csv").read_text()))}
    assert sorted(rows) == ["alice.txt", "alice.zip", "alice_bob.txt", "alice_bob.txt-2", "carol"]
    assert rows["alice.zip"]["reason"].startswith("the entries alice.txt, alice.zip would all have the id alice: "
                                                  "this entry's id is alice.zip; alice.zip is not a valid zip file")
    assert rows["carol"]["reason"].startswith("not a submission: carol.txt")
    assert json.loads((tmp_path / "out" / "alice_bob.txt-2.json").read_text())["submission"].endswith("alice bob.txt")
