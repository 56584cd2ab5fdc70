"""What the tests of users' routes share: a fresh user's environment, offline installs into fresh virtual
environments (tests/make_venv.py), and the commands that a README shows in its ```sh blocks.

A README's ```sh blocks are commands that work exactly as written, and the tests run them so; an example
with placeholders (SUBMISSION, OUTDIR) goes in a plain ``` block.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from grader.core.config import REPOSITORY

MAKE_VENV = Path(__file__).with_name("make_venv.py")
OFFLINE_PIP = {"PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
# Where `import grader` leads, and whether it has the batch (the instructor's repository does, a release not).
WHERE_IS_GRADER = ("import grader, importlib.util; print(grader.__file__); "
                   "print(importlib.util.find_spec('grader.batch'))")


def environment(home, *path, **extra):
    """A fresh user's environment: `path` then the system's on PATH, nothing of this test run's (no tox
    environment, VIRTUAL_ENV or PYTHONPATH)."""
    home.mkdir(exist_ok=True)
    return {"PATH": ":".join([*map(str, path), "/usr/bin", "/bin"]), "HOME": str(home), "LANG": "C.UTF-8",
            "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def run(command, **kwargs):
    done = subprocess.run(list(map(str, command)), capture_output=True, text=True, timeout=900, **kwargs)
    return done, f"{done.args}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"


def site_packages(venv):
    return venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def make_venv(venv):
    done, said = run([sys.executable, MAKE_VENV, venv])
    assert done.returncode == 0, said
    return venv


def python_stand_in(directory, name="python3", venv_under=""):
    """`directory/name`: the system's Python as a README's commands use it, `-m venv DIR` made offline by
    tests/make_venv.py (DIR must start with `venv_under`: refused otherwise), anything else run by this
    Python."""
    directory.mkdir(parents=True, exist_ok=True)
    stand_in = directory / name
    stand_in.write_text(
        f'#!/bin/sh\n# {name} as the README uses it: -m venv DIR made offline, anything else run as it is\n'
        f'case "$1 $2" in "-m venv") case "$3" in "{venv_under}"*) exec {sys.executable} {MAKE_VENV} "$3";; '
        f'*) echo "{name} stand-in: refused $*" >&2; exit 1;; esac;; esac\nexec {sys.executable} "$@"\n')
    stand_in.chmod(0o755)
    return stand_in


def sh_blocks(markdown: str) -> list[str]:
    """The ```sh blocks of `markdown`, in order."""
    return re.findall(r"^```sh\n(.*?)^```$", markdown, flags=re.S | re.M)


def run_blocks(blocks, cwd, env):
    """Run each block with bash, stopping at the first command that fails: [(block, finished process)]."""
    ran = []
    for block in blocks:
        done, said = run(["bash", "-euo", "pipefail", "-c", block], cwd=cwd, env=env)
        assert done.returncode == 0, said
        ran.append((block, done))
    return ran


def fresh_copy(root, target):
    """The files of this work tree that a clone would hold (tracked or new, not ignored), copied to `target`."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                            check=True, capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, listed):
        if (root / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, target / name)
    return target


def user(tmp_path):
    """A fresh user's home and environment, the stand-in `python3` first on PATH, pip offline."""
    stand_ins = tmp_path / "stand-ins"
    python_stand_in(stand_ins)
    home = tmp_path / "home"
    return home, environment(home, stand_ins, **OFFLINE_PIP)


def without_cgroups(command):
    """`command`, run where no cgroup can be made (as for an ordinary user without delegation): in a mount
    namespace of its own whose /sys/fs/cgroup is an empty tmpfs; bubblewrap works there as before."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount -t tmpfs none /sys/fs/cgroup && exec "$@"', "sh", *map(str, command)]


ORDINARY_UID = 65534


def as_ordinary_user(command, reach=()):
    """`command`, run as uid and gid 65534 with no capabilities (an instructor on a laptop: no cgroup can be
    made, bubblewrap works through a user namespace), as root must start it.

    The tests' Python may live where only root can pass (pyenv under /root, tox's .tox, pytest's
    /tmp/pytest-of-root are 0700): in a mount namespace of the command's own, each such directory on the way to
    this Python, its base and the `reach` paths is covered by a world-readable tmpfs that holds only the way
    on, bound back in. Nothing is chmod-ed; the files themselves keep their modes. Files the command writes
    must lie in a directory that uid 65534 owns.
    """
    closed = {}
    for path in {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve(), *map(Path, reach)}:
        for parent in path.parents:
            if parent != Path("/") and not parent.stat().st_mode & 0o001:
                closed.setdefault(parent, set()).add(path.relative_to(parent).parts[0])
    script = ["set -e", "stage=$(mktemp -d)"]
    # Deepest first: covering a directory hides what lies below it, so what is below is staged first.
    for number, (directory, children) in enumerate(sorted(closed.items(), key=lambda item: -len(item[0].parts))):
        stage = f"$stage/{number}"
        script.append(f"mkdir {stage}")
        for child in sorted(children):
            script += [f"mkdir -p {stage}/{child}", f"mount --rbind '{directory / child}' {stage}/{child}"]
        script.append(f"mount -t tmpfs -o mode=0755 none '{directory}'")
        for child in sorted(children):
            script += [f"mkdir '{directory / child}'", f"mount --move {stage}/{child} '{directory / child}'",
                       f"rmdir {stage}/{child}"]
        script.append(f"rmdir {stage}")
    script.append('rmdir "$stage"')
    script.append(f'exec setpriv --reuid {ORDINARY_UID} --regid {ORDINARY_UID} --clear-groups -- "$@"')
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script), "sh",
            *map(str, command)]


BATCH_ROUTES = ("root", "no cgroup", "uid 65534")


def grade_batch(route, klass, out, *args, timeout=900):
    """`grade batch KLASS --out OUT ARGS` on `route` (one of `BATCH_ROUTES`), with a HOME of its own beside
    `out`; both are made here, owned by uid 65534 (root writes them anyway). Fails with the batch's output
    unless it exits 0; returns {id: that submission's JSON result}."""
    home = out.with_name(f"{out.name}-home")
    for folder in (out, home):
        folder.mkdir()
        os.chown(folder, ORDINARY_UID, ORDINARY_UID)
    command = ["env", f"HOME={home}", sys.executable, "-m", "grader.cli", "batch", klass, "--out", out, *args]
    if route == "no cgroup":
        command = without_cgroups(command)
    elif route == "uid 65534":
        command = as_ordinary_user(command, reach=[klass, out, home, REPOSITORY])
    done = subprocess.run(list(map(str, command)), cwd=REPOSITORY, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    return {result.stem: json.loads(result.read_text()) for result in out.glob("*.json")
            if result.name != "summary.json"}
