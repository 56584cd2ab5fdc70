"""Pay TensorFlow's import once per batch slot, not once per submission.

A batch slot uses processes that imported TensorFlow (or numpy) and ran no op (forking after an op
hangs the child; forking before is safe and bit-identical):

- `LearnerSlot`: a slot directory and, for each hash seed the suites use, a `LearnerZygote`
  (`worker.py --zygote`) inside a bubblewrap sandbox that sees only the system, Python and the slot
  (mounted at /slot). For each submission the grade process puts the learner's files in the slot
  (`fill_slot`), and the zygote of the worker's hash seed forks a fresh worker: TensorFlow imported
  for seed 0 (every module), numpy alone for the seeds that compare `set()` order (a fresh numpy
  interpreter in a new sandbox costs about 0.1 CPU-s, and a submission needs three). Each worker
  is moved into a cgroup of its own before it reads its first request, and killed with everything
  it started when the submission is done; the slot is emptied in between (`clear_slot`), so no
  submission sees another's files or processes. The workers of one submission share the slot's
  directories: they run the same learner's code. The sandbox sees the slot read-only but for the
  workers' own out/, home/ and tmp/ (bind mounts): a worker cannot swap a directory the grader
  writes in (src/, in/, logs/) for a link that leads the grader's writes out of the slot, even
  where it runs as the grader's own uid.
- `DeviceServer`: `device_check.py --serve-fd`, a trusted process that forks a child per model;
  one per batch process, shared by its slots. It is a `ForkServer` looping in `fork_per_request`,
  as the batch's grade server is (grade_fork.py).

The grade process of a slot finds them through the environment variable GRADER_PRELOAD (socket
file descriptors it inherits, the zygotes' pids and the slot directory); learner workers never see
that variable, since they start with a clean environment.
"""

import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader import safe_io, sandbox

ENV = "GRADER_PRELOAD"
GRADER_DIRS = ("src", "in", "logs")  # written by the grade process, read-only in the sandbox
WORKER_DIRS = ("out", "home", "tmp")  # the workers' own, mounted writable: emptied in place, never replaced
PR_SET_PDEATHSIG = 1


def die_with_parent():
    """In a child before exec: get SIGKILL when the process (thread) that started it dies, kill -9 too."""
    import ctypes

    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, 9)


def read_line(sock, timeout):
    """One newline-terminated JSON message from `sock`, or None when it closes, times out or is junk."""
    try:
        return json.loads(safe_io.LineReader(sock.fileno()).read_line(timeout, 1 << 16))
    except (TimeoutError, EOFError, OSError, ValueError, safe_io.UnsafeOutput):
        return None


class SocketProcess:
    """A process started with one end of a socketpair (`ours` is the other); `close` ends both."""

    def close(self):
        self.ours.close()
        sandbox.kill_group(self.process)
        self.process.wait()


