"""The trust boundary is a checked rule: import-linter's contracts (pyproject.toml) hold on the
grader as it is, and each one fails when an import crosses it."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120)


@pytest.fixture
def tree(tmp_path):
    """A copy of the grader package and the contracts, to break on purpose."""
    shutil.copytree(ROOT / "grader", tmp_path / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_grader_keeps_every_contract(tree):
    done = lint_imports(tree)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize("module, line, contract", [
    # a lower layer reaching up: the shared core importing the batch coordinator
    ("core/config.py", "from grader.batch import runner", "Process roles are layered"),
    # the isolation layer importing the grading process's code (a function-level import counts too)
    ("isolation/wire.py", "def late():\n    from grader.grading import feedback", "Process roles are layered"),
    # the untrusted worker importing anything of the grader
    ("untrusted/worker.py", "from grader.core import config", "The learner's worker imports nothing"),
    # a trusted module importing the worker (it must only ever be run by path)
    ("isolation/launch.py", "from grader.untrusted import worker", "No trusted module imports the learner's worker"),
    # a cycle inside one layer
    ("isolation/processes.py", "from grader.isolation import zygote", "No import cycles"),
])
def test_each_contract_fails_on_a_crossing(tree, module, line, contract):
    path = tree / "grader" / module
    path.write_text(path.read_text() + f"\n\n{line}  # noqa\n")
    done = lint_imports(tree)
    assert done.returncode != 0
    # lint-imports wraps long contract names: read the status that follows the name.
    verdict = re.search(re.escape(contract) + r".*?\b(KEPT|BROKEN)\b", " ".join(done.stdout.split()))
    assert verdict and verdict[1] == "BROKEN", done.stdout
