"""A grade process that failed may have written a report: the batch reads what it can of it, never more."""

from grader.batch.runner import written_report


def test_a_failed_gradings_report_is_read_when_there_is_one(tmp_path):
    (tmp_path / "report.json").write_text('{"tests": [{"name": "t", "internal_error": true, "message": "m"}]}')
    assert written_report(tmp_path / "report.json")["tests"][0]["internal_error"] is True


def test_no_report_or_a_broken_one_reads_as_empty(tmp_path):
    assert written_report(tmp_path / "missing.json") == {}
    (tmp_path / "broken.json").write_text('{"tests": [')
    assert written_report(tmp_path / "broken.json") == {}
