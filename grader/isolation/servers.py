"""Trusted fork servers and the handles a batch gives a grade process.

A `ForkServer` is a trusted process (`python ARGS --serve-fd FD`) that imported what its children
need and forks one child per request (`fork_per_request`): the batch's device server
(`grader/device/checker.py`) and grade server (`grader/batch/grade_server.py`). `attached()` is how
a grade process finds the preloaded processes of its batch slot (environment variable
GRADER_PRELOAD: socket descriptors it inherits, the zygotes' pids and the slot directory); learner
workers never see that variable, since they start with a clean environment.
"""

import gc
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from grader.core.config import REPOSITORY
from grader.isolation import safe_io
from grader.isolation.processes import die_with_parent, kill_group

ENV = "GRADER_PRELOAD"


def read_line(sock: socket.socket, timeout: float) -> Any:
    """One newline-terminated JSON message from `sock`, or None when it closes, times out or is junk."""
    try:
        return json.loads(safe_io.LineReader(sock.fileno()).read_line(timeout, 1 << 16))
    except (TimeoutError, EOFError, OSError, ValueError, safe_io.UnsafeOutput):
        return None


class SocketProcess:
    """A process started with one end of a socketpair (`ours` is the other); `close` ends both."""

    ours: socket.socket
    process: subprocess.Popen[bytes]

    def close(self) -> None:
        self.ours.close()
        kill_group(self.process)
        self.process.wait()


class ForkServer(SocketProcess):
    """A trusted server, `python ARGS --serve-fd FD`, that forks a child per request sent on its
    SOCK_SEQPACKET control socket (`fork_per_request`); it dies with the thread that started it, and
    runs `confine` (limits, which its children inherit) before exec if given one."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None,
                 confine: Callable[[], None] | None = None):
        self.ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)

        def preexec() -> None:
            die_with_parent()
            if confine is not None:
                confine()

        self.process = subprocess.Popen(
            [sys.executable, *args, "--serve-fd", str(theirs.fileno())], pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            cwd=REPOSITORY, start_new_session=True, preexec_fn=preexec)
        theirs.close()


def fork_per_request(fd: int, handle: Callable[[bytes, list[int]], None], max_bytes: int) -> None:
    """The loop of a trusted server (the device server, the grade server): for each message on the
    SOCK_SEQPACKET control socket `fd` that carries descriptors, fork a child that runs
    `handle(message, fds)`, which must end the child; until the socket closes. The server itself
    runs no request, so what it imported stays safe to fork (no TensorFlow op, no grading).

    The server never asks how a child ended (each answers on its own socket), so the kernel reaps
    them (SIGCHLD ignored); each child takes back the default, since it waits for its own children.
    """
    gc.freeze()  # children's collections leave the imported objects' pages shared
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    control = socket.socket(fileno=fd)
    while True:
        message, fds, _, _ = socket.recv_fds(control, max_bytes, 64)
        if not message:
            return
        if fds and os.fork() == 0:
            try:  # the child must never return into this loop
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                control.close()
                handle(message, fds)
            finally:
                os._exit(1)
        for received in fds:
            os.close(received)


def attached() -> dict[str, Any]:
    """The preloaded processes this grade process was given (an empty dict when graded alone)."""
    try:
        return json.loads(os.environ.get(ENV, "{}"))
    except ValueError:
        return {}