class LearnerZygote(SocketProcess):
    """A sandboxed process that imported what the workers of one hash seed need, forking one learner
    worker per request: TensorFlow for seed 0 (every module), numpy alone for the seeds that only
    compare `set()` order across processes."""

    def __init__(self, slot, hash_seed):
        self.slot = slot
        self.ours, theirs = socket.socketpair()
        env = {**sandbox.worker_environment("/slot/home", hash_seed), "TMPDIR": "/slot/tmp"}
        # No shared /tmp: one submission's files must not outlive it (TMPDIR is the slot's tmp/).
        mounts = ["--ro-bind", str(slot), "/slot"]
        for name in WORKER_DIRS:
            mounts += ["--bind", str(slot / name), f"/slot/{name}"]
        argv = sandbox.sandbox_command([*mounts, "--chdir", "/slot"], env, private_tmp=False, as_init=True)
        argv += ["--zygote", str(theirs.fileno()), *([] if hash_seed == 0 else ["--numpy-only"])]
        # No rlimits of its own: it runs no learner code, and each forked worker sets its limits
        # before any, which it could not raise above the zygote's (with a worker's own limits here,
        # a fork bomb in one slot used up the uid-wide RLIMIT_NPROC of every other slot's workers).
        self.process = subprocess.Popen(argv, env={"PATH": "/usr/bin:/bin"}, pass_fds=(theirs.fileno(),),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        theirs.close()

    def wait_ready(self, timeout):
        ready = read_line(self.ours, timeout)
        if not ready or not ready.get("ready"):
            raise RuntimeError("a preloaded learner process (zygote) did not start")

    def handle(self):
        return {"fd": self.ours.fileno(), "pid": self.process.pid, "slot": str(self.slot)}


class LearnerSlot:
    """A slot directory and one zygote per hash seed the suites use (`sandbox.HASH_SEEDS`), each in a
    sandbox that mounts the directory; they start side by side."""

    def __init__(self, limits):
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        # Named like grade workspaces (grade-PID-...), so a killed batch's slots are swept the same way.
        self.dir = Path(tempfile.mkdtemp(prefix=f"grade-{os.getpid()}-slot-", dir=shm))
        self.dir.chmod(0o755)
        reset_slot(self.dir, None)  # TensorFlow's import wants a usable TMPDIR
        self.zygotes = {}
        try:
            for seed in sandbox.HASH_SEEDS:
                self.zygotes[seed] = LearnerZygote(self.dir, seed)
            for zygote in self.zygotes.values():
                zygote.wait_ready(limits.import_s)
        except (OSError, RuntimeError):
            self.close()
            raise

    def alive(self):
        return all(zygote.process.poll() is None for zygote in self.zygotes.values())

    def handle(self):
        return {"slot": str(self.dir), "zygotes": {str(seed): z.handle() for seed, z in self.zygotes.items()}}

    def fds(self):
        return tuple(zygote.ours.fileno() for zygote in self.zygotes.values())

    def close(self):
        for zygote in self.zygotes.values():
            zygote.close()
        sandbox.remove_tree(self.dir, ignore_errors=True)


class ForkServer(SocketProcess):
    """A trusted server, `python ARGS --serve-fd FD`, that forks a child per request sent on its
    SOCK_SEQPACKET control socket (`fork_per_request`); it dies with the thread that started it."""

    def __init__(self, args, env=None):
        self.ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            [sys.executable, *args, "--serve-fd", str(theirs.fileno())], pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            cwd=Path(__file__).resolve().parents[1], start_new_session=True, preexec_fn=die_with_parent)
        theirs.close()


