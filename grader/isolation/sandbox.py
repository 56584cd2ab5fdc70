"""How a learner worker is started: in a bubblewrap sandbox where possible, else a plain subprocess.

Bubblewrap (`bwrap`, Debian package `bubblewrap`) gives each worker new network, PID, IPC and UTS
namespaces and a filesystem of read-only system and Python directories, the submission read-only
at /submission, its job directory at /job (arguments in /job/in read-only, outputs in /job/out), a
small /tmp, and nothing else: not the grader's suites, not the reference solutions, not other
submissions. It starts with a clean environment and, when the grader runs as root, drops to
uid 65534 (`setpriv`) before Python starts. Resource limits come from rlimits (CPU time, file size,
open files, processes) and, where the grader may create them, memory and pids cgroups
(`cgroups.py`). Without bubblewrap, the fallback keeps the clean environment and the rlimits and
says so in the report.
"""

import functools
import os
import shutil
import site
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from grader.core import fallbacks
from grader.core.config import NOBODY, NUMERIC_SETTINGS, REPOSITORY, WORKER_SCRIPT, Limits
from grader.core.errors import SandboxUnavailable
from grader.isolation.cgroups import Cgroup
from grader.isolation.limits import make_preexec
from grader.isolation.processes import give_to_worker

INSTALL_HINT = ("bubblewrap is not available: install it (Debian/Ubuntu: `apt-get install bubblewrap`; "
                "Fedora: `dnf install bubblewrap`) or grade without --isolation strict")


@dataclass
class Launch:
    """What `subprocess.Popen` needs to start one worker."""

    argv: list[str]
    env: dict[str, str]
    preexec_fn: Callable[[], None]


