"""grader/batch/runner.py: whatever happens to one submission, the batch gets a row for it."""

from grader.batch import runner
from grader.batch.submissions import Submission


def test_a_grader_error_on_one_submission_is_its_row_not_the_end_of_the_batch(root, monkeypatch):
    def broken(*args):
        raise PermissionError(13, "Permission denied", "trap")

    monkeypatch.setattr(runner, "grade_in_process", broken)
    row = runner.grade_submission(Submission("solutions", root / "solutions", "directory"), [], 60,
                                  use_preload=False)
    assert row["status"] == "crash" and row["id"] == "solutions"
    assert row["reason"].startswith("grader error: PermissionError") and "trap" in row["reason"]
