"""Fork each batch grading from a process that has imported the grader, instead of starting Python.

A `grade` process spends a noticeable part of a preloaded batch grading importing pytest, numpy,
jsonschema and the grader before it grades anything (docs/performance.md). `GradeServer` starts
`python -m grader.batch.grade_server --serve-fd FD`: a trusted process (it never runs learner code, like any
grade process) that imports what `grade` needs and forks one child per submission; the child takes
its arguments, environment, working directory and output from the request and runs
`grader.grading.command.run_grade`, as `python -m grader.cli` would, in a new session of its own.

A request is one SOCK_SEQPACKET message, JSON {"argv", "env", "cwd", "fds"}, carrying file
descriptors: the reply socket, the output pipe's write end, then the descriptors the grading
inherits (`pool.Slot.fds()`), which the child puts back at the numbers "fds" lists (the ones
`env` names). The child answers {"pid": PID} on the reply socket when it starts and {"exit": CODE}
when it ends; one that is killed only closes it.
"""

import fcntl
import json
import os
import selectors
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from grader.core.exits import run_command
from grader.grading.command import run_grade
from grader.isolation.processes import die_with_parent, kill_group
from grader.isolation.servers import ForkServer, fork_per_request, read_line

MAX_OUTPUT = 1 << 20  # what a grade prints in batch mode (--quiet) is a line or two
HIGH_FD = 256  # where the child parks the descriptors it received before renumbering them
DRAIN_S = 10.0  # how long a killed grading's output may take to close
START_S = 30.0  # how long the server may take to fork a grading before it counts as stuck


class GradeServer(ForkServer):
    """The batch's forking grade process: one per batch process, shared by its jobs."""

    def __init__(self) -> None:
        super().__init__(["-m", "grader.batch.grade_server"])

    def start(self, argv: list[str], env: dict[str, str], cwd: Path, fds: tuple[int, ...]) -> "ForkedGrade | None":
        """Fork a grading of `argv` (the arguments after `grade`) that inherits `fds`; a
        `ForkedGrade`, or None if the server did not take it (then the caller starts a fresh
        process, and the server is stopped, so that the batch starts a new one)."""
        out_r, out_w = os.pipe()
        ours, theirs = socket.socketpair()
        request = {"argv": argv, "env": env, "cwd": str(cwd), "fds": list(fds)}
        try:
            socket.send_fds(self.ours, [json.dumps(request).encode()], [theirs.fileno(), out_w, *fds])
            started = read_line(ours, START_S)
        except OSError:
            started = None
        finally:
            theirs.close()
            os.close(out_w)
        if not started or not isinstance(started.get("pid"), int):
            ours.close()
            os.close(out_r)
            kill_group(self.process)
            return None
        return ForkedGrade(started["pid"], ours, out_r)


class ForkedGrade:
    """A grading forked by the server, used like the `subprocess.Popen` it replaces: it is not our
    child, so `pid` leads a process group of its own (`processes.kill_group` kills it) and its exit
    code comes over the reply socket."""

    returncode: int | None

    def __init__(self, pid: int, reply: socket.socket, output: int):
        self.pid, self.reply, self.fd = pid, reply, output
        self.output, self.returncode = b"", None

    def communicate(self, timeout: float | None = None) -> tuple[str, None]:
        """(output, None) once the grading has ended; past `timeout`, subprocess.TimeoutExpired.

        Without a timeout (after a kill) it waits at most DRAIN_S. `returncode` is then the
        grading's exit code, or None if it ended without one (killed, crashed).
        """
        deadline = time.monotonic() + (DRAIN_S if timeout is None else timeout)
        self.output, closed = read_until_closed(self.fd, self.output, deadline)
        if not closed and timeout is not None:
            raise subprocess.TimeoutExpired("grade", timeout)
        reply = read_line(self.reply, 5) if closed else None
        self.returncode = reply.get("exit") if reply and isinstance(reply.get("exit"), int) else None
        self.reply.close()
        os.close(self.fd)
        return self.output.decode(errors="replace"), None


def read_until_closed(fd: int, output: bytes, deadline: float) -> tuple[bytes, bool]:
    """`output` and what `fd` gives until its writers close it or `deadline` passes: (bytes,
    closed); only the last MAX_OUTPUT bytes are kept."""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while (remaining := deadline - time.monotonic()) > 0 and selector.select(remaining):
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return output, True
            output = (output + chunk)[-MAX_OUTPUT:]
    return output, False


def serve(fd: int) -> None:
    """Fork a child per request, forever; this process runs no grading itself (its module imports are
    what every grading needs, paid once)."""
    fork_per_request(fd, lambda message, fds: run_child(json.loads(message), fds), 1 << 20)


def run_child(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: become the grade process the request describes, run it, exit."""
    code, reply = 1, None
    try:
        os.setsid()
        die_with_parent()
        parked = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, HIGH_FD) for fd in fds]
        for fd in fds:
            os.close(fd)
        reply, output, inherited = socket.socket(fileno=parked[0]), parked[1], parked[2:]
        for fd, number in zip(inherited, request["fds"], strict=True):
            os.dup2(fd, number, inheritable=False)
            os.close(fd)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.argv = ["grade", *request["argv"]]
        reply.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
        code = run_command(run_grade, request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:
        traceback.print_exc()
    finally:
        try:  # the child must never return into the server's loop
            sys.stdout.flush()
            sys.stderr.flush()
            if reply is not None:
                reply.sendall(json.dumps({"exit": code}).encode() + b"\n")
        finally:
            os._exit(code if isinstance(code, int) else 1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-fd":
        serve(int(sys.argv[2]))
