"""grader/core/: configuration, exit statuses, the record of fallbacks, the statuses' spellings."""

import json
import logging

import pytest

from grader.core import config, fallbacks
from grader.core.errors import GraderError, SandboxUnavailable, UsageError
from grader.core.exits import EXIT_GRADER, EXIT_OK, EXIT_USAGE, run_command
from grader.core.fallbacks import Fallbacks
from grader.core.status import RowStatus, Status


def test_the_configuration_points_at_the_package_and_the_worker():
    assert config.WORKER_SCRIPT == config.PACKAGE_DIR / "untrusted" / "worker.py" and config.WORKER_SCRIPT.is_file()
    assert (config.SUITES / "public").is_dir() and config.REPOSITORY == config.PACKAGE_DIR.parent
    assert config.HASH_SEEDS[0] == 0 and len(set(config.HASH_SEEDS)) == len(config.HASH_SEEDS)
    assert config.NUMERIC_SETTINGS["TF_NUM_INTRAOP_THREADS"] == "1"


def test_limits_have_defaults_and_can_be_set_one_by_one():
    limits = config.Limits(call_s=3)
    assert limits.call_s == 3 and limits.import_s == config.Limits().import_s
    assert all(isinstance(value, int | float) and value > 0 for value in vars(config.Limits()).values())
    assert set(vars(limits)) >= {"call_s", "import_s", "train_s", "memory_bytes", "processes", "cpu_s", "file_bytes",
                                 "open_files", "reply_bytes", "array_bytes"}


@pytest.mark.parametrize("raised, code, said", [
    (UsageError("forward.txt is not an exercise file"), EXIT_USAGE, "grade: forward.txt is not an exercise file"),
    (SandboxUnavailable("install bubblewrap"), EXIT_GRADER, "grade: grader error: install bubblewrap"),
    (GraderError("no test suites"), EXIT_GRADER, "grade: grader error: no test suites"),
    (KeyboardInterrupt(), EXIT_GRADER, "grade: interrupted"),
    (KeyError("W_hh"), EXIT_GRADER, "grade: grader error (KeyError: 'W_hh'). Please report it."),
])
def test_every_error_becomes_an_exit_status_and_a_line_without_a_traceback(capsys, raised, code, said):
    def runner(argv, console):
        raise raised

    assert run_command(runner, []) == code
    error = capsys.readouterr().err
    assert said in error and "Traceback" not in error


def test_a_command_that_succeeds_gets_its_arguments_and_its_status(capsys):
    assert run_command(lambda argv, console: console.print(json.dumps(argv)) or EXIT_OK, ["a", "b"]) == EXIT_OK
    assert capsys.readouterr().out == '["a", "b"]\n'


def test_each_fallback_is_recorded_once_and_logged(caplog):
    record = Fallbacks()
    with caplog.at_level(logging.WARNING, logger="grader"):
        record.note("no-cgroup", "rlimits alone")
        record.note("zygote-gone", "a fresh interpreter")
        record.note("no-cgroup", "said again")
    assert record.as_list() == [{"kind": "no-cgroup", "message": "rlimits alone"},
                                {"kind": "zygote-gone", "message": "a fresh interpreter"}]
    assert [r.getMessage() for r in caplog.records] == ["fallback no-cgroup: rlimits alone",
                                                        "fallback zygote-gone: a fresh interpreter"]


def test_the_grade_process_record_starts_afresh_for_each_grading():
    fallbacks.forget()
    fallbacks.note("no-sandbox", "a plain process")
    assert fallbacks.taken() == [{"kind": "no-sandbox", "message": "a plain process"}]
    fallbacks.forget()
    assert fallbacks.taken() == []


def test_statuses_are_spelled_as_the_reports_spell_them():
    assert [str(s) for s in Status] == ["passed", "failed", "error", "skipped"]
    assert [str(s) for s in RowStatus] == ["graded", "not a submission", "timeout", "crash"]
    assert json.dumps({"status": RowStatus.NOT_A_SUBMISSION}) == '{"status": "not a submission"}'