class DeviceServer(ForkServer):
    """The trusted device checker with TensorFlow imported, one child per model (each child configures
    the devices: see `device_check.serve_forked`).

    One per batch process, shared by every slot: a check sends its own socket over the SOCK_SEQPACKET
    control socket (one message each, so grade processes may send at once) and gets its answer there.
    """

    def __init__(self):
        super().__init__(["-s", "-P", "-B", "-m", "grader.device_check"],
                         {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"})

    def handle(self):
        return {"fd": self.ours.fileno()}


def fork_per_request(fd, handle, max_bytes):
    """The loop of a trusted server (the device server, the grade server): for each message on the
    SOCK_SEQPACKET control socket `fd` that carries descriptors, fork a child that runs
    `handle(message, fds)`, which must end the child; until the socket closes. The server itself
    runs no request, so what it imported stays safe to fork (no TensorFlow op, no grading)."""
    import gc

    from grader.worker import reap_children

    gc.freeze()  # children's collections leave the imported objects' pages shared
    control = socket.socket(fileno=fd)
    while True:
        message, fds, _, _ = socket.recv_fds(control, max_bytes, 64)
        if not message:
            return
        if fds and os.fork() == 0:
            try:  # the child must never return into this loop
                control.close()
                handle(message, fds)
            finally:
                os._exit(1)
        for received in fds:
            os.close(received)
        reap_children()


def ask_device_server(handle, request, timeout):
    """Send one check to the device server; its JSON answer, or None if none came within `timeout`."""
    control = socket.socket(fileno=os.dup(handle["fd"]))
    ours, theirs = socket.socketpair()
    try:
        socket.send_fds(control, [b"check"], [theirs.fileno()])
        theirs.close()
        ours.sendall((json.dumps(request) + "\n").encode())
        return read_line(ours, timeout)
    except OSError:
        return None
    finally:
        control.close()
        theirs.close()
        ours.close()


class Slot:
    """The preloaded processes one batch slot uses, and how a grade process is told about them."""

    def __init__(self, limits, device, learner=True):
        self.device = device
        self.learner = LearnerSlot(limits) if learner and sandbox.bubblewrap_works() else None

    def alive(self):
        return self.learner is None or self.learner.alive()

    def environment(self):
        handles = {"device": self.device.handle()}
        if self.learner:
            handles["learner"] = self.learner.handle()
        return {ENV: json.dumps(handles)}

    def fds(self):
        """The socket ends the grade process must inherit."""
        return (self.device.ours.fileno(),) + (self.learner.fds() if self.learner else ())

    def clear(self):
        """Empty the learner slot after a submission; if that fails, retire the slot (the pool then
        replaces it) rather than let the next submission see what is left."""
        if self.learner and self.alive():
            try:
                clear_slot(self.learner.handle())
            except OSError:
                self.learner.close()

    def close(self):
        if self.learner:
            self.learner.close()


def attached():
    """The preloaded processes this grade process was given (an empty dict when graded alone)."""
    try:
        return json.loads(os.environ.get(ENV, "{}"))
    except ValueError:
        return {}


def reset_slot(slot, src):
    """Empty the slot and put this submission's files (from `src`, if given) in it, read-only.

    Only when no worker is left (`scrub` first): the workers' directories are emptied in place,
    since the zygote's sandbox holds them mounted.
    """
    for name in GRADER_DIRS + WORKER_DIRS:
        directory = slot / name
        directory.mkdir(exist_ok=True)
        directory.chmod(0o755)  # a worker may have taken its own directory's permissions away
        for entry in directory.iterdir():
            sandbox.remove_tree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    for file in Path(src).iterdir() if src else ():
        if file.is_file():
            shutil.copyfile(file, slot / "src" / file.name)
    sandbox.give_to_worker(*(slot / name for name in WORKER_DIRS))


def fill_slot(learner, src):
    """Before a submission's first worker: nothing left of the last one, this one's files in place.

    learner: a `LearnerSlot.handle()`, as the grade process gets it.
    """
    for zygote in learner["zygotes"].values():
        scrub(zygote["pid"])
    reset_slot(Path(learner["slot"]), src)


def clear_slot(learner):
    """After a submission: kill what its workers left running and delete its files."""
    fill_slot(learner, None)


def zygote_for(learner, hash_seed):
    """The handle of the slot's zygote for workers with `hash_seed`, or None (then: a fresh worker)."""
    return (learner or {}).get("zygotes", {}).get(str(hash_seed))


def scrub(zygote_pid):
    """Kill every process in the zygote's sandbox but the zygote, its init (pid 1)."""
    for pid in descendants(zygote_pid):
        if namespace_pid(pid) not in (None, 1):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


def namespace_pid(pid):
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    nspid = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
    return int(nspid[-1]) if nspid else None


class ForkedProcess:
    """A worker forked by the zygote: not our child, so it is watched through a pidfd, and how it
    ended is asked of the zygote, its parent."""

    def __init__(self, pid, zygote, inner_pid):
        self.pid, self.zygote, self.inner_pid = pid, zygote, inner_pid
        self.code, self.asked = None, False
        try:
            self.pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            self.pidfd = None

    def wait(self, timeout=5.0):
        """Wait until the worker has ended (a pidfd is readable then), for at most `timeout` seconds;
        return its exit code (-N for signal N), or None if it did not end or the zygote did not say."""
        if self.pidfd is not None and select.select([self.pidfd], [], [], timeout)[0]:
            os.close(self.pidfd)
            self.pidfd = None
        if self.pidfd is None and not self.asked:
            self.asked = True
            self.code = self.ask_exit_status()
        return self.code

    def ask_exit_status(self):
        try:
            reply = ask_zygote(self.zygote, {"status": self.inner_pid}, (), 5.0) or {}
        except OSError:
            return None
        return reply.get("exit") if isinstance(reply.get("exit"), int) else None


def ask_zygote(zygote, request, fds, timeout):
    """Send one request (with `fds` attached) to the slot's zygote; its JSON answer, or None if none
    came within `timeout`. One grade process uses a slot at a time, so requests never interleave."""
    control = socket.socket(fileno=os.dup(zygote["fd"]))
    try:
        message = json.dumps(request).encode()
        socket.send_fds(control, [message], list(fds)) if fds else control.sendall(message)
        return read_line(control, timeout)
    finally:
        control.close()


def host_pid(zygote_pid, inner_pid, timeout=5.0):
    """The host pid of the zygote's child whose pid inside the sandbox is `inner_pid`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in descendants(zygote_pid):
            if namespace_pid(pid) == inner_pid:
                return pid
        time.sleep(0.01)
    raise RuntimeError(f"the zygote's worker (pid {inner_pid} in its sandbox) was not found")


def descendants(pid):
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
