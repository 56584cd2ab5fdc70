"""Which rlimits a worker gets, and what the report says enforces each limit, with a cgroup and without."""

from grader.core.config import Limits
from grader.isolation.limits import ADDRESS_SPACE_BASELINE, enforcement, rlimits

LIMITS = Limits(memory_bytes=400 << 20, processes=64)


def test_without_a_cgroup_the_address_space_is_capped_on_every_route():
    table = rlimits(LIMITS, None)  # fresh (plain or bubblewrap) and forked workers all take this table
    assert table["RLIMIT_AS"] == (400 << 20) + ADDRESS_SPACE_BASELINE
    assert table["RLIMIT_NPROC"] == 64


def test_with_a_cgroup_the_cgroup_bounds_memory_and_processes():
    table = rlimits(LIMITS, object())
    assert "RLIMIT_AS" not in table and table["RLIMIT_NPROC"] == 64 * 16


def test_the_report_names_the_mechanism_behind_each_limit():
    assert enforcement(LIMITS, cgroup=True, sandboxed=True)["memory"].startswith("memory cgroup: 400 MiB")
    without = enforcement(LIMITS, cgroup=False, sandboxed=True)
    assert without["memory"].startswith(f"RLIMIT_AS: {400 + (ADDRESS_SPACE_BASELINE >> 20)} MiB")
    assert without["memory"].endswith("the files it writes: a tmpfs of 400 MiB for each of its directories and "
                                      "/dev/shm")
    assert without["processes"].startswith("RLIMIT_NPROC: 64")
    assert set(without) == {"memory", "processes", "cpu", "files", "time"}
    plain = enforcement(LIMITS, cgroup=False, sandboxed=False)["memory"]
    assert plain.endswith("the files it writes are not bounded (a plain process)")
