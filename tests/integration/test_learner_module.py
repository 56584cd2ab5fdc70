"""grader/isolation/learner_module.py with real workers: a call into a learner module's process."""

import os
import signal

import pytest

from grader.core.config import Limits
from grader.core.errors import WorkerExited
from grader.isolation.learner_module import LearnerModule


def test_a_call_to_a_worker_that_died_between_calls_is_its_problem_not_a_grader_error(tmp_path):
    """A request to a dead worker cannot be written and stays in the grader's buffer: the call reports
    how the worker ended, and stopping the worker does not trip over that request (it raised
    BrokenPipeError, then removed the worker's cgroup a second time: a grader error either way)."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "forward.py").write_text("def rnn_step(x):\n    return x\n")
    module = LearnerModule(tmp_path / "src", tmp_path / "work", "forward", Limits())
    try:
        assert module.invoke("rnn_step", (1,)) == 1
        os.killpg(module.process.pid, signal.SIGKILL)
        module.process.wait()
        with pytest.raises(WorkerExited):
            module.invoke("rnn_step", (2,))
    finally:
        module.close()
