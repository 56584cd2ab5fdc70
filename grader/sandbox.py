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
import resource
import shutil
import signal
import site
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
PACKAGE_DIR = Path(__file__).resolve().parent
NOBODY = 65534
INSTALL_HINT = ("bubblewrap is not available: install it (Debian/Ubuntu: `apt-get install bubblewrap`; "
                "Fedora: `dnf install bubblewrap`) or grade without --isolation strict")


class SandboxUnavailable(Exception):
    """--isolation strict was asked for, and the full sandbox cannot be had here."""


@dataclass
class Limits:
    """Per-worker limits, in seconds and bytes, each with a default; all but the two reply sizes also
    have a `grade` option."""

    call_s: float = 20.0
    import_s: float = 60.0
    train_s: float = 180.0
    reply_bytes: int = 1 << 20
    array_bytes: int = 256 << 20
    memory_bytes: int = 3 << 30
    processes: int = 512
    cpu_s: int = 900
    file_bytes: int = 64 << 20
    open_files: int = 512


@dataclass
class Launch:
    """What `subprocess.Popen` needs to start one worker."""

    argv: list
    env: dict
    preexec_fn: object


def creator_is_gone(name):
    """For a name like grader-PID-... or grade-PID-...: True when process PID no longer exists, so
    what it left (a cgroup, a workspace) is stale."""
    creator = name.split("-")[1] if name.count("-") >= 2 else ""
    return creator.isdigit() and not Path(f"/proc/{creator}").exists()


def kill_group(process):
    """SIGKILL the process group led by `process` (the worker and all it started), if still there."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# The PYTHONHASHSEED of each worker: 0 for every module, and 1-3 for the check that builds the
# alphabet in other processes, since `set()` order follows the hash seed. A batch slot keeps a
# preloaded zygote for each.
HASH_SEEDS = (0, 1, 2, 3)

# How numpy and TensorFlow run in learner workers (and in the benchmarks and calibration that must
# match them). The arrays and models are tiny: one thread is as fast alone and much faster when two
# gradings share two cores; Eigen's kernels instead of oneDNN's train about 7 % faster here. An
# OpenBLAS thread pool doubles numpy's import cost (0.14 vs 0.07 CPU-s) in every fresh worker.
NUMERIC_SETTINGS = {
    "TF_CPP_MIN_LOG_LEVEL": "3", "TF_DETERMINISTIC_OPS": "1", "TF_NUM_INTRAOP_THREADS": "1",
    "TF_ENABLE_ONEDNN_OPTS": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
}


def worker_environment(home, hash_seed):
    """A clean environment: nothing of the grader's own environment reaches learner code."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
        "PYTHONHASHSEED": str(hash_seed), "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg", **NUMERIC_SETTINGS,
    }


def rlimits(limits, cgroup):
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


def make_preexec(limits, cgroup, address_space=None):
    """The function run in the child between fork and exec: join the cgroup, then set rlimits."""
    table = rlimits(limits, cgroup)
    if address_space:
        table["RLIMIT_AS"] = address_space

    def preexec():
        if cgroup is not None:
            cgroup.join(os.getpid())
        for name, value in table.items():
            which = getattr(resource, name)
            soft, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value))

    return preexec


class PlainProcess:
    """The fallback: a separate process, clean environment and rlimits, no namespaces."""

    name = "subprocess"

    def __init__(self, limits):
        self.limits = limits

    def launch(self, src, instance, module, fds, hash_seed, cgroup):
        argv = [sys.executable, "-s", "-P", "-B", str(WORKER_SCRIPT), str(src), str(instance / "in"),
                str(instance / "out"), module, *map(str, fds)]
        # Without a memory cgroup, cap the address space instead (TensorFlow needs about 2 GiB of it).
        address_space = None if cgroup is not None else max(self.limits.memory_bytes * 2, 4 << 30)
        return Launch(argv, worker_environment(str(instance / "home"), hash_seed),
                      make_preexec(self.limits, cgroup, address_space))


class Bubblewrap(PlainProcess):
    """Each worker in its own namespaces, seeing only the system, Python and its own job."""

    name = "bubblewrap"

    def launch(self, src, instance, module, fds, hash_seed, cgroup):
        mounts = ["--ro-bind", str(src), "/submission", "--perms", "0755", "--dir", "/job",
                  "--ro-bind", str(instance / "in"), "/job/in", "--bind", str(instance / "out"), "/job/out",
                  "--bind", str(instance / "home"), "/job/home", "--chdir", "/job/home"]
        give_to_worker(instance / "out", instance / "home")
        argv = sandbox_command(mounts, worker_environment("/job/home", hash_seed))
        argv += ["/submission", "/job/in", "/job/out", module, *map(str, fds)]
        # bwrap itself gets a clean environment too: its own /proc/1/environ is readable inside.
        return Launch(argv, {"PATH": "/usr/bin:/bin"}, make_preexec(self.limits, cgroup))


