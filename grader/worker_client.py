"""The trusted side of a learner worker: start it, send it calls, read back data, enforce time limits.

A `LearnerModule` stands for one learner module (`encoding`, `forward`, `next_letter`) running in a
worker process of its own (see `worker.py`). Tests call `module.rnn_forward(x, W_xh, W_hh, b)` and get
back plain data, or one of the `SubmissionProblem` exceptions below. A call that hangs is killed at
its time limit and the worker restarted for the next call; a worker that exits fails only the call
that was running.
"""

import json
import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader import preload, safe_io
from grader.cgroups import Cgroup
from grader.sandbox import Limits, PlainProcess, kill_group, remove_tree, rlimits

# Signals that mean the worker hit one of its rlimits, and how the report names them.
RLIMIT_SIGNALS = {signal.SIGXFSZ: "output too large", signal.SIGXCPU: "CPU time limit"}


class SubmissionProblem(Exception):
    """Something about the learner's code, not the grader: reported in the test that hit it.

    `message` may quote the learner's exception text; `public_message` never holds more than the
    exception's type and the learner's own source line, so it is safe to show for hidden tests.
    """

    status = "error"

    def __init__(self, message, public_message=None):
        super().__init__(message)
        self.message = message
        self.public_message = public_message or message


class LearnerError(SubmissionProblem):
    """The learner's function raised an exception."""

    def __init__(self, what, error):
        self.type_name = str(error.get("type", "Exception"))
        where = f" at {error['where']}" if error.get("where") else ""
        super().__init__(
            f"{what} raised {self.type_name}{where}: {error.get('message', '')}",
            f"{what} raised {self.type_name}{where}",
        )


class TimeLimit(SubmissionProblem):
    """A call ran past its time limit (an infinite loop, `input()`, a debugger breakpoint)."""


class WorkerExited(SubmissionProblem):
    """The worker process ended during a call (`os._exit`, a crash, a signal)."""


class BadOutput(SubmissionProblem):
    """The worker replied with something that is not acceptable data."""


@dataclass(frozen=True)
class Ref:
    """An object that stays in the worker (a Keras model), valid for one worker generation."""

    key: str
    generation: int


@dataclass
class ExportedModel:
    """A learner's Keras model as data: its config, its weight arrays and the saved `.keras` path."""

    config: dict
    weights: list = field(default_factory=list)
    keras_path: Path | None = None


