"""A virtual environment made from this one's Python, for the tests of install routes.

    python tests/make_venv.py DIR

DIR gets this environment's installed packages as hard links (copies across filesystems: the same files,
nothing downloaded) but not this checkout's editable grader, so the only grader it will have is the one
the route under test installs; and the `pip` command a venv has (pip itself comes with the packages).
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path


def link(source, target):
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def make(venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    shutil.copytree(sysconfig.get_paths()["purelib"], purelib, symlinks=True, dirs_exist_ok=True, copy_function=link,
                    ignore=shutil.ignore_patterns("__editable__*", "rnn_autograder-*"))
    for name in ("pip", "pip3"):
        (venv / "bin" / name).write_text(f"#!{python}\nimport sys\nfrom pip._internal.cli.main import main\n"
                                         "sys.exit(main())\n")
        (venv / "bin" / name).chmod(0o755)


if __name__ == "__main__":
    make(Path(sys.argv[1]).absolute())
