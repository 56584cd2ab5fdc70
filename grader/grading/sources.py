"""Find the learner's file for each exercise and prepare it as a plain Python module.

A submission is a directory holding `encoding.py` / `encoding.ipynb`, `forward.py` / `forward.ipynb`,
`next_letter.py` / `next_letter.ipynb` (any subset), or a single such file. Notebooks are converted
with nbconvert's `PythonExporter` after `strip_shell_and_magics` has commented out the lines plain
Python cannot run (`%magics`, `!shell`). This module only reads and converts: nothing the learner
wrote is executed here.
"""

import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.core.config import EXERCISES
from grader.core.errors import UsageError

# A notebook must be this much newer than the .py beside it to be preferred: a fresh checkout or a
# release gives both files nearly the same time.
NEWER_BY_S = 1.0
MAX_SOURCE_BYTES = 2 << 20


@dataclass
class Source:
    """The file graded for one exercise, why it was chosen, or why there is none."""

    exercise: str
    path: Path | None
    reason: str
    problem: str | None = None


def strip_shell_and_magics(notebook: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """An nbconvert preprocessor: comment out IPython-only lines (`%magic`, `!shell`) in code cells."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = "\n".join(strip_line(line) for line in cell.source.splitlines())
    return notebook, resources


def strip_line(line: str) -> str:
    stripped = line.lstrip()
    if stripped.startswith(("%", "!")) or "get_ipython()" in line:
        indent = line[: len(line) - len(stripped)]
        return f"{indent}pass  # removed by grade (IPython only): {stripped}"
    return line


def present(path: Path) -> bool:
    """A file, or a link (even a broken one): never followed, `prepare` refuses it by name."""
    return path.is_file() or path.is_symlink()


def choose(directory: Path, exercise: str) -> Source:
    """Pick `exercise`.py or `exercise`.ipynb in `directory` and say why."""
    py, nb = directory / f"{exercise}.py", directory / f"{exercise}.ipynb"
    if present(py) and present(nb):
        if nb.lstat().st_mtime > py.lstat().st_mtime + NEWER_BY_S:
            return Source(exercise, nb, f"{nb.name} is newer than {py.name}")
        return Source(exercise, py, f"{py.name} is as new as or newer than {nb.name}")
    for path in (py, nb):
        if present(path):
            return Source(exercise, path, f"the only {exercise} file")
    return Source(exercise, None, "", f"no {py.name} or {nb.name} in the submission: add one to grade this exercise")


def locate(path: str | Path, only: Sequence[str] | None = None) -> tuple[list[Source], list[str]]:
    """Return (sources, selected): the `Source` of every exercise found beside `path`, so one module
    can import another, and the exercises to grade (`only`, or the one file named, or all)."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path} does not exist: give a submission directory or an exercise file")
    unknown = sorted(set(only or ()) - set(EXERCISES))
    if unknown:
        raise UsageError(f"--only {', '.join(unknown)}: no such exercise; choose from {', '.join(EXERCISES)}")
    if path.is_dir():
        return [choose(path, exercise) for exercise in EXERCISES], list(only or EXERCISES)
    if path.stem not in EXERCISES or path.suffix not in (".py", ".ipynb"):
        raise UsageError(f"{path.name} is not an exercise file: expected one of "
                         + ", ".join(f"{e}.py or {e}.ipynb" for e in EXERCISES))
    if only and path.stem not in only:
        raise UsageError(f"{path.name} is the {path.stem} exercise, but --only asks for {', '.join(only)}")
    sources = [choose(path.parent, exercise) for exercise in EXERCISES if exercise != path.stem]
    return [Source(path.stem, path, "the file named on the command line"), *sources], [path.stem]


def notebook_to_python(path: Path) -> str:
    """Convert a notebook to Python source, or raise ValueError naming the file and the fix."""
    import nbformat  # here, not at the top: a `grade` of .py files need not pay its import

    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as exc:  # nbformat raises several unrelated types for a broken file
        raise ValueError(f"{path.name} is not a valid notebook ({type(exc).__name__}: {str(exc)[:200]}); "
                         f"re-save it from Jupyter or submit {path.stem}.py instead") from None
    from nbconvert import PythonExporter  # here too: the costliest import of a `grade` start-up

    exporter = PythonExporter()
    exporter.register_preprocessor(strip_shell_and_magics, enabled=True)
    with warnings.catch_warnings():
        # nbconvert wants IPython to translate magics; strip_shell_and_magics has already removed them.
        warnings.filterwarnings("ignore", message="IPython is needed")
        source, _ = exporter.from_notebook_node(notebook)
    return "\n".join(strip_line(line) for line in source.splitlines()) + "\n"


def plain_file(path: Path) -> bool:
    """A regular file, not a link to one: links to files outside the submission are never followed."""
    return path.is_file() and not path.is_symlink()


def prepare(sources: list[Source], src_dir: Path) -> list[Source]:
    """Write each exercise as `src_dir/<exercise>.py`, plus the learner's other top-level `.py` helpers
    (regular files only: a link to a file is skipped).

    Returns the sources with `problem` set where the file could not be used.
    """
    src_dir.mkdir(parents=True, exist_ok=True)
    for source in sources:
        if source.path is None:
            continue
        for helper in source.path.parent.glob("*.py"):
            if helper.stem not in EXERCISES and plain_file(helper) and helper.stat().st_size <= MAX_SOURCE_BYTES:
                shutil.copyfile(helper, src_dir / helper.name)
        if not plain_file(source.path):
            # A link would make the grader, not the sandbox, read whatever it points at.
            source.problem = (f"{source.path.name} is a symbolic link: the grader reads only the files in the "
                              f"submission itself; submit {source.path.name} itself, not a link to it")
        elif source.path.stat().st_size > MAX_SOURCE_BYTES:
            source.problem = f"{source.path.name} is larger than {MAX_SOURCE_BYTES} bytes"
        elif source.path.suffix == ".ipynb":
            try:
                (src_dir / f"{source.exercise}.py").write_text(notebook_to_python(source.path))
            except ValueError as exc:
                source.problem = str(exc)
        else:
            shutil.copyfile(source.path, src_dir / f"{source.exercise}.py")
    return sources
