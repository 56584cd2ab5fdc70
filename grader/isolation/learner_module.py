"""The grade process's handle on one learner module running in a worker process of its own.

A `LearnerModule` stands for one learner module (an exercise's `NAME.py`). Tests call
`module.rnn_forward(x, W_xh, W_hh, b)` (through `ModuleCalls`) and get back plain data, or one of the
`SubmissionProblem` exceptions of `grader.core.errors`. A call that hangs is killed at its time
limit and the worker restarted for the next call; a worker that exits fails only the call that was
running. Starting is `launch.py`'s, the wire format `wire.py`'s, naming the limit hit `diagnosis.py`'s.
"""

import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.core import fallbacks
from grader.core.config import Limits
from grader.core.errors import BadOutput, LearnerError, SubmissionProblem, TimeLimit, UnsafeOutput, WorkerExited
from grader.isolation import diagnosis, wire
from grader.isolation.launch import ForkedLauncher, FreshLauncher, Launcher, RunningWorker, ZygoteGone, start_worker
from grader.isolation.processes import kill_group
from grader.isolation.sandbox import PlainProcess
from grader.isolation.wire import Ref
from grader.isolation.zygote import ForkedProcess


@dataclass
class ExportedModel:
    """A learner's Keras model as data: its config, its weight arrays and the saved `.keras` path."""

    config: dict
    weights: list = field(default_factory=list)
    keras_path: Path | None = None


