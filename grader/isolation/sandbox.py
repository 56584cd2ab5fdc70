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
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from grader.core import fallbacks
from grader.core.config import (
    NOBODY,
    NUMERIC_SETTINGS,
    PACKAGE_DIR,
    PRIVATE_TMP_BYTES,
    REPOSITORY,
    WORKER_SCRIPT,
    Limits,
)
from grader.core.errors import SandboxUnavailable
from grader.isolation.cgroups import Cgroup
from grader.isolation.limits import make_preexec
from grader.isolation.processes import give_to_worker

# 1 where AppArmor forbids unprivileged user namespaces, which bwrap needs when not run as root.
USERNS_RESTRICTED = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
# Mounted read-only in every sandbox, where they exist.
SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/etc")
INSTALL_HINT = ("bubblewrap is not installed: install it (Debian/Ubuntu: `apt-get install bubblewrap`; "
                "Fedora: `dnf install bubblewrap`)")


@dataclass
class Launch:
    """What `subprocess.Popen` needs to start one worker."""

    argv: list[str]
    env: dict[str, str]
    preexec_fn: Callable[[], None]
    out_inside: str | None = None  # where the outputs lie inside the sandbox, if not in the job's out/


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
        return Launch(argv, worker_environment(str(instance / "home"), hash_seed), make_preexec(self.limits, cgroup))


# Where a sandboxed worker writes its outputs.
JOB_OUT = "/job/out"


class Bubblewrap(PlainProcess):
    """Each worker in its own namespaces, seeing only the system, Python and its own job."""

    name = "bubblewrap"

    def launch(self, src: Path, instance: Path, module: str, fds: tuple[int, int], hash_seed: int,
               cgroup: Cgroup | None) -> Launch:
        mounts = ["--ro-bind", str(src), "/submission", "--perms", "0755", "--dir", "/job",
                  "--ro-bind", str(instance / "in"), "/job/in"]
        # Without a cgroup nothing counts what the worker writes on the host's /dev/shm: its directories are
        # then a tmpfs each, inside the sandbox, where the grade process reads them through /proc/PID/root.
        files_inside = cgroup is None
        if files_inside:
            mounts += worker_tmpfs(self.limits, JOB_OUT, "/job/home")
        else:
            mounts += ["--bind", str(instance / "out"), JOB_OUT, "--bind", str(instance / "home"), "/job/home"]
            give_to_worker(instance / "out", instance / "home")
        mounts += ["--chdir", "/job/home"]
        argv = sandbox_command(mounts, worker_environment("/job/home", hash_seed),
                               shm_bytes=self.limits.memory_bytes if files_inside else None)
        argv += ["/submission", "/job/in", JOB_OUT, module, *map(str, fds)]
        # bwrap itself gets a clean environment too: its own /proc/1/environ is readable inside.
        return Launch(argv, {"PATH": "/usr/bin:/bin"}, make_preexec(self.limits, cgroup),
                      JOB_OUT if files_inside else None)


def worker_tmpfs(limits: Limits, *paths: str) -> list[str]:
    """bwrap arguments that mount a tmpfs of at most `--memory-mb` at each of `paths`, writable by the worker.

    Where a memory cgroup holds the worker, what it writes on /dev/shm counts against it; without one, files
    on /dev/shm were bounded by nothing: `fills-the-disk` wrote 13.6 GiB of the machine's memory there with
    `--memory-mb 400` as an ordinary user. A tmpfs mounted in the sandbox is bounded by its size, and is gone
    with the sandbox.
    """
    return [argument for path in paths
            for argument in ("--size", str(limits.memory_bytes), "--perms", "0777", "--tmpfs", path)]


