"""The rlimits every learner worker gets, sandboxed or not, fresh or forked."""

import os
import resource
from collections.abc import Callable

from grader.core.config import Limits
from grader.isolation.cgroups import Cgroup


def rlimits(limits: Limits, cgroup: Cgroup | None) -> dict[str, int]:
    """The rlimits every worker gets, sandboxed or not.

    RLIMIT_NPROC counts every process of the uid on the machine (and is not enforced for root), so
    with a pids cgroup it is only a loose outer bound and the cgroup does the per-worker counting.
    """
    return {
        "RLIMIT_CPU": limits.cpu_s,
        "RLIMIT_FSIZE": limits.file_bytes,
        "RLIMIT_NOFILE": limits.open_files,
        "RLIMIT_NPROC": limits.processes if cgroup is None else limits.processes * 16,
        "RLIMIT_CORE": 0,
    }


def make_preexec(limits: Limits, cgroup: Cgroup | None, address_space: int | None = None) -> Callable[[], None]:
    """The function run in the child between fork and exec: join the cgroup, then set rlimits."""
    table = rlimits(limits, cgroup)
    if address_space:
        table["RLIMIT_AS"] = address_space

    def preexec() -> None:
        if cgroup is not None:
            cgroup.join(os.getpid())
        for name, value in table.items():
            which = getattr(resource, name)
            soft, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value))

    return preexec
