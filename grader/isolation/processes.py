"""Processes and trees the grader starts for learner code: kill, find, clean up, hand over.

Used by the trusted processes only; every function here is safe against a learner who tries to
make it follow a link, outlive a kill or keep a directory from being removed.
"""

import ctypes
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from grader.core.config import NOBODY

PR_SET_PDEATHSIG = 1


class HasPid(Protocol):
    """A process the grader started: a `subprocess.Popen`, a zygote's forked worker, a forked grading."""

    pid: int


def creator_is_gone(name: str) -> bool:
    """For a name like grader-PID-... or grade-PID-...: True when process PID no longer exists, so
    what it left (a cgroup, a workspace) is stale."""
    creator = name.split("-")[1] if name.count("-") >= 2 else ""
    return creator.isdigit() and not Path(f"/proc/{creator}").exists()


def kill_group(process: HasPid) -> None:
    """SIGKILL the process group led by `process` (the worker and all it started), if still there."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def give_to_worker(*paths: Path) -> None:
    """Directories the worker writes to belong to the uid it runs as (65534 when we are root)."""
    if os.geteuid() == 0:
        for path in paths:
            os.chown(path, NOBODY, NOBODY)


def remove_tree(path: Path, ignore_errors: bool = False) -> None:
    """Delete a directory tree a worker wrote in, even where it took away its own permissions.

    A `chmod 000` directory stops `shutil.rmtree` for any user but root; this gives such a directory
    back its owner's permissions and goes on. Links are never followed, so a link a worker left
    cannot lead the chmod to a file outside the tree. Call it once the workers that wrote there are
    gone: one still running could swap a directory for a link between the check and the chmod.
    """

    def unlock(_: Callable[..., Any], failed: str,
               error: BaseException | tuple[type[BaseException], BaseException, TracebackType]) -> None:
        error = error[1] if isinstance(error, tuple) else error  # onerror passes exc_info, onexc the error
        if isinstance(error, FileNotFoundError):
            return
        if not isinstance(error, PermissionError):
            raise error
        for directory in (os.path.dirname(failed), failed):
            if os.path.isdir(directory) and not os.path.islink(directory):
                os.chmod(directory, 0o700)
        if os.path.isdir(failed) and not os.path.islink(failed):
            shutil.rmtree(failed, **handler)
        elif os.path.lexists(failed):
            os.unlink(failed)

    handler: dict[str, Any] = {"onexc" if sys.version_info >= (3, 12) else "onerror": unlock}
    try:
        shutil.rmtree(path, **handler)
    except OSError:
        if not ignore_errors:
            raise



def die_with_parent() -> None:
    """In a child before exec: get SIGKILL when the process (thread) that started it dies, kill -9 too."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, 9)


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, found through /proc (children of every thread)."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                children = [int(c) for c in (task / "children").read_text().split()]
                found += children
                stack += children
        except OSError:
            continue
    return found


def seen_inside(sandbox: int, path: str, timeout: float = 5.0) -> Path:
    """`path` as the processes in the sandbox that bwrap process `sandbox` starts see it, for the grade process:
    /proc/CHILD/root/PATH, CHILD being bwrap's child (in the sandbox's namespaces). If no child appears within
    `timeout` (bwrap failed), a path that does not exist, so that reading there fails as a missing output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = descendants(sandbox)
        if children:
            return Path(f"/proc/{children[0]}/root{path}")
        time.sleep(0.002)
    return Path(f"/proc/{sandbox}/root/nonexistent{path}")


def namespace_pid(pid: int) -> int | None:
    """The pid of host process `pid` inside its innermost pid namespace, or None if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    nspid = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
    return int(nspid[-1]) if nspid else None


def host_pid(ancestor: int, inner_pid: int, timeout: float = 5.0) -> int:
    """The host pid of the process below `ancestor` whose pid inside its sandbox is `inner_pid`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in descendants(ancestor):
            if namespace_pid(pid) == inner_pid:
                return pid
        time.sleep(0.01)
    raise RuntimeError(f"the zygote's worker (pid {inner_pid} in its sandbox) was not found")
