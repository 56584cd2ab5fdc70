"""grader/isolation/learner_module.py with real workers: a call into a learner module's process."""

import os
import signal

import pytest

from grader.core.config import Limits
from grader.core.errors import LearnerError, WorkerExited
from grader.grading.outcomes import hidden_crash
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


def test_the_worker_names_an_exceptions_classes_so_a_hidden_check_shows_a_builtin_one(tmp_path):
    """A learner's exception class named after the input it got, run from a file named after it too: a
    hidden check shows the nearest builtin type and the line, none of the learner's names."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "forward.py").write_text(
        "import os\n\n\n"
        "def rnn_step(x):\n"
        "    file = os.path.join(os.path.dirname(__file__), f'{x}.py')\n"
        "    exec(compile(f'raise type(\"Got_{x}\", (KeyError,), {{}})()', file, 'exec'))\n")
    module = LearnerModule(tmp_path / "src", tmp_path / "work", "forward", Limits())
    try:
        with pytest.raises(LearnerError) as raised:
            module.invoke("rnn_step", ("goodbye",))
    finally:
        module.close()
    assert (raised.value.type_name, raised.value.builtin_type) == ("Got_goodbye", "KeyError")
    assert raised.value.where == "goodbye.py line 1, in <module>"
    assert hidden_crash(raised.value) == "forward.rnn_step() raised KeyError at line 1 of a helper module"