def sandbox_command(mounts, env, private_tmp=True, as_init=False):
    """The bwrap command line that runs worker.py (arguments to follow) with these extra mounts.

    private_tmp: a 64 MiB tmpfs at /tmp, mounted first so that Python directories under /tmp (a
    virtual environment there) stay visible on top of it.
    as_init: worker.py is pid 1 of the sandbox instead of bwrap's reaper. The kernel drops every
    signal sent to a namespace's init from inside it unless init handles that signal, so the
    processes it forks cannot kill it (kill -9 of the parent, kill(-1, ...) included).
    """
    argv = [shutil.which("bwrap"), "--unshare-net", "--unshare-pid", *(["--as-pid-1"] if as_init else []),
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
        argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--", shutil.which("setpriv"),
                 f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all", "--no-new-privs"]
    else:
        argv += ["--"]
    return argv + [sys.executable, "-s", "-P", "-B", "/opt/grader-worker/worker.py"]


def give_to_worker(*paths):
    """Directories the worker writes to belong to the uid it runs as (65534 when we are root)."""
    if os.geteuid() == 0:
        for path in paths:
            os.chown(path, NOBODY, NOBODY)


def remove_tree(path, ignore_errors=False):
    """Delete a directory tree a worker wrote in, even where it took away its own permissions.

    A `chmod 000` directory stops `shutil.rmtree` for any user but root; this gives such a directory
    back its owner's permissions and goes on. Links are never followed, so a link a worker left
    cannot lead the chmod to a file outside the tree. Call it once the workers that wrote there are
    gone: one still running could swap a directory for a link between the check and the chmod.
    """

    def unlock(_, failed, error):
        error = error[1] if isinstance(error, tuple) else error  # onerror passes exc_info, onexc the error
        if isinstance(error, FileNotFoundError):
            return
        if not isinstance(error, PermissionError):
            raise error
        for directory in (os.path.dirname(failed), failed):
            if os.path.isdir(directory) and not os.path.islink(directory):
                os.chmod(directory, 0o700)
        if os.path.isdir(failed) and not os.path.islink(failed):
            shutil.rmtree(failed, **handler)
        elif os.path.lexists(failed):
            os.unlink(failed)

    handler = {"onexc" if sys.version_info >= (3, 12) else "onerror": unlock}
    try:
        shutil.rmtree(path, **handler)
    except OSError:
        if not ignore_errors:
            raise


def python_dirs():
    """(source, target) binds for the Python installation and its packages.

    Each directory is mounted at its real path and, where a symlink leads to it (a virtual
    environment reached through a link), at the linked path too, so `sys.executable` works inside.
    The grader's repository must not lie inside any of them.
    """
    candidates = {Path(sys.base_prefix), Path(sys.prefix), *map(Path, site.getsitepackages())}
    repo = PACKAGE_DIR.parent
    pairs = set()
    for path in (p for p in candidates if p.exists()):
        real = path.resolve()
        if repo.is_relative_to(real):
            raise SandboxUnavailable(f"the grader's repository {repo} lies inside the Python directory {real}, "
                                     "so the sandbox cannot hide it; install the grader in a virtual environment")
        pairs |= {(real, real), (real, Path(os.path.abspath(path)))}
    return sorted(pairs, key=lambda pair: len(pair[1].parts))


def grader_copies():
    """Installed copies of the grader package inside the mounted Python dirs: hidden under a tmpfs."""
    return [Path(p) / "grader" for p in site.getsitepackages() if (Path(p) / "grader" / "suites").is_dir()]


def declare_parents(path):
    """bwrap creates missing parents as 0700 when run as root: declare them 0755 so uid 65534 can pass."""
    args = []
    for parent in reversed(Path(path).parents):
        if str(parent) != "/":
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


@functools.cache
def bubblewrap_works():
    """True when bwrap (and setpriv, as root) are installed and can start a namespaced process."""
    bwrap = shutil.which("bwrap")
    if not bwrap or (os.geteuid() == 0 and not shutil.which("setpriv")):
        return False
    probe = subprocess.run([bwrap, "--unshare-net", "--unshare-pid", "--ro-bind", "/", "/", "true"],
                           capture_output=True, env={"PATH": "/usr/bin:/bin"})
    return probe.returncode == 0


def choose(mode, limits):
    """The isolation for `mode`: "auto" (bubblewrap if it works), "strict" (bubblewrap or fail), "off"."""
    if mode == "off":
        return PlainProcess(limits)
    if bubblewrap_works():
        return Bubblewrap(limits)
    if mode == "strict":
        raise SandboxUnavailable(INSTALL_HINT)
    return PlainProcess(limits)

