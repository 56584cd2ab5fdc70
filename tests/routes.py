"""What the tests of users' routes share: a fresh user's environment, offline installs into fresh virtual
environments (tests/make_venv.py), and the commands that a README shows in its ```sh blocks.

A README's ```sh blocks are commands that work exactly as written, and the tests run them so; an example
with placeholders (SUBMISSION, OUTDIR) goes in a plain ``` block.
"""

import re
import subprocess
import sys
from pathlib import Path

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


def without_cgroups(command):
    """`command`, run where no cgroup can be made (as for an ordinary user without delegation): in a mount
    namespace of its own whose /sys/fs/cgroup is an empty tmpfs; bubblewrap works there as before."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount -t tmpfs none /sys/fs/cgroup && exec "$@"', "sh", *map(str, command)]
