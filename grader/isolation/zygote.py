"""The learner zygotes of a batch slot: TensorFlow's import paid once per slot, not per submission.

A batch slot is a directory and, for each hash seed the suites use, a `LearnerZygote`
(`untrusted/worker.py --zygote`) inside a bubblewrap sandbox that sees only the system, Python and
the slot (mounted at /slot). A zygote imported TensorFlow (seed 0, every module) or numpy alone (the
seeds that compare `set()` order) and ran no op, so forking it is safe and bit-identical. For each
submission the grade process puts the learner's files in the slot (`fill_slot`), and the zygote of
the worker's hash seed forks a fresh worker (`ask_zygote`). Each worker is moved into a cgroup of
its own before it reads its first request, and killed with everything it started when the
submission is done; the slot is emptied in between (`clear_slot`): its files deleted, and each
zygote, its sandbox's init, kills every other process there and removes their IPC objects
(`empty_sandbox`), so no submission sees another's files, processes or shared memory. The workers
of one submission share the slot's directories: they run the same learner's code. The sandbox sees
the slot read-only but for the workers' own out/, home/ and tmp/ (bind mounts; where no cgroup can be
made, tmpfs of `--memory-mb` inside the sandbox, which the grade process reads through `/proc/PID/root`:
files on /dev/shm count against nothing there): a worker cannot swap a directory the grader writes in
(src/, in/, logs/) for a link that leads the grader's writes out of the slot, even where it runs as the
grader's own uid.

The batch starts the zygotes (`LearnerSlot`); the grade process of a slot uses them through the
handles in `servers.attached()`.
"""

import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from grader.core.config import HASH_SEEDS, Limits
from grader.isolation import sandbox
from grader.isolation.cgroups import Cgroup
from grader.isolation.processes import descendants, give_to_worker, namespace_pid, remove_tree, seen_inside
from grader.isolation.servers import SocketProcess, read_line

GRADER_DIRS = ("src", "in", "logs")  # written by the grade process, read-only in the sandbox
WORKER_DIRS = ("out", "home", "tmp")  # the workers' own, mounted writable: emptied in place, never replaced


class LearnerZygote(SocketProcess):
    """A sandboxed process that imported what the workers of one hash seed need, forking one learner
    worker per request: TensorFlow for seed 0 (every module), numpy alone for the seeds that only
    compare `set()` order across processes."""

    def __init__(self, slot: Path, hash_seed: int, limits: Limits, private: bool):
        self.slot = slot
        self.ours, theirs = socket.socketpair()
        env = {**sandbox.worker_environment("/slot/home", hash_seed), "TMPDIR": "/slot/tmp"}
        # No shared /tmp: one submission's files must not outlive it (TMPDIR is the slot's tmp/).
        mounts = ["--ro-bind", str(slot), "/slot"]
        if private:  # no cgroup: the workers' directories are bounded tmpfs inside the sandbox (sandbox.worker_tmpfs)
            mounts += sandbox.worker_tmpfs(limits, *(f"/slot/{name}" for name in WORKER_DIRS))
        else:
            for name in WORKER_DIRS:
                mounts += ["--bind", str(slot / name), f"/slot/{name}"]
        argv = sandbox.sandbox_command([*mounts, "--chdir", "/slot"], env, private_tmp=False, as_init=True,
                                       shm_bytes=limits.memory_bytes if private else None)
        argv += ["--zygote", str(theirs.fileno()), *([] if hash_seed == 0 else ["--numpy-only"])]
        # No rlimits of its own: it runs no learner code, and each forked worker sets its limits
        # before any, which it could not raise above the zygote's (with a worker's own limits here,
        # a fork bomb in one slot used up the uid-wide RLIMIT_NPROC of every other slot's workers).
        self.process = subprocess.Popen(argv, env={"PATH": "/usr/bin:/bin"}, pass_fds=(theirs.fileno(),),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        # The sandbox's root as the grade process reads it, where the workers' directories are inside it.
        self.root = seen_inside(self.process.pid, "") if private else None

    def wait_ready(self, timeout: float) -> None:
        ready = read_line(self.ours, timeout)
        if not ready or not ready.get("ready"):
            raise RuntimeError("a preloaded learner process (zygote) did not start")

    def handle(self) -> dict[str, Any]:
        return {"fd": self.ours.fileno(), "pid": self.process.pid, "slot": str(self.slot),
                "root": str(self.root) if self.root else None}


class LearnerSlot:
    """A slot directory and one zygote per hash seed the suites use (`HASH_SEEDS`), each in a
    sandbox that mounts the directory; they start side by side."""

    def __init__(self, limits: Limits):
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        # Named like grade workspaces (grade-PID-...), so a killed batch's slots are swept the same way.
        self.dir = Path(tempfile.mkdtemp(prefix=f"grade-{os.getpid()}-slot-", dir=shm))
        self.dir.chmod(0o755)
        reset_slot(self.dir, None)  # TensorFlow's import wants a usable TMPDIR
        self.zygotes: dict[int, LearnerZygote] = {}
        private = not Cgroup.available(limits.memory_bytes, limits.processes)
        try:
            for seed in HASH_SEEDS:
                self.zygotes[seed] = LearnerZygote(self.dir, seed, limits, private)
            for zygote in self.zygotes.values():
                zygote.wait_ready(limits.import_s)
        except (OSError, RuntimeError):
            self.close()
            raise

    def alive(self) -> bool:
        return all(zygote.process.poll() is None for zygote in self.zygotes.values())

    def handle(self) -> dict[str, Any]:
        return {"slot": str(self.dir), "zygotes": {str(seed): z.handle() for seed, z in self.zygotes.items()}}

    def fds(self) -> tuple[int, ...]:
        return tuple(zygote.ours.fileno() for zygote in self.zygotes.values())

    def close(self) -> None:
        for zygote in self.zygotes.values():
            zygote.close()
        remove_tree(self.dir, ignore_errors=True)


def reset_slot(slot: Path, src: Path | None) -> None:
    """Empty the slot and put this submission's files (from `src`, if given) in it, read-only.

    Only when no worker is left (`scrub` first): the workers' directories are emptied in place,
    since the zygote's sandbox holds them mounted.
    """
    for name in GRADER_DIRS + WORKER_DIRS:
        (slot / name).mkdir(exist_ok=True)
        empty_directory(slot / name, 0o755)
    # `src` is what `grading.sources.prepare` wrote (no links): the modules, and the learner's packages.
    for entry in Path(src).iterdir() if src else ():
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, slot / "src" / entry.name, symlinks=True)
        elif entry.is_file() and not entry.is_symlink():
            shutil.copyfile(entry, slot / "src" / entry.name)
    give_to_worker(*(slot / name for name in WORKER_DIRS))


