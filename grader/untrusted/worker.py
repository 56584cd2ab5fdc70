"""The learner-side worker: imports one learner module and runs calls on it, returning data only.

This file runs in the *untrusted* process, as a script (`python -s -P -B worker.py ...`), and must not
import the `grader` package: nothing of the grader (suites, reference solutions, expected values)
is ever loaded here. It speaks one JSON object per line over two inherited pipes:

    request  {"id", "op": "import" | "call" | "run_model" | "export_model", "func", "args", "kwargs", "keep", "seed"}
    response {"id", "ok": true, "value": V} or {"id", "ok": false, "error": {"type", "mro", "message", "where"}}

Arrays travel as `.npy` files: the grader writes arguments into IN_DIR, the worker writes results into
OUT_DIR under names the grader chose (`<id>-<k>.npy`), and values refer to them as {"__npy__": name}.
Objects that must stay here (a Keras model) are kept in a table and referred to as {"__ref__": key}.
The grader trusts none of this: it re-validates every value and file it reads back.
"""

import importlib.abc
import importlib.util
import json
import os
import random
import signal
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

if TYPE_CHECKING:  # only for the annotations: the worker itself imports neither
    import socket

    from numpy.typing import ArrayLike

MESSAGE_LIMIT = 2000
# The grader's own packages: never importable from learner code, also not through an editable install.
BLOCKED_PACKAGES = ("grader", "solutions", "tests")


class BlockGraderPackages(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None) -> None:
        if name.split(".")[0] in BLOCKED_PACKAGES:
            raise ImportError(f"{name} is not available to learner code")
        return None


def hide_grader_packages() -> None:
    """Drop editable-install finders (they map `grader` to the repository) and refuse its packages.

    A speed bump, not a wall: the sandbox hides the files themselves.
    """
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
    sys.meta_path.insert(0, BlockGraderPackages())
    for name in [m for m in sys.modules if m.split(".")[0] in BLOCKED_PACKAGES]:
        del sys.modules[name]


class NotData(TypeError):
    """A learner function returned something that is not plain data."""


def load_module(src_dir: str, name: str) -> ModuleType:
    """Import `src_dir/name.py` as module `name`, with src_dir importable for the learner's own imports."""
    if src_dir not in sys.path:
        # Appended, not prepended: a learner's numpy.py must not shadow the real numpy.
        sys.path.append(src_dir)
    spec = importlib.util.spec_from_file_location(name, os.path.join(src_dir, f"{name}.py"))
    if spec is None or spec.loader is None:  # never for a .py path: a file loader always takes it
        raise ImportError(f"{name}.py cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Worker:
    def __init__(self, src_dir: str, in_dir: str, out_dir: str, module_name: str):
        self.src_dir, self.in_dir, self.out_dir = src_dir, in_dir, out_dir
        self.module_name = module_name
        self.module: ModuleType | None = None
        self.objects: dict[str, Any] = {}
        self.outputs = 0

    # -- values in and out -------------------------------------------------------------------
    def decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if isinstance(value, dict):
            if "__npy__" in value:
                return np.load(os.path.join(self.in_dir, value["__npy__"]), allow_pickle=False)
            if "__ref__" in value:
                return self.objects[value["__ref__"]]
            return {k: self.decode(v) for k, v in value.items()}
        return value

    def encode(self, value: Any, request_id: str) -> Any:
        if value is None or isinstance(value, bool | int | float | str):
            return value if type(value) in (bool, int, float, str, type(None)) else _plain(value)
        if isinstance(value, np.ndarray | np.generic):
            return {"__npy__": self.save_array(np.asarray(value), request_id)}
        if isinstance(value, list | tuple):
            return [self.encode(v, request_id) for v in value]
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {k: self.encode(v, request_id) for k, v in value.items()}
        raise NotData(
            f"returned a {type(value).__module__}.{type(value).__qualname__} object; return plain data "
            "(numbers, strings, lists, dicts or numpy arrays)"
        )

    def save_array(self, array: "ArrayLike", request_id: str) -> str:
        array = np.array(array, copy=True, subok=False)
        if array.dtype.kind not in "biuf":
            raise NotData(f"returned an array of dtype {array.dtype}; return a numeric numpy array")
        name = f"{request_id}-{self.outputs}.npy"
        self.outputs += 1
        np.save(os.path.join(self.out_dir, name), array, allow_pickle=False)
        return name

    # -- operations ------------------------------------------------------------------------
    def op_import(self, request: dict[str, Any]) -> None:
        self.module = self.module or load_module(self.src_dir, self.module_name)
        return None

    def op_call(self, request: dict[str, Any]) -> Any:
        self.op_import(request)
        func = getattr(self.module, request["func"], None)
        if not callable(func):
            raise AttributeError(
                f"{self.module_name}.py has no function {request['func']}(); define it with that exact name"
            )
        configure_tensorflow()
        if request.get("seed") is not None:
            seed_everything(request["seed"])
        result = func(*self.decode(request.get("args", [])), **self.decode(request.get("kwargs", {})))
        if request.get("keep"):
            key = f"obj-{len(self.objects)}"
            self.objects[key] = result
            return {"__ref__": key}
        return self.encode(result, request["id"])

    def op_run_model(self, request: dict[str, Any]) -> Any:
        """Run a kept Keras model on one input array: the learner's model, in the learner's process."""
        model = self.objects[request["ref"]]
        (x,) = self.decode(request["args"])
        return self.encode(np.asarray(model(x, training=False)), request["id"])

    def op_export_model(self, request: dict[str, Any]) -> dict[str, Any]:
        """Save a kept Keras model: its config JSON, its weights as arrays, and a `.keras` archive."""
        model = self.objects[request["ref"]]
        model.save(os.path.join(self.out_dir, request["keras_name"]))
        weights = [self.save_array(w, request["id"]) for w in model.get_weights()]
        return {"config": model.to_json(), "weights": [{"__npy__": w} for w in weights]}


def _plain(value: Any) -> bool | int | float | str:
    """Turn a subclass of a builtin scalar (a str with a rigged __eq__) into the plain builtin."""
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    raise NotData(f"returned an unsupported {type(value).__qualname__}")


def configure_tensorflow() -> None:
    """Once the learner's code has loaded TensorFlow: no Grappler graph rewrites.

    The models are tiny, so rewriting the graph of every `model.fit` costs more than it saves
    (docs/performance.md) and leaves the results bit-identical here. It only sets Python state, so
    the zygote may call it before forking.
    """
    tf = sys.modules.get("tensorflow")
    if tf is not None and not tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer"):
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)