def sandbox_command(mounts: list[str], env: dict[str, str], private_tmp: bool = True,
                    as_init: bool = False, shm_bytes: int | None = None) -> list[str]:
    """The bwrap command line that runs worker.py (arguments to follow) with these extra mounts.

    private_tmp: a tmpfs of PRIVATE_TMP_BYTES at /tmp, mounted first so that Python directories under /tmp (a
    virtual environment there) stay visible on top of it.
    as_init: worker.py is pid 1 of the sandbox instead of bwrap's reaper. The kernel drops every
    signal sent to a namespace's init from inside it unless init handles that signal, so the
    processes it forks cannot kill it (kill -9 of the parent, kill(-1, ...) included).
    shm_bytes: where no cgroup counts what the worker writes, /dev/shm is a tmpfs of this size and the rest
    of /dev read-only; bwrap's /dev is a tmpfs of half the machine's memory, writable as an ordinary user.
    """
    # Only called where `bubblewrap_works()`: bwrap (and setpriv, as root) are on the PATH.
    argv = [cast(str, shutil.which("bwrap")), "--unshare-net", "--unshare-pid", *(["--as-pid-1"] if as_init else []),
            "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session", "--clearenv",
            "--proc", "/proc", "--dev", "/dev"]
    if shm_bytes is not None:
        argv += ["--size", str(shm_bytes), "--perms", "1777", "--tmpfs", "/dev/shm"]
    if as_init:  # a zygote's sandbox outlives submissions: its init lists and removes their message queues
        argv += ["--mqueue", "/dev/mqueue"]
    if private_tmp:
        argv += ["--size", str(PRIVATE_TMP_BYTES), "--tmpfs", "/tmp"]
    for path in SYSTEM_DIRS:
        argv += ["--ro-bind-try", path, path]
    binds = python_dirs()
    for source, target in binds:
        argv += declare_parents(target) + ["--ro-bind", str(source), str(target)]
    for hidden in grader_copies(binds + system_dirs()):
        argv += ["--tmpfs", str(hidden)]
    # The root bwrap builds is a tmpfs that, where bwrap runs as an ordinary user, belongs to that user: a
    # worker could write /, /opt, or the parents made for the binds, and in a batch slot's sandbox, which
    # serves one submission after another, the next submission read it. Read-only once built; what a worker
    # may write is mounted on its own (/tmp, the job's or the slot's directories).
    argv += ["--perms", "0755", "--dir", "/opt/grader-worker",
             "--ro-bind", str(WORKER_SCRIPT), "/opt/grader-worker/worker.py", *mounts, "--remount-ro", "/"]
    if shm_bytes is not None:
        argv += ["--remount-ro", "/dev"]
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
    The instructor's repository must not lie inside any of them, nor inside a system directory
    (`exposed_repository`).
    """
    candidates = {Path(sys.base_prefix), Path(sys.prefix), *map(Path, site.getsitepackages())}
    pairs: set[tuple[Path, Path]] = set()
    for path in (p for p in candidates if p.exists()):
        real = path.resolve()
        pairs |= {(real, real), (real, Path(os.path.abspath(path)))}
    binds = sorted(pairs, key=lambda pair: len(pair[1].parts))
    problem = exposed_repository(binds + system_dirs())
    if problem:
        raise SandboxUnavailable(problem)
    return binds


def system_dirs() -> list[tuple[Path, Path]]:
    """(source, target) of the system directories every sandbox mounts (`--ro-bind-try`: those that exist)."""
    return [(Path(path).resolve(), Path(path)) for path in SYSTEM_DIRS if os.path.exists(path)]


def site_dirs() -> set[Path]:
    """Every directory that this interpreter, or the installation its virtual environment is made from,
    installs packages into (resolved): site-packages, dist-packages, the user's site directory."""
    prefixes = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
    paths = {*site.getsitepackages(prefixes), site.getusersitepackages(),
             sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    return {Path(path).resolve() for path in paths}


def installed_copy() -> bool:
    """True when this grader is an installed copy (`pip install .` of a release, a wheel, an sdist): its
    package lies directly in a site-packages directory, so REPOSITORY is that directory (whose other
    packages learner code needs, mounted on purpose) and not an instructor's checkout."""
    return REPOSITORY in site_dirs()


def exposed_repository(binds: list[tuple[Path, Path]]) -> str | None:
    """Why the sandbox cannot run, if the instructor's repository lies inside a directory it mounts.

    A checkout holds solutions/, the hidden suites and the tests beside the package; the sandbox hides
    copies of the package (`grader_copies`) but not a whole checkout, so learner code would read them. An
    installed copy has no checkout around it: its package is hidden, the rest of site-packages is meant to
    be seen.
    """
    if installed_copy():
        return None
    for source, _ in binds:
        if REPOSITORY.is_relative_to(source):
            return (f"the grader's repository {REPOSITORY} lies inside {source}, which every sandbox shows to "
                    "learner code (read-only, so that it can run Python), so learner code could read the "
                    f"reference solutions and the hidden suites; move the repository out of {source} and install "
                    "it from there (in it: python3 -m venv .venv && .venv/bin/pip install -e .)")
    return None


def grader_copies(binds: list[tuple[Path, Path]]) -> list[Path]:
    """Where the sandbox would show a copy of the grader package, or a `solutions` directory: hidden under
    a tmpfs, at each path where a bind shows it (a directory mounted at its real and at a linked path
    shows it twice).

    The copies: the running one, and any other in a site-packages directory or a directory on `sys.path`
    (an installed release, an instructor's non-editable install with its hidden suites, another
    interpreter's install under /usr), each found through its real path. The worker refuses to import
    `grader` and `solutions` anyway; this keeps their files unreadable.
    """
    places = {PACKAGE_DIR.parent} | site_dirs() | {Path(p).resolve() for p in sys.path if p and os.path.isdir(p)}
    copies = {(place / name).resolve() for place in places for name in ("grader", "solutions")
              if (place / name).is_dir()}
    hidden = {target / copy.relative_to(source) for source, target in binds for copy in copies
              if copy.is_relative_to(source)}
    return sorted(hidden)


def declare_parents(path: str | Path) -> list[str]:
    """bwrap creates missing parents as 0700 when run as root: declare them 0755 so uid 65534 can pass."""
    args: list[str] = []
    for parent in reversed(Path(path).parents):
        if str(parent) != "/":
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


@functools.cache
def bubblewrap_problem() -> str | None:
    """Why bubblewrap cannot sandbox a worker here (what is missing, or what bwrap said) and what to do,
    or None when bwrap (and setpriv, as root) are installed and can start a namespaced process."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return INSTALL_HINT
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        return ("setpriv is not installed, and as root the grader needs it to run learner code as an unprivileged "
                "user: install it (Debian/Ubuntu: `apt-get install util-linux`)")
    probe = subprocess.run([bwrap, "--unshare-net", "--unshare-pid", "--ro-bind", "/", "/", "true"],
                           capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    if probe.returncode == 0:
        return None
    said = probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else f"exit status {probe.returncode}"
    restricted = Path(USERNS_RESTRICTED)
    if restricted.is_file() and restricted.read_text().strip() == "1":
        return (f"bubblewrap is installed but cannot start a sandbox ({said}): this system lets no unprivileged "
                "program create user namespaces (AppArmor, as on Ubuntu 23.10 and later and GitHub's ubuntu-latest "
                "runners); allow them with `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`")
    return (f"bubblewrap is installed but cannot start a sandbox ({said}): it needs unprivileged user namespaces, "
            "or to be run as root")


def bubblewrap_works() -> bool:
    """True when bwrap (and setpriv, as root) are installed and can start a namespaced process."""
    return bubblewrap_problem() is None


def choose(mode: str, limits: Limits) -> PlainProcess:
    """The isolation for `mode`: "auto" (bubblewrap if it works), "strict" (bubblewrap or fail), "off".

    A sandbox that would show the instructor's repository is refused here, before any grading starts
    (SandboxUnavailable, saying what to do), in "auto" mode too.
    """
    if mode == "off":
        return PlainProcess(limits)
    problem = bubblewrap_problem()
    if problem is None:
        python_dirs()
        return Bubblewrap(limits)
    if mode == "strict":
        raise SandboxUnavailable(f"{problem}; or grade without --isolation strict")
    fallbacks.note("no-sandbox", f"bubblewrap does not work here ({problem}): learner code runs in a plain "
                                 "process (clean environment and rlimits, no namespaces)")
    return PlainProcess(limits)
