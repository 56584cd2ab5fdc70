"""Which limit, if any, ended a learner's call: pure functions of what the grade process saw.

A worker that hits a limit shows it in one of three ways: an exception in its reply (Python turns a
refused fork into BlockingIOError, a write past RLIMIT_FSIZE into `OSError: File too large`, since it
ignores SIGXFSZ), a cgroup counter that went up, or how the process ended (a signal; bwrap reports a
child killed by signal N as exit status 128 + N). The messages name the limit and its value, so the
learner knows what to change.
"""

import signal
from collections.abc import Mapping
from typing import Any

from grader.core.config import PRIVATE_TMP_BYTES, Limits


def error_limit(error: Mapping[str, Any], limits: Limits, new_pid_hits: bool) -> str | None:
    """The limit that a learner exception is the symptom of ("process limit (...)"), or None.

    error: the worker's {"type", "message"}; new_pid_hits: the pids cgroup refused a fork since the
    last call.
    """
    kind, message = error.get("type"), str(error.get("message", ""))
    if new_pid_hits or kind == "BlockingIOError" or "can't start new thread" in message:
        return f"process limit ({limits.processes} processes or threads)"
    if kind == "OSError" and ("File too large" in message or " requested and " in message):
        return f"output too large (a file or the printed output passed {limits.file_bytes >> 20} MiB)"
    if kind == "MemoryError":
        return f"memory limit ({limits.memory_bytes >> 20} MiB)"
    if kind == "OSError" and "No space left on device" in message:
        return (f"disk limit (the files a worker writes: {limits.memory_bytes >> 20} MiB in each of its directories "
                f"and in /dev/shm, {PRIVATE_TMP_BYTES >> 20} MiB in /tmp)")
    return None


def signal_of(code: int | None) -> int | None:
    """The signal that ended a worker with exit code `code` (-N from Python, 128 + N from bwrap)."""
    if code is None:
        return None
    return -code if code < 0 else code - 128 if code > 128 else None


def exit_message(code: int | None, counters: Mapping[str, int], limits: Limits, what: str) -> str:
    """Why a worker ended during `what`: the limit it hit, or how it ended.

    code: its exit code (None when a forked worker's is unknown); counters: its cgroup's
    {"memory", "pids"} hit counts ({} without a cgroup).
    """
    killed_by = signal_of(code)
    if killed_by == signal.SIGXFSZ:
        return (f"output too large: {what} was stopped (a file or the printed output passed "
                f"{limits.file_bytes >> 20} MiB)")
    if killed_by == signal.SIGXCPU:
        return f"CPU time limit: {what} was stopped (it used more than {limits.cpu_s} s of CPU time)"
    if killed_by == signal.SIGKILL and counters.get("memory"):
        return f"memory limit: {what} used more than {limits.memory_bytes >> 20} MiB"
    if counters.get("pids"):
        return f"process limit: {what} started more than {limits.processes} processes or threads"
    how = f"killed by signal {killed_by}" if killed_by else "it ended" if code is None else f"exit status {code}"
    return (f"the worker process ended ({how}) during {what}: does your code call "
            "os._exit(), sys.exit() at import, or crash the interpreter?")
