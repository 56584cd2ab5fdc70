"""The rlimits every learner worker gets, sandboxed or not, fresh or forked, and what enforces each limit."""

import os
import resource
from collections.abc import Callable

from grader.core.config import Limits
from grader.isolation.cgroups import Cgroup

# What Python, numpy, TensorFlow and a trained Keras model map before the learner allocates anything: about
# 1.2 GiB of address space with one malloc arena per two threads (config.NUMERIC_SETTINGS), plus an 8 MiB
# stack per TensorFlow inter-op thread, one per core. Without a memory cgroup the learner gets the memory
# limit on top of this.
ADDRESS_SPACE_BASELINE = 2 << 30


def address_space(limits: Limits) -> int:
    """The address-space cap (RLIMIT_AS) that bounds a worker's memory where no memory cgroup can be made."""
    return limits.memory_bytes + ADDRESS_SPACE_BASELINE


def rlimits(limits: Limits, cgroup: Cgroup | None) -> dict[str, int]:
    """The rlimits every worker gets, sandboxed or not, fresh or forked.

    RLIMIT_NPROC counts every process of the uid on the machine (and is not enforced for root), so
    with a pids cgroup it is only a loose outer bound and the cgroup does the per-worker counting.
    Without a cgroup, RLIMIT_AS is the only bound on memory, so every route sets it.
    """
    table = {
        "RLIMIT_CPU": limits.cpu_s,
        "RLIMIT_FSIZE": limits.file_bytes,
        "RLIMIT_NOFILE": limits.open_files,
        "RLIMIT_NPROC": limits.processes if cgroup is None else limits.processes * 16,
        "RLIMIT_CORE": 0,
    }
    if cgroup is None:
        table["RLIMIT_AS"] = address_space(limits)
    return table


def enforcement(limits: Limits, cgroup: bool, sandboxed: bool) -> dict[str, str]:
    """How each limit the report lists is enforced, with a cgroup per worker (`cgroup`) or without, in the
    bubblewrap sandbox (`sandboxed`) or a plain process."""
    if cgroup:
        memory = (f"memory cgroup: {limits.memory_bytes >> 20} MiB of memory (the files it writes count), "
                  "no swap")
        processes = f"pids cgroup: {limits.processes} processes and threads per worker"
    else:
        memory = (f"RLIMIT_AS: {address_space(limits) >> 20} MiB of address space (the memory limit plus "
                  f"{ADDRESS_SPACE_BASELINE >> 20} MiB that Python and TensorFlow map); no cgroup can be made here; "
                  + (f"the files it writes: a tmpfs of {limits.memory_bytes >> 20} MiB for each of its directories "
                     "and /dev/shm"
                     if sandboxed else "the files it writes are not bounded (a plain process)"))
        processes = f"RLIMIT_NPROC: {limits.processes} processes and threads of the worker's uid"
    return {
        "memory": memory,
        "processes": processes,
        "cpu": f"RLIMIT_CPU: {limits.cpu_s} s of CPU time per worker",
        "files": f"RLIMIT_FSIZE: {limits.file_bytes >> 20} MiB per file or printed output; "
                 f"RLIMIT_NOFILE: {limits.open_files} open files",
        "time": f"the grade process's timer: {limits.call_s:g} s per call, {limits.import_s:g} s per import, "
                f"{limits.train_s:g} s per training",
    }


def make_preexec(limits: Limits, cgroup: Cgroup | None) -> Callable[[], None]:
    """The function run in a worker between fork and exec: join the cgroup, then set rlimits."""
    return confine(rlimits(limits, cgroup), cgroup)


def confine(table: dict[str, int], cgroup: Cgroup | None) -> Callable[[], None]:
    """A function to run in a child between fork and exec: join `cgroup` (if any), then set each rlimit of
    `table` (soft and hard), or the hard limit where that is lower: only root may raise it."""

    def preexec() -> None:
        if cgroup is not None:
            cgroup.join(os.getpid())
        for name, value in table.items():
            which = getattr(resource, name)
            soft, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value))

    return preexec
