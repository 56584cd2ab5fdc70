"""grader/batch/grade_server.py: the batch's server that forks each grading with the grader imported."""

import json
import os
import signal
import subprocess
import time

import pytest

from grader.authoring.selfcheck import build
from grader.batch import grade_server
from grader.batch.grade_server import ForkedGrade, GradeServer
from grader.batch.runner import start_grade
from grader.core.fallbacks import Fallbacks
from grader.isolation.processes import kill_group


def test_gradings_forked_by_the_grade_server_behave_like_grade(root, tmp_path, fixture_submissions):
    """The grade server forks each grading with the grader already imported: a forked grading prints,
    writes and exits as `grade` does (a usage error too); one past its budget is killed and ends
    without an exit status; a server that is stuck is stopped (the pool then starts a new one), and
    with the server gone a grading starts as a fresh process."""
    build(fixture_submissions["infinite-loop"], tmp_path / "slow")
    record = Fallbacks()
    server = GradeServer()
    try:
        args = [str(root / "solutions"), "--only", "forward", "--json", str(tmp_path / "forked.json"), "--quiet"]
        forked = start_grade(args, None, server, record)
        assert isinstance(forked, ForkedGrade) and forked.pid != server.process.pid
        assert "Score: 25 / 25" in forked.communicate(60)[0] and forked.returncode == 0
        assert json.loads((tmp_path / "forked.json").read_text())["score"] == 25

        usage = start_grade([str(tmp_path / "nowhere")], None, server, record)
        assert "nowhere does not exist" in usage.communicate(60)[0] and usage.returncode == 2

        hanging = start_grade([str(tmp_path / "slow"), "--only", "forward", "--call-timeout", "100"], None, server,
                              record)
        with pytest.raises(subprocess.TimeoutExpired):
            hanging.communicate(2)
        kill_group(hanging)
        started = time.monotonic()
        hanging.communicate()
        assert hanging.returncode is None and time.monotonic() - started < 5
        assert record.taken == {}  # every grading so far was forked by the server

        server.process.send_signal(signal.SIGSTOP)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(grade_server, "START_S", 1.0)
            assert server.start(args, dict(os.environ), root, ()) is None
        assert server.process.wait(timeout=10) == -signal.SIGKILL
        fresh = start_grade(args, None, server, record)
        assert isinstance(fresh, subprocess.Popen) and fresh.communicate(60) and fresh.returncode == 0
        assert "grade-server-stuck" in record.taken
    finally:
        server.close()