def empty_directory(directory: Path, mode: int) -> None:
    """Delete what `directory` holds, giving it `mode` first (a worker may have taken its permissions away)."""
    directory.chmod(mode)
    for entry in directory.iterdir():
        remove_tree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()


def worker_dir(zygote: dict[str, Any], name: str) -> Path:
    """Where the grade process finds the directory `name` (of WORKER_DIRS) of the workers `zygote` (a
    `LearnerZygote.handle()`) forks: inside its sandbox where it mounted them there, else in the slot."""
    return Path(zygote["root"] + f"/slot/{name}") if zygote.get("root") else Path(zygote["slot"]) / name


def outputs_of(zygote: dict[str, Any]) -> Path:
    """Where the grade process reads the outputs of the workers `zygote` forks."""
    return worker_dir(zygote, "out")


def fill_slot(learner: dict[str, Any], src: Path | None) -> None:
    """Before a submission's first worker: nothing left of the last one, this one's files in place.

    learner: a `LearnerSlot.handle()`, as the grade process gets it. OSError if a sandbox could not be
    emptied: then the slot must not be used again.
    """
    for zygote in learner["zygotes"].values():
        empty_sandbox(zygote)
        for name in WORKER_DIRS if zygote.get("root") else ():  # its tmpfs, as worker_tmpfs mounted them
            empty_directory(worker_dir(zygote, name), 0o777)
    reset_slot(Path(learner["slot"]), src)


def clear_slot(learner: dict[str, Any]) -> None:
    """After a submission: kill what its workers left running and delete its files."""
    fill_slot(learner, None)


def zygote_for(learner: dict[str, Any] | None, hash_seed: int) -> dict[str, Any] | None:
    """The handle of the slot's zygote for workers with `hash_seed`, or None (then: a fresh worker)."""
    return (learner or {}).get("zygotes", {}).get(str(hash_seed))


def empty_sandbox(zygote: dict[str, Any]) -> None:
    """Have the zygote, its sandbox's init, kill every other process in the sandbox and remove their IPC
    objects (`untrusted/worker.py: scrub_sandbox`); then check from outside that no process is left.

    The zygote shares its pid and IPC namespaces with every worker it forks, for every submission of
    the slot: a process that kept forking outlived a kill of the pids listed once, and a System V
    segment one submission left was read by one graded two later. OSError if anything is left.
    """
    reply = ask_zygote(zygote, {"scrub": True}, (), 10.0)
    if not isinstance(reply, dict) or reply.get("left") != 0 or reply.get("ipc_left") != 0:
        raise OSError(f"the zygote could not empty its sandbox (it answered {reply!r})")
    left = [pid for pid in descendants(zygote["pid"]) if namespace_pid(pid) not in (None, 1)]
    if left:
        raise OSError(f"{len(left)} process(es) of the last submission are still running in the slot")


class ForkedProcess:
    """A worker forked by the zygote: not our child, so it is watched through a pidfd, and how it
    ended is asked of the zygote, its parent."""

    code: int | None
    pidfd: int | None

    def __init__(self, pid: int, zygote: dict[str, Any], inner_pid: int):
        self.pid, self.zygote, self.inner_pid = pid, zygote, inner_pid
        self.code, self.asked = None, False
        try:
            self.pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            self.pidfd = None

    def wait(self, timeout: float = 5.0) -> int | None:
        """Wait until the worker has ended (a pidfd is readable then), for at most `timeout` seconds;
        return its exit code (-N for signal N), or None if it did not end or the zygote did not say."""
        if self.pidfd is not None and select.select([self.pidfd], [], [], timeout)[0]:
            os.close(self.pidfd)
            self.pidfd = None
        if self.pidfd is None and not self.asked:
            self.asked = True
            self.code = self.ask_exit_status()
        return self.code

    def ask_exit_status(self) -> int | None:
        try:
            reply = ask_zygote(self.zygote, {"status": self.inner_pid}, (), 5.0) or {}
        except OSError:
            return None
        return reply.get("exit") if isinstance(reply.get("exit"), int) else None


def ask_zygote(zygote: dict[str, Any], request: dict[str, Any], fds: tuple[int, ...], timeout: float) -> Any:
    """Send one request (with `fds` attached) to the slot's zygote; its JSON answer, or None if none
    came within `timeout`. One grade process uses a slot at a time, so requests never interleave."""
    control = socket.socket(fileno=os.dup(zygote["fd"]))
    try:
        message = json.dumps(request).encode()
        socket.send_fds(control, [message], list(fds)) if fds else control.sendall(message)
        return read_line(control, timeout)
    finally:
        control.close()
