"""`grade release OUTDIR`: build what learners receive, with nothing secret in it.

The release holds the generated stubs and notebooks, the grader package with the public suites only,
`pyproject.toml` (so `pip install .` gives the `grade` command), a README for learners and a GitHub
Actions workflow that grades each push. `--gradescope ZIP` writes the instructor-side bundle for
Gradescope instead (it does hold the hidden suites and the solutions: it never goes to learners). Before
writing, it checks that the reference gets full marks and the stubs zero; after writing, it scans
every file for each line of each solution body and each hidden-suite file name.
"""

import argparse
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

from rich.console import Console

from grader.authoring import course_file
from grader.authoring.build import build_all
from grader.authoring.regions import solution_regions
from grader.core.config import REPOSITORY
from grader.core.errors import LeakFound, UsageError
from grader.grading.pipeline import Job, grade

ROOT = REPOSITORY
TEMPLATES = Path(__file__).with_name("templates")
# What of grader/ a learner's `grade` needs (an allow-list: anything new stays out until named here).
# Not the batch, not these authoring commands, not the hidden suites.
LEARNER_GRADER = ("__init__.py", "cli.py", "core", "untrusted", "isolation", "grading", "device", "reports",
                  "suites/__init__.py", "suites/pytest.ini", "suites/course.json", "suites/public")


def release_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grade release", description=__doc__.splitlines()[0])
    parser.add_argument("outdir", nargs="?", help="where to write the learners' release (must be empty or new)")
    parser.add_argument("--gradescope", metavar="ZIP",
                        help="also (or only) write Gradescope's autograder bundle: setup.sh, run_autograder, "
                             "the grader with the hidden suites, and the reference solutions")
    parser.add_argument("--force", action="store_true", help="write into a non-empty directory")
    parser.add_argument("--no-validate", action="store_true",
                        help="skip grading the reference (full marks) and the stubs (zero) first")
    return parser


def validate(console: Console) -> None:
    """Grade the reference and freshly built stubs with every suite; raise unless full marks and zero."""
    reference = grade(Job(ROOT / "solutions"))
    with tempfile.TemporaryDirectory(prefix="stubs-") as tmp:
        build_all(ROOT / "solutions", Path(tmp))
        stubs = grade(Job(Path(tmp)))
    console.print(f"reference: {reference['score']:g} / {reference['max_score']:g}; "
                  f"stubs: {stubs['score']:g} / {stubs['max_score']:g}")
    if reference["score"] != reference["max_score"] or stubs["score"] != 0:
        raise UsageError("refusing to release: the reference must get full marks and the stubs zero")


def write_release(out: Path) -> list[Path]:
    """Copy what learners receive into `out`; return the list of files written."""
    build_all(ROOT / "solutions", out / "exercises")
    for part in LEARNER_GRADER:
        source, target = ROOT / "grader" / part, out / "grader" / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copyfile(source, target)
    shutil.copyfile(ROOT / "pyproject.toml", out / "pyproject.toml")
    (out / "README.md").write_text(course_file.learner_readme(course_file.read(ROOT)))
    (out / ".github" / "workflows").mkdir(parents=True)
    shutil.copyfile(TEMPLATES / "github-classroom.yml", out / ".github" / "workflows" / "grade.yml")
    return sorted(p for p in out.rglob("*") if p.is_file())


def secrets_to_scan(root: Path = ROOT) -> tuple[set[str], set[str]]:
    """Every non-trivial line of every solution body; every hidden-suite file and test name."""
    lines: set[str] = set()
    for module in course_file.read(root).exercises:
        source = (root / "solutions" / f"{module}.py").read_text()
        body = source.splitlines()
        for first, last, _ in solution_regions(source):
            lines |= {line.strip() for line in body[first + 1 : last] if len(line.strip()) > 12}
    hidden = [p for p in (root / "grader" / "suites" / "hidden").iterdir() if p.name != "__init__.py"]
    names = {p.name for p in hidden if p.suffix in (".py", ".npz")}
    names |= {p.stem for p in hidden if p.suffix == ".py"}
    for path in hidden:
        if path.suffix == ".py":
            names |= set(re.findall(r"^def (test_\w+)", path.read_text(), flags=re.MULTILINE))
    return lines, names


def scan(files: Iterable[Path], root: Path = ROOT) -> None:
    """Raise LeakFound if any released file holds a solution line or names a hidden-suite file."""
    lines, names = secrets_to_scan(root)
    for path in files:
        if path.name in names:
            raise LeakFound(f"{path} is a hidden-suite file")
        text = path.read_text(errors="replace")
        for secret in lines | names:
            if secret in text:
                raise LeakFound(f"{path} contains {secret!r}")


def write_gradescope_bundle(path: str | Path) -> Path:
    """Gradescope's autograder zip: its root becomes /autograder/source on Gradescope's machine."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, template in (("setup.sh", "gradescope-setup.sh"), ("run_autograder", "gradescope-run_autograder")):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16  # executable, as Gradescope runs them directly
            bundle.writestr(info, (TEMPLATES / template).read_text())
        for top in ("grader", "solutions"):
            for file in sorted((ROOT / top).rglob("*")):
                if file.is_file() and "__pycache__" not in file.parts:
                    bundle.write(file, file.relative_to(ROOT).as_posix())
        for name in ("pyproject.toml", "README.md"):
            bundle.write(ROOT / name, name)
    return path


def run_release(args: argparse.Namespace, console: Console | None = None) -> int:
    console = console or Console()
    if not args.outdir and not args.gradescope:
        raise UsageError("give OUTDIR for the learners' release, --gradescope ZIP for the autograder, or both")
    if not (ROOT / "solutions").is_dir():
        raise UsageError("grade release runs in the instructor's repository (solutions/ not found)")
    if not args.no_validate:
        validate(console)
    if args.gradescope:
        console.print(f"wrote {write_gradescope_bundle(args.gradescope)} (Gradescope autograder bundle)")
    if args.outdir:
        return write_learner_release(Path(args.outdir), args.force, console)
    return 0


def write_learner_release(out: Path, force: bool, console: Console) -> int:
    if out.exists() and any(out.iterdir()) and not force:
        raise UsageError(f"{out} is not empty: choose an empty directory or pass --force")
    if out.exists() and force:
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    files = write_release(out)
    try:
        scan(files)
    except LeakFound as leak:
        shutil.rmtree(out)
        raise UsageError(f"release removed, it would leak: {leak}") from None
    for path in files:
        console.print(f"wrote {path}")
    console.print(f"release: {len(files)} files in {out}, no solution line or hidden test among them")
    return 0


def main(argv: list[str], console: Console) -> int:
    return run_release(release_parser().parse_args(argv), console)
