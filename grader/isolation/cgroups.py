"""Memory and process limits for one worker through a cgroup (v1 or v2), where the grader may make one.

`Cgroup.create` returns None when cgroups cannot be written (not root, no delegation): the caller
then falls back to rlimits. After a worker dies, `stopped_by` says whether the memory or the process
limit was hit, so the report can name it.
"""

import os
import signal
import time
import uuid
from pathlib import Path
from typing import Self

from grader.core import fallbacks
from grader.isolation.processes import creator_is_gone

ROOT = Path("/sys/fs/cgroup")


class Cgroup:
    def __init__(self, dirs: dict[str, Path], version: int):
        self.dirs, self.version = dirs, version

    @classmethod
    def create(cls, memory_bytes: int, processes: int) -> Self | None:
        """A fresh cgroup with these limits, or None if this machine does not let us make one."""
        remove_stale()
        name = f"grader-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        try:
            if (ROOT / "cgroup.controllers").exists():
                group = ROOT / name
                group.mkdir()
                (group / "memory.max").write_text(str(memory_bytes))
                (group / "memory.swap.max").write_text("0")
                (group / "pids.max").write_text(str(processes))
                return cls({"memory": group, "pids": group}, 2)
            memory, pids = ROOT / "memory" / name, ROOT / "pids" / name
            memory.mkdir()
            pids.mkdir()
            (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
            (pids / "pids.max").write_text(str(processes))
            return cls({"memory": memory, "pids": pids}, 1)
        except OSError:
            fallbacks.note("no-cgroup", "no memory or pids cgroup can be made here: workers are bounded by "
                                        "rlimits alone (RLIMIT_AS for memory, RLIMIT_NPROC counted per uid)")
            return None

    @classmethod
    def available(cls, memory_bytes: int, processes: int) -> bool:
        """Whether workers will get cgroups here: one is made and removed (a no-cgroup fallback noted if not)."""
        group = cls.create(memory_bytes, processes)
        if group is None:
            return False
        group.remove()
        return True

    def join(self, pid: int) -> None:
        """Move `pid` into the group (called in the child before exec, so all its descendants follow)."""
        for path in {self.dirs["memory"], self.dirs["pids"]}:
            (path / "cgroup.procs").write_text(str(pid))

    def counters(self) -> dict[str, int]:
        """{"memory": times the memory limit was hit, "pids": times a fork was refused}."""
        if self.version == 2:
            events = read_keyed(self.dirs["memory"] / "memory.events")
            return {"memory": events.get("oom_kill", 0) + events.get("max", 0),
                    "pids": read_keyed(self.dirs["pids"] / "pids.events").get("max", 0)}
        return {"memory": read_int(self.dirs["memory"] / "memory.failcnt"),
                "pids": read_keyed(self.dirs["pids"] / "pids.events").get("max", 0)}

    def kill_all(self) -> None:
        """SIGKILL every process left in the group (one that escaped its process group, say)."""
        # Killed processes take a moment to leave the group; poll briefly first, since a grading
        # stops several workers and every wasted millisecond is on its critical path.
        pause, deadline = 0.001, time.monotonic() + 1.0
        while time.monotonic() < deadline:
            pids = [int(p) for p in (self.dirs["pids"] / "cgroup.procs").read_text().split()]
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def remove(self) -> None:
        self.kill_all()
        for path in {self.dirs["memory"], self.dirs["pids"]}:
            try:
                path.rmdir()
            except OSError:
                pass


def remove_stale() -> None:
    """Remove the empty groups of grade processes that were killed before they could clean up."""
    for group in [*ROOT.glob("grader-*"), *ROOT.glob("memory/grader-*"), *ROOT.glob("pids/grader-*")]:
        if creator_is_gone(group.name):
            try:
                group.rmdir()  # fails while processes remain in it: then it is not stale
            except OSError:
                pass


def read_keyed(path: Path) -> dict[str, int]:
    try:
        return {k: int(v) for k, v in (line.split() for line in path.read_text().splitlines() if line.strip())}
    except (OSError, ValueError):
        return {}


def read_int(path: Path) -> int:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return 0
