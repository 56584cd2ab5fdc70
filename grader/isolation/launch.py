"""Start one learner worker: one path (pipes, a cgroup, the import request), two launchers.

- `FreshLauncher`: a new interpreter, `untrusted/worker.py`, in the bubblewrap sandbox or a plain
  process (`sandbox.choose`), in a job directory of its own under the grade workspace;
- `ForkedLauncher`: forked by the batch slot's zygote for its hash seed (`zygote.py`), its imports
  done; its job directory is the slot.

Either way the worker is in its cgroup (where one can be made) before it reads its first request,
and its rlimits are set before any learner code runs.
"""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from grader.core.config import Limits
from grader.isolation import safe_io
from grader.isolation.cgroups import Cgroup
from grader.isolation.limits import rlimits
from grader.isolation.processes import host_pid as find_host_pid
from grader.isolation.processes import remove_tree, seen_inside
from grader.isolation.sandbox import PlainProcess
from grader.isolation.zygote import ForkedProcess, ask_zygote, outputs_of


class ZygoteGone(Exception):
    """The slot's zygote did not fork the worker (the OOM killer, a kill from outside)."""


@dataclass
class Spawned:
    process: subprocess.Popen[bytes] | ForkedProcess  # either has `pid`, `wait(timeout)`
    instance: Path  # the worker's job directory: in/ (and its log) are there
    out: Path  # where the grade process reads the worker's outputs: the job's out/, or inside its sandbox


@dataclass
class RunningWorker:
    """A started worker and the grade process's ends of its pipes."""

    process: subprocess.Popen[bytes] | ForkedProcess
    cgroup: Cgroup | None
    instance: Path
    out: Path
    requests: IO[str]
    replies: int
    reader: safe_io.LineReader


class Launcher(Protocol):
    def spawn(self, name: str, hash_seed: int, generation: int, fds: tuple[int, int],
              cgroup: Cgroup | None) -> Spawned: ...

    def forget(self, name: str, hash_seed: int, generation: int) -> None: ...


class FreshLauncher:
    """A new interpreter per worker, isolated as `isolation` says (a `sandbox.PlainProcess` or
    `sandbox.Bubblewrap`)."""

    def __init__(self, src_dir: Path, work_dir: Path, isolation: PlainProcess):
        self.src_dir, self.work_dir, self.isolation = Path(src_dir), Path(work_dir), isolation

    def instance(self, name: str, hash_seed: int, generation: int) -> Path:
        return self.work_dir / f"{name}-{hash_seed}-{generation}"

    def spawn(self, name: str, hash_seed: int, generation: int, fds: tuple[int, int],
              cgroup: Cgroup | None) -> Spawned:
        instance = self.instance(name, hash_seed, generation)
        for sub in ("in", "out", "home"):
            (instance / sub).mkdir(parents=True, exist_ok=True)
        launch = self.isolation.launch(self.src_dir, instance, name, fds, hash_seed, cgroup)
        with open(instance / "output.log", "wb") as log:
            process = subprocess.Popen(
                launch.argv, cwd=instance / "home", env=launch.env, preexec_fn=launch.preexec_fn,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, pass_fds=fds,
                start_new_session=True,
            )
        out = seen_inside(process.pid, launch.out_inside) if launch.out_inside else instance / "out"
        return Spawned(process, instance, out)

    def forget(self, name: str, hash_seed: int, generation: int) -> None:
        remove_tree(self.instance(name, hash_seed, generation), ignore_errors=True)


class ForkedLauncher:
    """Workers forked by the batch slot's zygote for their hash seed (a `LearnerSlot` handle's entry)."""

    def __init__(self, zygote: dict[str, Any], limits: Limits):
        self.zygote, self.limits = zygote, limits

    def spawn(self, name: str, hash_seed: int, generation: int, fds: tuple[int, int],
              cgroup: Cgroup | None) -> Spawned:
        # The slot's in/ and out/ are shared by the submission's workers: every file name in them is
        # a request id, unique to its call.
        slot = Path(self.zygote["slot"])
        request = {"module": name, "src": "/slot/src", "in": "/slot/in", "out": "/slot/out",
                   "home": "/slot/home", "rlimits": rlimits(self.limits, cgroup)}
        log = os.open(slot / "logs" / f"{name}-{hash_seed}-{generation}.log",
                      os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            reply = ask_zygote(self.zygote, request, (*fds, log), self.limits.import_s)
            pid = find_host_pid(self.zygote["pid"], reply["pid"]) if reply and "pid" in reply else None
        except (OSError, RuntimeError):
            pid = None
        finally:
            os.close(log)
        if pid is None:
            raise ZygoteGone(f"the slot's zygote for hash seed {hash_seed} did not fork a worker")
        if cgroup is not None:
            cgroup.join(pid)
        return Spawned(ForkedProcess(pid, self.zygote, reply["pid"]), slot, outputs_of(self.zygote))

    def forget(self, name: str, hash_seed: int, generation: int) -> None:
        """Nothing: the batch empties the slot once this grade process has ended."""


def start_worker(launcher: Launcher, name: str, hash_seed: int, generation: int, limits: Limits) -> RunningWorker:
    """Start worker `generation` of module `name` with `launcher`; ZygoteGone if a zygote failed."""
    to_worker_r, to_worker_w = os.pipe()
    from_worker_r, from_worker_w = os.pipe()
    cgroup = Cgroup.create(limits.memory_bytes, limits.processes)
    try:
        spawned = launcher.spawn(name, hash_seed, generation, (to_worker_r, from_worker_w), cgroup)
    except BaseException:
        for fd in (to_worker_w, from_worker_r):
            os.close(fd)
        if cgroup is not None:
            cgroup.remove()
        raise
    finally:
        os.close(to_worker_r)
        os.close(from_worker_w)
    return RunningWorker(spawned.process, cgroup, spawned.instance, spawned.out, os.fdopen(to_worker_w, "w"),
                         from_worker_r, safe_io.LineReader(from_worker_r))