def describe_error(exc: BaseException, src_dir: str) -> dict[str, Any]:
    """Exception type (and the names of its classes, for a hidden check to name the nearest builtin one),
    message and the innermost line of learner code where it happened."""
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith(src_dir):
            where = f"{os.path.basename(frame.filename)} line {frame.lineno}, in {frame.name}"
            break
    message = str(exc)[:MESSAGE_LIMIT]
    return {"type": type(exc).__name__, "mro": [cls.__name__ for cls in type(exc).__mro__], "message": message,
            "where": where}


def serve(worker: Worker, requests: TextIO, responses: TextIO) -> None:
    me = os.getpid()
    for line in requests:
        request = json.loads(line)
        try:
            value = getattr(worker, "op_" + request["op"])(request)
            reply = {"id": request["id"], "ok": True, "value": value}
        except BaseException as exc:  # noqa: B036 - learner code may raise anything, SystemExit included
            reply = {"id": request["id"], "ok": False, "error": describe_error(exc, worker.src_dir)}
        if os.getpid() != me:
            os._exit(0)  # a process the learner's code forked must not answer, nor read the next request
        responses.write(json.dumps(reply) + "\n")
        responses.flush()


def main(argv: list[str]) -> None:
    if argv[1] == "--zygote":
        return zygote(int(argv[2]), tensorflow="--numpy-only" not in argv)
    src_dir, in_dir, out_dir, module_name, request_fd, response_fd = argv[1:7]
    hide_grader_packages()
    requests = os.fdopen(int(request_fd), "r")
    responses = os.fdopen(int(response_fd), "w")
    serve(Worker(src_dir, in_dir, out_dir, module_name), requests, responses)


def zygote(control_fd: int, tensorflow: bool = True) -> None:
    """Import TensorFlow (or numpy alone) once, then fork one fresh worker per request on the control
    socket.

    Forking works only before TensorFlow has run an op, so the zygote runs none. It is made
    non-dumpable, so a worker (same uid) can neither ptrace it nor open its file descriptors through
    /proc; each child closes the control socket before anything else. It is its sandbox's init
    (pid 1) and handles no signal, so no worker can kill it: the next submission needs it. The
    workers are the zygote's children, so it alone can tell how one ended: {"status": PID} asks (see
    `exit_status`); as init it also reaps what their own children leave behind.
    """
    import ctypes
    import gc
    import socket

    # Python's SIGINT handler is the one signal a worker could still deliver to its init.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    hide_grader_packages()
    if tensorflow:
        import keras  # noqa: F401 - the point: paid once, shared by every forked worker

        configure_tensorflow()
    # Keep the collector away from what was imported: a child's collection would otherwise touch
    # every object's header and copy the zygote's pages one by one.
    gc.freeze()

    ctypes.CDLL(None).prctl(4, 0)  # PR_SET_DUMPABLE = 4
    control = socket.socket(fileno=control_fd)
    control.sendall(b'{"ready": true}\n')
    ended: dict[int, int] = {}
    while True:
        message, fds, _, _ = socket.recv_fds(control, 1 << 16, 3)
        if not message:
            return
        request = json.loads(message)
        if "status" in request:
            reply: dict[str, Any] = {"exit": exit_status(request["status"], ended)}
        elif "scrub" in request:
            reply = scrub_sandbox()
            ended.clear()
        else:
            reply = {"pid": fork_worker(request, fds, control)}
            ended.pop(reply["pid"], None)  # a reused pid: an old status no one asked for is not this one's
        for fd in fds:
            os.close(fd)
        control.sendall(json.dumps(reply).encode() + b"\n")
        ended.update(reap_children())


