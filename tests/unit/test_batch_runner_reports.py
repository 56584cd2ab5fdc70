"""A grade process that failed may have written a report: the batch reads what it can of it, never more, and a
crash row names the checks a grader error hit."""

import json

from grader.batch.runner import crash_reason, written_report
from grader.core.status import Status
from grader.grading import outcomes
from grader.grading.pipeline import Job, score


def check(name, status, message="", internal_error=False):
    return outcomes.TestResult(name=f"public/forward/{name}", exercise="forward", description=name, score=0.0,
                               max_score=1.0, status=status, message=message, visibility="public", misconception=None,
                               hint=None, duration_s=0.1, internal_error=internal_error)


def test_a_crash_row_names_the_checks_a_grader_error_hit(tmp_path):
    """The report is assembled as `grade` assembles it (`pipeline.score`): a report that left out which checks
    hit a grader error made this reason say only "1 check(s) hit a grader error"."""
    job = Job(tmp_path, results=[check("test_shapes", Status.FAILED, "wrong shape"),
                                 check("test_values", Status.ERROR, "internal grader error (ValueError: x); please "
                                       "report it", internal_error=True)])
    score(job)
    (tmp_path / "report.json").write_text(json.dumps(job.report))
    reason = crash_reason(3, "Score: 0 / 2\n1 check(s) hit a grader error\n", tmp_path / "report.json")
    assert reason == ("grade exited 3: Score: 0 / 2\n1 check(s) hit a grader error\n"
                      "public/forward/test_values: internal grader error (ValueError: x); please report it")


def test_without_a_report_a_crash_row_says_how_grade_ended(tmp_path):
    assert crash_reason(None, "Killed\n", tmp_path / "missing.json") == "grade ended without an exit status: Killed"


def test_no_report_or_a_broken_one_reads_as_empty(tmp_path):
    assert written_report(tmp_path / "missing.json") == {}
    (tmp_path / "broken.json").write_text('{"tests": [')
    assert written_report(tmp_path / "broken.json") == {}