class LearnerModule:
    """Calls into one learner module, `src_dir/name.py`, in its own worker process.

    zygote: when batch grading, the handle of the slot's zygote for `hash_seed`, which forks the
    workers; without one (or once it is gone) each worker is a fresh interpreter.
    """

    def __init__(self, src_dir: Path, work_dir: Path, name: str, limits: Limits | None = None, hash_seed: int = 0,
                 isolation: PlainProcess | None = None, zygote: dict[str, Any] | None = None):
        self.name = name
        self.limits = limits or Limits()
        self.hash_seed = hash_seed
        self.fresh = FreshLauncher(src_dir, work_dir, isolation or PlainProcess(self.limits))
        self.launcher: Launcher = ForkedLauncher(zygote, self.limits) if zygote else self.fresh
        self.worker: RunningWorker | None = None
        self.pids_seen = 0
        self.generation = 0
        self.import_problem: SubmissionProblem | None = None
        self.pending_import: str | None = None
        self.started_at = 0.0

    @property
    def process(self) -> subprocess.Popen[bytes] | ForkedProcess | None:
        """The running worker's process (a `subprocess.Popen` or a `zygote.ForkedProcess`), or None."""
        return self.worker.process if self.worker else None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker and ask it to import the module; the reply is read at the first call."""
        if self.worker is not None or self.import_problem is not None:
            return
        self.generation += 1
        try:
            self.worker = start_worker(self.launcher, self.name, self.hash_seed, self.generation, self.limits)
        except ZygoteGone as gone:
            # The grade must not depend on the zygote: this worker and the rest start as fresh interpreters.
            fallbacks.note("zygote-gone", f"{gone}: workers started as fresh interpreters")
            self.launcher = self.fresh
            self.worker = start_worker(self.launcher, self.name, self.hash_seed, self.generation, self.limits)
        self.pids_seen = 0
        self.started_at = time.monotonic()
        self.pending_import = self.send({"op": "import"})

    def stop(self) -> None:
        """Kill the worker's whole process group (and anything left in its cgroup); forget its objects."""
        worker, self.worker, self.pending_import = self.worker, None, None
        if worker is None:
            return
        kill_group(worker.process)
        worker.process.wait()
        if worker.cgroup is not None:
            worker.cgroup.remove()
        try:
            worker.requests.close()
        except OSError:
            pass  # a request the dead worker never read is still buffered; close() has closed the pipe anyway
        os.close(worker.replies)

    def close(self) -> None:
        self.stop()
        for generation in range(1, self.generation + 1):
            self.fresh.forget(self.name, self.hash_seed, generation)

    # -- calls ----------------------------------------------------------------------------
    def invoke(self, func: str, args: tuple = (), kwargs: dict | None = None, keep: bool = False,
               seed: int | None = None, timeout: float | None = None) -> Any:
        """Run `name.func(*args, **kwargs)` in the worker and return its result as plain data.

        keep: leave the result in the worker and return a `Ref` to it (for a Keras model).
        seed: seed Python, numpy and Keras in the worker just before the call.
        timeout: seconds before the call counts as hung (default `Limits.call_s`).
        """
        self.ensure_imported()
        request_id = self.send({"op": "call", "func": func, "keep": keep, "seed": seed}, args=args, kwargs=kwargs)
        what = f"{self.name}.{func}()"
        result = self.receive(request_id, what, timeout or self.limits.call_s)
        if keep and not isinstance(result, Ref):  # the worker answers for the learner's code: it may say anything
            raise BadOutput(f"{what}: the worker did not keep the result it was asked to keep")
        return result

    def run_model(self, ref: Ref, x: Any, timeout: float | None = None) -> Any:
        """Run a kept Keras model on `x` of shape (N, T, V) in the worker; returns (N, T, V) outputs."""
        self.ensure_imported()
        self.check_ref(ref)
        request_id = self.send({"op": "run_model", "ref": ref.key}, args=(x,))
        return self.receive(request_id, f"running the model ({self.name}.py)", timeout or self.limits.call_s)

    def export_model(self, ref: Ref, timeout: float | None = None) -> ExportedModel:
        """Fetch a kept Keras model as an `ExportedModel` (config, weights, `.keras` archive)."""
        self.ensure_imported()
        self.check_ref(ref)
        keras_name = f"model-{secrets.token_hex(4)}.keras"
        request_id = self.send({"op": "export_model", "ref": ref.key, "keras_name": keras_name})
        value = self.receive(request_id, f"saving the model ({self.name}.py)", timeout or self.limits.call_s)
        if not isinstance(value, dict) or not isinstance(value.get("config"), str):
            raise BadOutput("the worker did not return a model config")
        try:
            config = wire.parse_reply(value["config"], self.limits.reply_bytes)
        except UnsafeOutput as exc:
            raise BadOutput(f"the model's config: {exc}") from None
        assert self.worker is not None
        return ExportedModel(config, value.get("weights", []), self.worker.out / keras_name)

    def ensure_imported(self) -> None:
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

    def check_ref(self, ref: Ref) -> None:
        if ref.generation != self.generation or self.worker is None:
            raise WorkerExited(f"the model built earlier in {self.name}.py was lost when its worker process ended")

    # -- the wire -------------------------------------------------------------------------
    def send(self, request: dict[str, Any], args: tuple = (), kwargs: dict | None = None) -> str:
        assert self.worker is not None
        request = dict(request, id=wire.new_request_id())
        line = wire.encode_request(request, self.worker.instance / "in", args, kwargs, self.check_ref)
        try:
            self.worker.requests.write(line)
            self.worker.requests.flush()
        except OSError:
            pass  # the worker is gone; receive() reports how it ended
        return request["id"]

    def receive(self, request_id: str, what: str, timeout: float) -> Any:
        """Wait up to `timeout` seconds for the reply to `request_id` and decode it."""
        try:
            reply = wire.parse_reply(self.read_line(what, timeout), self.limits.reply_bytes)
        except UnsafeOutput as exc:
            self.stop()
            raise BadOutput(f"{what}: {exc}") from None
        if reply.get("id") != request_id:
            self.stop()
            raise BadOutput(f"the worker answered a different request than {what}")
        if not reply.get("ok"):
            error: dict[str, Any] = reply["error"] if isinstance(reply.get("error"), dict) else {}
            label = diagnosis.error_limit(error, self.limits, self.new_pid_hits())
            raise LearnerError(f"{label}: {what}" if label else what, error)
        assert self.worker is not None
        try:
            return wire.decode(reply.get("value"), request_id, self.worker.out, self.limits.array_bytes,
                               self.generation)
        except UnsafeOutput as exc:
            # `exc` may quote the array file's header, which learner code wrote: not for hidden checks.
            raise BadOutput(f"{what} returned unusable data: {exc}", f"{what} returned unusable data") from None

    def read_line(self, what: str, timeout: float) -> bytes:
        assert self.worker is not None
        try:
            return self.worker.reader.read_line(timeout, self.limits.reply_bytes)
        except TimeoutError:
            self.stop()
            raise TimeLimit(
                f"time limit: {what} did not finish within {timeout:.0f} s (an endless "
                "loop, input(), or a breakpoint left in the code?)"
            ) from None
        except EOFError:
            raise self.exited(what) from None

    def new_pid_hits(self) -> bool:
        """True when the pids cgroup refused a fork since the last time this was asked."""
        worker = self.worker
        hits = worker.cgroup.counters().get("pids", 0) if worker and worker.cgroup is not None else 0
        new_hits, self.pids_seen = hits > self.pids_seen, hits
        return new_hits

    def exited(self, what: str) -> WorkerExited:
        """The WorkerExited for a worker that ended during `what`, naming the limit it hit, if any."""
        assert self.worker is not None
        code = self.worker.process.wait()
        counters = self.worker.cgroup.counters() if self.worker.cgroup is not None else {}
        self.stop()
        return WorkerExited(diagnosis.exit_message(code, counters, self.limits, what))


class ModuleCalls:
    """The tests' view of a learner module: `calls.rnn_forward(x, W_xh, W_hh, b)` runs it in the worker.

    Kept apart from `LearnerModule` so that no learner function name (`encode`, `close`) can collide
    with the grader's own methods; only `invoke`, `run_model` and `export_model` are reserved.
    """

    RESERVED = ("invoke", "run_model", "export_model")

    def __init__(self, module: LearnerModule):
        self._module = module

    def __getattr__(self, func: str) -> Any:
        if func.startswith("_"):
            raise AttributeError(func)
        if func in self.RESERVED:
            return getattr(self._module, func)
        return lambda *args, **kwargs: self._module.invoke(func, args, kwargs)