class LearnerModule:
    """Calls into one learner module, `src_dir/name.py`, in its own worker process."""

    def __init__(self, src_dir, work_dir, name, limits=None, hash_seed=0, isolation=None, zygote=None):
        self.src_dir, self.name = Path(src_dir), name
        self.work_dir = Path(work_dir)
        self.limits = limits or Limits()
        self.hash_seed = hash_seed
        self.isolation = isolation or PlainProcess(self.limits)
        # When batch grading, the slot's zygote for this hash seed (preload.py) forks the workers.
        self.zygote = zygote
        self.process = None
        self.cgroup = None
        self.pids_seen = 0
        self.generation = 0
        self.import_problem = None
        self.pending_import = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self):
        """Start the worker and ask it to import the module; the reply is read at the first call."""
        if self.process is not None or self.import_problem is not None:
            return
        if self.zygote:
            return self.start_forked()
        self.generation += 1
        self.instance = self.work_dir / f"{self.name}-{self.hash_seed}-{self.generation}"
        for sub in ("in", "out", "home"):
            (self.instance / sub).mkdir(parents=True, exist_ok=True)
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        self.cgroup = Cgroup.create(self.limits.memory_bytes, self.limits.processes)
        self.pids_seen = 0
        launch = self.isolation.launch(self.src_dir, self.instance, self.name, (to_worker_r, from_worker_w),
                                       self.hash_seed, self.cgroup)
        with open(self.instance / "output.log", "wb") as log:
            self.process = subprocess.Popen(
                launch.argv, cwd=self.instance / "home", env=launch.env, preexec_fn=launch.preexec_fn,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=(to_worker_r, from_worker_w), start_new_session=True,
            )
        os.close(to_worker_r)
        os.close(from_worker_w)
        self.requests = os.fdopen(to_worker_w, "w")
        self.replies = from_worker_r
        self.reader = safe_io.LineReader(from_worker_r)
        self.started_at = time.monotonic()
        self.pending_import = self.send({"op": "import"})

    def start_forked(self):
        """Like start(), but the worker is forked by the batch slot's zygote, its imports done."""
        self.generation += 1
        # The slot's in/ and out/ are shared by the submission's workers: every file name in them is
        # a request id, unique to its call.
        self.instance = Path(self.zygote["slot"])
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        self.cgroup = Cgroup.create(self.limits.memory_bytes, self.limits.processes)
        self.pids_seen = 0
        request = {"module": self.name, "src": "/slot/src", "in": "/slot/in", "out": "/slot/out",
                   "home": "/slot/home", "rlimits": rlimits(self.limits, self.cgroup)}
        log = os.open(self.instance / "logs" / f"{self.name}-{self.hash_seed}-{self.generation}.log",
                      os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            reply = preload.ask_zygote(self.zygote, request, (to_worker_r, from_worker_w, log), self.limits.import_s)
            pid = preload.host_pid(self.zygote["pid"], reply["pid"]) if reply and "pid" in reply else None
        except (OSError, RuntimeError):
            pid = None
        finally:
            for fd in (to_worker_r, from_worker_w, log):
                os.close(fd)
        if pid is None:
            # The zygote is gone (the OOM killer, a kill from outside): the grade must not depend on
            # it, so this worker and the rest start as fresh interpreters.
            for fd in (to_worker_w, from_worker_r):
                os.close(fd)
            if self.cgroup is not None:
                self.cgroup.remove()
            self.zygote = None
            return self.start()
        if self.cgroup is not None:
            self.cgroup.join(pid)
        self.process = preload.ForkedProcess(pid, self.zygote, reply["pid"])
        self.requests = os.fdopen(to_worker_w, "w")
        self.replies = from_worker_r
        self.reader = safe_io.LineReader(from_worker_r)
        self.started_at = time.monotonic()
        self.pending_import = self.send({"op": "import"})

    def stop(self):
        """Kill the worker's whole process group (and anything left in its cgroup); forget its objects."""
        if self.process is None:
            return
        kill_group(self.process)
        self.process.wait()
        if self.cgroup is not None:
            self.cgroup.remove()
        try:
            self.requests.close()
        except OSError:
            pass  # a request the dead worker never read is still buffered; close() has closed the pipe anyway
        os.close(self.replies)
        self.process = None
        self.pending_import = None

    def close(self):
        self.stop()
        if self.zygote:
            return  # the batch empties the slot once this grade process has ended (batch.grade_in_process)
        for generation in range(1, self.generation + 1):
            remove_tree(self.work_dir / f"{self.name}-{self.hash_seed}-{generation}", ignore_errors=True)

    # -- calls ----------------------------------------------------------------------------
    def invoke(self, func, args=(), kwargs=None, keep=False, seed=None, timeout=None):
        """Run `name.func(*args, **kwargs)` in the worker and return its result as plain data.

        keep: leave the result in the worker and return a `Ref` to it (for a Keras model).
        seed: seed Python, numpy and Keras in the worker just before the call.
        timeout: seconds before the call counts as hung (default `Limits.call_s`).
        """
        self.ensure_imported()
        request = {"op": "call", "func": func, "keep": keep, "seed": seed}
        request_id = self.send(request, args=args, kwargs=kwargs)
        return self.receive(request_id, f"{self.name}.{func}()", timeout or self.limits.call_s)

    def run_model(self, ref, x, timeout=None):
        """Run a kept Keras model on `x` of shape (N, T, V) in the worker; returns (N, T, V) outputs."""
        self.ensure_imported()
        self.check_ref(ref)
        request_id = self.send({"op": "run_model", "ref": ref.key}, args=(x,))
        return self.receive(request_id, f"running the model ({self.name}.py)", timeout or self.limits.call_s)

    def export_model(self, ref, timeout=None):
        """Fetch a kept Keras model as an `ExportedModel` (config, weights, `.keras` archive)."""
        self.ensure_imported()
        self.check_ref(ref)
        keras_name = f"model-{secrets.token_hex(4)}.keras"
        request_id = self.send({"op": "export_model", "ref": ref.key, "keras_name": keras_name})
        value = self.receive(request_id, f"saving the model ({self.name}.py)", timeout or self.limits.call_s)
        if not isinstance(value, dict) or not isinstance(value.get("config"), str):
            raise BadOutput("the worker did not return a model config")
        config = safe_io.parse_json_line(value["config"], self.limits.reply_bytes)
        return ExportedModel(config, value.get("weights", []), self.instance / "out" / keras_name)

    def ensure_imported(self):
        if self.import_problem is not None:
            raise self.import_problem.with_traceback(None)
        self.start()
        if self.pending_import is None:
            return
        remaining = self.limits.import_s - (time.monotonic() - self.started_at)
        try:
            self.receive(self.pending_import, f"importing {self.name}.py", max(remaining, 0.1))
        except SubmissionProblem as problem:
            # Importing is deterministic: remember the failure rather than waiting for it again.
            self.import_problem = problem
            self.stop()
            raise
        self.pending_import = None

    # -- the wire -------------------------------------------------------------------------
    def send(self, request, args=(), kwargs=None):
        request_id = secrets.token_hex(8)
        request = dict(request, id=request_id)
        if args or kwargs:
            counter = iter(range(1 << 30))
            request["args"] = self.encode(list(args), request_id, counter)
            request["kwargs"] = self.encode(kwargs or {}, request_id, counter)
        try:
            self.requests.write(json.dumps(request) + "\n")
            self.requests.flush()
        except (BrokenPipeError, OSError):
            pass  # the worker is gone; receive() reports how it ended
        return request_id

    def encode(self, value, request_id, counter):
        if isinstance(value, np.ndarray):
            name = f"{request_id}-{next(counter)}.npy"
            np.save(self.instance / "in" / name, value, allow_pickle=False)
            return {"__npy__": name}
        if isinstance(value, Ref):
            self.check_ref(value)
            return {"__ref__": value.key}
        if isinstance(value, list | tuple):
            return [self.encode(v, request_id, counter) for v in value]
        if isinstance(value, dict):
            return {k: self.encode(v, request_id, counter) for k, v in value.items()}
        if isinstance(value, np.generic):
            return value.item()
        return value

    def check_ref(self, ref):
        if ref.generation != self.generation or self.process is None:
            raise WorkerExited(
                f"the model built earlier in {self.name}.py was lost when its worker process ended"
            )

    def receive(self, request_id, what, timeout):
        """Wait up to `timeout` seconds for the reply to `request_id` and decode it."""
        line = self.read_line(what, timeout)
        reply = self.parse(line, what)
        if reply.get("id") != request_id:
            self.stop()
            raise BadOutput(f"the worker answered a different request than {what}")
        if not reply.get("ok"):
            error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            label = self.limit_label(error)
            raise LearnerError(f"{label}: {what}" if label else what, error)
        try:
            return self.decode(reply.get("value"), request_id)
        except safe_io.UnsafeOutput as exc:
            raise BadOutput(f"{what} returned unusable data: {exc}") from None

    def limit_label(self, error):
        """The limit that a learner exception is the symptom of ("process limit: ..."), or None."""
        kind, message = error.get("type"), str(error.get("message", ""))
        hits = self.cgroup.counters().get("pids", 0) if self.cgroup is not None else 0
        new_hits, self.pids_seen = hits > self.pids_seen, hits
        if new_hits or kind == "BlockingIOError" or "can't start new thread" in message:
            return f"process limit ({self.limits.processes} processes or threads)"
        # Python ignores SIGXFSZ, so a write past RLIMIT_FSIZE fails with EFBIG or a short write.
        if kind == "OSError" and ("File too large" in message or " requested and " in message):
            return f"output too large (a file or the printed output passed {self.limits.file_bytes >> 20} MiB)"
        if kind == "MemoryError":
            return f"memory limit ({self.limits.memory_bytes >> 20} MiB)"
        return None

    def parse(self, line, what):
        try:
            reply = safe_io.parse_json_line(line, self.limits.reply_bytes)
        except safe_io.UnsafeOutput as exc:
            self.stop()
            raise BadOutput(f"{what}: {exc}") from None
        if not isinstance(reply, dict):
            self.stop()
            raise BadOutput(f"{what}: the worker's reply is not a JSON object")
        return reply

    def read_line(self, what, timeout):
        try:
            return self.reader.read_line(timeout, self.limits.reply_bytes)
        except TimeoutError:
            self.stop()
            raise TimeLimit(
                f"time limit: {what} did not finish within {timeout:.0f} s (an endless "
                "loop, input(), or a breakpoint left in the code?)"
            ) from None
        except EOFError:
            raise self.exited(what) from None
        except safe_io.UnsafeOutput as exc:
            self.stop()
            raise BadOutput(f"{what}: {exc}") from None

    def exited(self, what):
        """The WorkerExited for a worker that ended during `what`, naming the limit it hit, if any."""
        code = self.process.wait()
        counters = self.cgroup.counters() if self.cgroup is not None else {}
        self.stop()
        # bwrap reports a child killed by signal N as exit status 128 + N; a forked worker's is unknown.
        killed_by = None if code is None else -code if code < 0 else code - 128 if code > 128 else None
        if killed_by in RLIMIT_SIGNALS:
            limit = RLIMIT_SIGNALS[killed_by]
            return WorkerExited(f"{limit}: {what} was stopped ({self.describe_limit(limit)})")
        if killed_by == signal.SIGKILL and counters.get("memory"):
            return WorkerExited(f"memory limit: {what} used more than {self.limits.memory_bytes >> 20} MiB")
        if counters.get("pids"):
            return WorkerExited(f"process limit: {what} started more than {self.limits.processes} "
                                "processes or threads")
        how = f"killed by signal {killed_by}" if killed_by else "it ended" if code is None else f"exit status {code}"
        return WorkerExited(
            f"the worker process ended ({how}) during {what}: does your code call "
            "os._exit(), sys.exit() at import, or crash the interpreter?"
        )

    def describe_limit(self, limit):
        if limit == "output too large":
            return f"a file or the printed output passed {self.limits.file_bytes >> 20} MiB"
        return f"it used more than {self.limits.cpu_s} s of CPU time"

    def decode(self, value, request_id):
        if isinstance(value, list):
            return [self.decode(v, request_id) for v in value]
        if isinstance(value, dict):
            if set(value) == {"__npy__"}:
                name = value["__npy__"]
                if not isinstance(name, str) or not name.startswith(request_id + "-"):
                    raise safe_io.UnsafeOutput("an array file not written for this call")
                return safe_io.load_npy(self.instance / "out", name, self.limits.array_bytes)
            if set(value) == {"__ref__"}:
                return Ref(str(value["__ref__"]), self.generation)
            return {str(k): self.decode(v, request_id) for k, v in value.items()}
        return value


class ModuleCalls:
    """The tests' view of a learner module: `calls.rnn_forward(x, W_xh, W_hh, b)` runs it in the worker.

    Kept apart from `LearnerModule` so that no learner function name (`encode`, `close`) can collide
    with the grader's own methods; only `invoke`, `run_model` and `export_model` are reserved.
    """

    RESERVED = ("invoke", "run_model", "export_model")

    def __init__(self, module):
        self._module = module

    def __getattr__(self, func):
        if func.startswith("_"):
            raise AttributeError(func)
        if func in self.RESERVED:
            return getattr(self._module, func)
        return lambda *args, **kwargs: self._module.invoke(func, args, kwargs)
