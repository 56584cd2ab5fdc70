"""grader/isolation/diagnosis.py: which limit ended a learner's call, from what the grade process saw.

One table: the worker's exit code (-N from Python, 128 + N from bwrap; None for a forked worker
whose code is unknown), its cgroup's hit counters, the exception its reply carried (None: it
replied nothing, it ended), and a fragment of the message the learner reads (None: no limit named).
"""

import signal

import pytest

from grader.core.config import Limits
from grader.isolation.diagnosis import error_limit, exit_message, signal_of

# Not the defaults, so each message is seen to name the limit's actual value.
LIMITS = Limits(cpu_s=42, file_bytes=5 << 20, memory_bytes=300 << 20, processes=17)
WHAT = "forward.rnn_step()"
XFSZ, XCPU, KILL = int(signal.SIGXFSZ), int(signal.SIGXCPU), int(signal.SIGKILL)

CASES = [
    # how the worker ended -> exit_message
    pytest.param(-XFSZ, {}, None, f"output too large: {WHAT} was stopped (a file or the printed output passed 5 MiB)",
                 id="SIGXFSZ-python"),
    pytest.param(128 + XFSZ, {}, None, "output too large", id="SIGXFSZ-bwrap"),
    pytest.param(-XCPU, {}, None, f"CPU time limit: {WHAT} was stopped (it used more than 42 s of CPU time)",
                 id="SIGXCPU-python"),
    pytest.param(128 + XCPU, {}, None, "CPU time limit", id="SIGXCPU-bwrap"),
    pytest.param(-KILL, {"memory": 1, "pids": 0}, None, f"memory limit: {WHAT} used more than 300 MiB",
                 id="SIGKILL-memory-python"),
    pytest.param(128 + KILL, {"memory": 2, "pids": 0}, None, "memory limit", id="SIGKILL-memory-bwrap"),
    pytest.param(-KILL, {"memory": 0, "pids": 0}, None, "the worker process ended (killed by signal 9)",
                 id="SIGKILL-no-memory-counter"),
    pytest.param(128 + KILL, {}, None, "(killed by signal 9)", id="SIGKILL-no-cgroup"),
    pytest.param(1, {"memory": 0, "pids": 3}, None,
                 f"process limit: {WHAT} started more than 17 processes or threads", id="pids-counter"),
    pytest.param(-KILL, {"memory": 0, "pids": 1}, None, "process limit", id="SIGKILL-pids-counter"),
    pytest.param(3, {}, None, f"the worker process ended (exit status 3) during {WHAT}: does your code call "
                              "os._exit(), sys.exit() at import", id="exit-status"),
    pytest.param(0, {"memory": 0, "pids": 0}, None, "(exit status 0)", id="exit-status-0"),
    pytest.param(128, {}, None, "(exit status 128)", id="exit-status-128-no-signal"),
    pytest.param(None, {}, None, f"the worker process ended (it ended) during {WHAT}", id="unknown-code"),
    # the exception in its reply -> error_limit; a "pids" counter means new fork refusals since the last call
    pytest.param(None, {}, {"type": "BlockingIOError", "message": "[Errno 11] Resource temporarily unavailable"},
                 "process limit (17 processes or threads)", id="BlockingIOError"),
    pytest.param(None, {}, {"type": "RuntimeError", "message": "can't start new thread"},
                 "process limit (17 processes or threads)", id="cannot-start-thread"),
    pytest.param(None, {"pids": 1}, {"type": "ValueError", "message": "anything"},
                 "process limit (17 processes or threads)", id="new-pid-hits"),
    pytest.param(None, {}, {"type": "OSError", "message": "[Errno 27] File too large"},
                 "output too large (a file or the printed output passed 5 MiB)", id="OSError-file-too-large"),
    pytest.param(None, {}, {"type": "OSError", "message": "write of 4096 bytes: 100 requested and 12 written"},
                 "output too large", id="OSError-short-write"),
    pytest.param(None, {}, {"type": "MemoryError", "message": ""}, "memory limit (300 MiB)", id="MemoryError"),
    pytest.param(None, {}, {"type": "OSError", "message": "[Errno 28] No space left on device"},
                 "disk limit (the files a worker writes: 300 MiB in each of its directories", id="OSError-no-space"),
    pytest.param(None, {}, {"type": "ValueError", "message": "shapes (2,3) and (4,5) not aligned"}, None,
                 id="unrelated-error"),
    pytest.param(None, {}, {"type": "OSError", "message": "[Errno 2] No such file or directory"}, None,
                 id="unrelated-OSError"),
    pytest.param(None, {}, {}, None, id="no-error-details"),
]


@pytest.mark.parametrize("code, counters, error, expected", CASES)
def test_the_limit_that_ended_a_call_is_named(code, counters, error, expected):
    if error is None:
        message = exit_message(code, counters, LIMITS, WHAT)
    else:
        message = error_limit(error, LIMITS, new_pid_hits=bool(counters.get("pids")))
    if expected is None:
        assert message is None
    else:
        assert expected in message, message


@pytest.mark.parametrize("code, expected", [(None, None), (0, None), (1, None), (128, None), (-9, 9), (137, 9),
                                            (-25, 25), (153, 25), (-24, 24), (152, 24)])
def test_signal_of_reads_both_conventions(code, expected):
    assert signal_of(code) == expected