def worker_environment(home: str, hash_seed: int) -> dict[str, str]:
    """A clean environment: nothing of the grader's own environment reaches learner code."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
        "PYTHONHASHSEED": str(hash_seed), "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg", **NUMERIC_SETTINGS,
    }


class PlainProcess:
    """The fallback: a separate process, clean environment and rlimits, no namespaces."""

    name = "subprocess"

    def __init__(self, limits: Limits):
        self.limits = limits

    def launch(self, src: Path, instance: Path, module: str, fds: tuple[int, int], hash_seed: int,
               cgroup: Cgroup | None) -> Launch:
        argv = [sys.executable, "-s", "-P", "-B", str(WORKER_SCRIPT), str(src), str(instance / "in"),
                str(instance / "out"), module, *map(str, fds)]
        # Without a memory cgroup, cap the address space instead (TensorFlow needs about 2 GiB of it).
        address_space = None if cgroup is not None else max(self.limits.memory_bytes * 2, 4 << 30)
        return Launch(argv, worker_environment(str(instance / "home"), hash_seed),
                      make_preexec(self.limits, cgroup, address_space))


class Bubblewrap(PlainProcess):
    """Each worker in its own namespaces, seeing only the system, Python and its own job."""

    name = "bubblewrap"

    def launch(self, src: Path, instance: Path, module: str, fds: tuple[int, int], hash_seed: int,
               cgroup: Cgroup | None) -> Launch:
        mounts = ["--ro-bind", str(src), "/submission", "--perms", "0755", "--dir", "/job",
                  "--ro-bind", str(instance / "in"), "/job/in", "--bind", str(instance / "out"), "/job/out",
                  "--bind", str(instance / "home"), "/job/home", "--chdir", "/job/home"]
        give_to_worker(instance / "out", instance / "home")
        argv = sandbox_command(mounts, worker_environment("/job/home", hash_seed))
        argv += ["/submission", "/job/in", "/job/out", module, *map(str, fds)]
        # bwrap itself gets a clean environment too: its own /proc/1/environ is readable inside.
        return Launch(argv, {"PATH": "/usr/bin:/bin"}, make_preexec(self.limits, cgroup))


def sandbox_command(mounts: list[str], env: dict[str, str], private_tmp: bool = True,
                    as_init: bool = False) -> list[str]:
    """The bwrap command line that runs worker.py (arguments to follow) with these extra mounts.

    private_tmp: a 64 MiB tmpfs at /tmp, mounted first so that Python directories under /tmp (a
    virtual environment there) stay visible on top of it.
    as_init: worker.py is pid 1 of the sandbox instead of bwrap's reaper. The kernel drops every
    signal sent to a namespace's init from inside it unless init handles that signal, so the
    processes it forks cannot kill it (kill -9 of the parent, kill(-1, ...) included).
    """
    # Only called where `bubblewrap_works()`: bwrap (and setpriv, as root) are on the PATH.
    argv = [cast(str, shutil.which("bwrap")), "--unshare-net", "--unshare-pid", *(["--as-pid-1"] if as_init else []),
            "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session", "--clearenv",
            "--proc", "/proc", "--dev", "/dev"]
    if private_tmp:
        argv += ["--size", str(64 << 20), "--tmpfs", "/tmp"]
    for path in ("/usr", "/bin", "/lib", "/lib64", "/etc"):
        argv += ["--ro-bind-try", path, path]
    for source, target in python_dirs():
        argv += declare_parents(target) + ["--ro-bind", str(source), str(target)]
    for hidden in grader_copies():
        argv += ["--tmpfs", str(hidden)]
    argv += ["--perms", "0755", "--dir", "/opt/grader-worker",
             "--ro-bind", str(WORKER_SCRIPT), "/opt/grader-worker/worker.py", *mounts]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    if os.geteuid() == 0:
        argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--", cast(str, shutil.which("setpriv")),
                 f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all", "--no-new-privs"]
    else:
        argv += ["--"]
    return argv + [sys.executable, "-s", "-P", "-B", "/opt/grader-worker/worker.py"]


def python_dirs() -> list[tuple[Path, Path]]:
    """(source, target) binds for the Python installation and its packages.

    Each directory is mounted at its real path and, where a symlink leads to it (a virtual
    environment reached through a link), at the linked path too, so `sys.executable` works inside.
    The grader's repository must not lie inside any of them.
    """
    candidates = {Path(sys.base_prefix), Path(sys.prefix), *map(Path, site.getsitepackages())}
    repo = REPOSITORY
    pairs: set[tuple[Path, Path]] = set()
    for path in (p for p in candidates if p.exists()):
        real = path.resolve()
        if repo.is_relative_to(real):
            raise SandboxUnavailable(f"the grader's repository {repo} lies inside the Python directory {real}, "
                                     "so the sandbox cannot hide it; install the grader in a virtual environment")
        pairs |= {(real, real), (real, Path(os.path.abspath(path)))}
    return sorted(pairs, key=lambda pair: len(pair[1].parts))


def grader_copies() -> list[Path]:
    """Installed copies of the grader package inside the mounted Python dirs: hidden under a tmpfs."""
    return [Path(p) / "grader" for p in site.getsitepackages() if (Path(p) / "grader" / "suites").is_dir()]


def declare_parents(path: str | Path) -> list[str]:
    """bwrap creates missing parents as 0700 when run as root: declare them 0755 so uid 65534 can pass."""
    args: list[str] = []
    for parent in reversed(Path(path).parents):
        if str(parent) != "/":
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


@functools.cache
def bubblewrap_works() -> bool:
    """True when bwrap (and setpriv, as root) are installed and can start a namespaced process."""
    bwrap = shutil.which("bwrap")
    if not bwrap or (os.geteuid() == 0 and not shutil.which("setpriv")):
        return False
    probe = subprocess.run([bwrap, "--unshare-net", "--unshare-pid", "--ro-bind", "/", "/", "true"],
                           capture_output=True, env={"PATH": "/usr/bin:/bin"})
    return probe.returncode == 0


def choose(mode: str, limits: Limits) -> PlainProcess:
    """The isolation for `mode`: "auto" (bubblewrap if it works), "strict" (bubblewrap or fail), "off"."""
    if mode == "off":
        return PlainProcess(limits)
    if bubblewrap_works():
        return Bubblewrap(limits)
    if mode == "strict":
        raise SandboxUnavailable(INSTALL_HINT)
    fallbacks.note("no-sandbox", "bubblewrap does not work here: learner code runs in a plain process "
                                 "(clean environment and rlimits, no namespaces)")
    return PlainProcess(limits)

