"""Grade one submission of a batch: in a grade process of its own, within its time budget.

The grade process is forked from the batch's grade server (`grade_server.py`), its imports done,
or started afresh; it borrows a slot of the pool (`pool.py`) so its workers fork from preloaded
zygotes. Whatever happens, the result is a row (`RowStatus`), never an exception: a bad submission
or a grader bug met on one submission never stops the class. Importable on Dask workers.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from grader.batch.grade_server import ForkedGrade, GradeServer
from grader.batch.pool import SLOTS, Slot
from grader.batch.submissions import Submission, unpack
from grader.core.config import REPOSITORY
from grader.core.exits import EXIT_USAGE
from grader.core.fallbacks import Fallbacks
from grader.core.status import RowStatus, Status
from grader.isolation.processes import die_with_parent, kill_group
from grader.reports import formats, strict_json

# Grade processes in flight, so an interrupted batch can stop them.
RUNNING: set[ForkedGrade | subprocess.Popen[str]] = set()


def kill_running() -> None:
    for process in list(RUNNING):
        kill_group(process)


def reason_of(report: dict[str, Any]) -> str:
    """A short reason for the gradebook: what the first check that errored says (a syntax error, a
    time limit, a missing file), or nothing when every check ran."""
    errors = [t for t in report["tests"] if t["status"] == Status.ERROR]
    return f"{errors[0]['exercise']}: {errors[0]['message'][:160]}" if errors else ""


def grade_submission(submission: Submission, grade_args: list[str], budget_s: float,
                     use_preload: bool = True) -> dict[str, Any]:
    """Grade one submission in a `grade` process of its own; return a JSON-ready result (never raises).

    With `use_preload`, the grade process borrows one of this process's slots, whose TensorFlow is
    already imported. Importable on Dask workers: it needs only the submission's path on a shared
    filesystem.
    """
    started = time.monotonic()
    record = Fallbacks()
    try:
        if not use_preload:
            return grade_in_process(submission, grade_args, budget_s, None, None, record)
        slot = SLOTS.acquire(grade_args, record)
        try:
            return grade_in_process(submission, grade_args, budget_s, slot, SLOTS.grader if slot else None, record)
        finally:
            if slot:
                SLOTS.release(slot)
    except Exception as exc:  # a grader bug met on one submission must not stop the rest of the class
        return result(submission, RowStatus.CRASH,
                      f"grader error: {type(exc).__name__}: {str(exc)[:200]} (please report it)", None, started)


def grade_in_process(submission: Submission, grade_args: list[str], budget_s: float, slot: Slot | None,
                     grader: GradeServer | None, record: Fallbacks) -> dict[str, Any]:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="batch-") as tmp:
        unpacked = Path(tmp) / "unpacked"
        unpacked.mkdir()
        try:
            target = unpack(submission, unpacked)
        except ValueError as exc:
            return result(submission, RowStatus.NOT_A_SUBMISSION, str(exc), None, started)
        report_path = Path(os.path.abspath(tmp)) / "report.json"
        # The grade process runs in REPOSITORY, not here: give it absolute paths (a relative path is this
        # process's, as in the local pool; `grade batch` sends Dask workers absolute ones).
        process = start_grade([os.path.abspath(target), "--json", str(report_path), "--quiet", *grade_args], slot,
                              grader, record)
        RUNNING.add(process)
        try:
            output, _ = process.communicate(timeout=budget_s)
        except subprocess.TimeoutExpired:
            kill_group(process)
            process.communicate()
            return result(submission, RowStatus.TIMEOUT, f"grading took longer than its budget of {budget_s:g} s",
                          None, started)
        finally:
            RUNNING.discard(process)
            if slot:
                slot.clear(record)  # nothing of this submission outlives it, killed or not
        if process.returncode == EXIT_USAGE:  # grade refused it: nothing here it could grade
            reason = output.strip().splitlines()[-1].removeprefix("grade: ") if output.strip() else "no reason given"
            return result(submission, RowStatus.NOT_A_SUBMISSION, reason[:300], None, started)
        if process.returncode not in (0, 1) or not report_path.exists():
            return result(submission, RowStatus.CRASH, crash_reason(process.returncode, output, report_path), None,
                          started)
        report = json.loads(report_path.read_text())
        report["environment"]["fallbacks"] += record.as_list()
        return result(submission, RowStatus.GRADED, reason_of(report), report, started)


def crash_reason(code: int | None, output: str, report_path: Path) -> str:
    """Why a grading is a crash row: how grade ended, the end of what it printed, and the checks a grader error
    hit, read from the report it may have left (what the instructor files with a bug report)."""
    ended = "ended without an exit status" if code is None else f"exited {code}"
    errors = [f"{t.get('name')}: {t.get('message')}" for t in written_report(report_path).get("tests", [])
              if isinstance(t, dict) and t.get("internal_error") is True]
    return f"grade {ended}: {output.strip()[-300:]}" + "".join(f"\n{error[:500]}" for error in errors[:3])


def written_report(path: Path) -> dict[str, Any]:
    """The report a grade process that failed left behind, or {} where there is none to read."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def start_grade(args: list[str], slot: Slot | None, grader: GradeServer | None,
                record: Fallbacks) -> ForkedGrade | subprocess.Popen[str]:
    """`grade ARGS` in a session of its own, with the slot's preloaded processes: forked by the grade
    server if there is one (the grader's imports are paid once per batch), else a fresh
    `python -m grader.cli`. Either has `pid`, `communicate(timeout)` and `returncode`."""
    env, fds = ({**os.environ, **slot.environment()}, slot.fds()) if slot else (dict(os.environ), ())
    forked = grader.start(args, env, REPOSITORY, fds) if grader else None
    if grader and forked is None:
        record.note("grade-server-stuck", "the batch's grade server did not fork this grading: it ran in a "
                                          "fresh grade process, and the server was stopped")
    return forked or subprocess.Popen(
        [sys.executable, "-m", "grader.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, cwd=REPOSITORY, preexec_fn=die_with_parent, env=env, pass_fds=fds)


def result(submission: Submission, status: RowStatus, reason: str, report: dict[str, Any] | None,
           started: float) -> dict[str, Any]:
    """The row of `submission`; its reason starts with why its id is not its usual one, if it is not."""
    reason = "; ".join(part for part in (submission.note, reason) if part)
    return {"id": submission.id, "submission": str(submission.path), "status": status, "reason": reason,
            "duration_s": round(time.monotonic() - started, 3), "report": report}


def write_result(results_dir: str | Path, data: dict[str, Any]) -> None:
    """Write one result atomically: a crash or kill -9 leaves the old file or the new one, never half."""
    formats.write(strict_json.dumps(data, indent=1), Path(results_dir) / f"{data['id']}.json")


def load_results(results_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Every result in `results_dir`, by id (unreadable files are ignored: they get regraded)."""
    results = {}
    for path in sorted(Path(results_dir).glob("*.json")):
        if path.name in ("summary.json",):
            continue
        try:
            data = json.loads(path.read_text())
            results[data["id"]] = data
        except (OSError, ValueError, KeyError):
            continue
    return results
