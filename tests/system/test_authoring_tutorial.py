"""docs/authoring.md, performed as an instructor would: every ```sh block, in order, in a fresh copy of the
repository (tests/routes.py: a clone's files, `python3 -m venv` made offline). The tutorial adds an exercise
with `grade new`, builds, grades, teaches the grader a mistake, runs `grade selfcheck` and releases; the test
then proves that no file of the grader itself (under grader/, outside grader/suites/) changed."""

import hashlib
import json

from tests.routes import fresh_copy, run_blocks, sh_blocks, user


def grader_files(repository):
    """{path: sha256} of every file under grader/ but grader/suites/ (no caches)."""
    return {path.relative_to(repository).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted((repository / "grader").rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts and "suites" not in path.relative_to(
                repository / "grader").parts[:1]}


def test_the_authoring_tutorial_adds_and_releases_an_exercise_without_a_grader_edit(root, tmp_path):
    repository = fresh_copy(root, tmp_path / "course")
    _, env = user(tmp_path)
    before = grader_files(repository)
    blocks = sh_blocks((repository / "docs" / "authoring.md").read_text())
    assert len(blocks) >= 5 and "grade new reversal" in blocks[1], blocks
    ran = dict(run_blocks(blocks, repository, env))

    assert grader_files(repository) == before
    selfcheck = next(done.stdout for block, done in ran.items() if "grade selfcheck" in block)
    assert "2 known-wrong variants, 0 problem(s)" in " ".join(selfcheck.split()), selfcheck
    manifest = json.loads((repository / "grader" / "suites" / "course.json").read_text())
    reversal = manifest["exercises"][-1]
    assert reversal["name"] == "reversal" and reversal["functions"] == ["reverse_time"]
    assert set(reversal["misconceptions"]) == {"reversed-batch", "reversed-features"}

    release = tmp_path / "release-with-reversal"
    assert {"reversal.py", "reversal.ipynb"} <= {path.name for path in (release / "exercises").iterdir()}
    assert (release / "grader" / "suites" / "public" / "test_reversal.py").is_file()
    assert not (release / "grader" / "suites" / "hidden").exists()
    assert "`reversal`: Reversal" in (release / "README.md").read_text()