def fork_worker(request: dict[str, Any], fds: list[int], control: "socket.socket") -> int:
    """In a child: limits, output to the job's log, then serve requests on the pipes in `fds`."""
    import resource

    pid = os.fork()
    if pid == 0:
        try:
            control.close()
            signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a fresh interpreter
            os.setsid()
            os.dup2(fds[2], 1)  # the learner's printed output goes to the job's log
            os.dup2(fds[2], 2)
            for name, value in request["rlimits"].items():
                which = getattr(resource, name)
                hard = resource.getrlimit(which)[1]
                value = value if hard == resource.RLIM_INFINITY else min(value, hard)
                resource.setrlimit(which, (value, value))
            os.chdir(request["home"])
            worker = Worker(request["src"], request["in"], request["out"], request["module"])
            serve(worker, os.fdopen(fds[0], "r"), os.fdopen(fds[1], "w"))
        finally:
            os._exit(0)
    return pid


def scrub_sandbox(wait_s: float = 2.0) -> dict[str, int]:
    """Between two submissions, as the sandbox's init: kill every other process in it, then remove what
    they left in its IPC namespace, so nothing of one submission can reach the next one.

    kill(-1) from init signals every process of the namespace at once, so a chain of forks (each child a
    new pid) cannot outrun it, as it outran one pass over a list of pids. Returns how many processes and
    IPC objects are left ({"left": 0, "ipc_left": 0} when the sandbox is empty).
    """
    import time

    deadline = time.monotonic() + wait_s
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass  # no process left to signal
        reap_children()
        left = [name for name in os.listdir("/proc") if name.isdigit() and int(name) != os.getpid()]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.001)
    return {"left": len(left), "ipc_left": remove_ipc_objects()}


IPC_RMID = 0


def remove_ipc_objects() -> int:
    """Remove every System V segment, semaphore set and message queue of this IPC namespace, and every
    POSIX shared-memory file and message queue of the sandbox; return how many could not be removed.

    The workers run as this process's uid, so it may remove what they created (IPC_RMID needs the
    creator's uid, which a worker cannot change).
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    left = 0
    for kind in ("shm", "sem", "msg"):
        try:
            with open(f"/proc/sysvipc/{kind}") as table:
                idents = [int(row.split()[1]) for row in table.read().splitlines()[1:] if row.strip()]
        except OSError:
            continue
        for ident in idents:
            removed = (libc.semctl(ident, 0, IPC_RMID) if kind == "sem"
                       else getattr(libc, f"{kind}ctl")(ident, IPC_RMID, None))
            left += removed != 0
    for directory in ("/dev/shm", "/dev/mqueue"):
        left += remove_entries(directory)
    return left


def remove_entries(directory: str) -> int:
    """Delete everything in `directory` (made writable first: a worker may have taken permissions away);
    how many entries could not be deleted."""
    import shutil

    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    left = 0
    for name in names:
        path = os.path.join(directory, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                for root, dirs, _ in os.walk(path):
                    for sub in [root, *(os.path.join(root, d) for d in dirs)]:
                        os.chmod(sub, 0o700)
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except OSError:
            left += 1
    return left


def exit_status(pid: int, ended: dict[int, int], wait_s: float = 1.0) -> int | None:
    """How child `pid` ended (its exit code, or -N for signal N), or None if it has not within `wait_s`.

    The grade process asks once a pidfd has told it the worker ended, so the status is normally here
    at once; `wait_s` only bounds a request for a worker that is still running.
    """
    import time

    deadline = time.monotonic() + wait_s
    while pid not in ended and time.monotonic() < deadline:
        ended.update(reap_children())
        time.sleep(0.001)
    return ended.pop(pid, None)


def reap_children() -> dict[int, int]:
    """Collect every child that has ended, so none lingers as a zombie; never wait for a running one.

    Returns {pid: exit code, or -N for signal N}.
    """
    ended: dict[int, int] = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended[pid] = os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    main(sys.argv)
