"""Generate the learner's exercises (stubs and notebooks) from the reference solutions.

`solutions/NAME.py` is the single source. It is written in the percent format: `# %% [markdown]`
starts a narrative cell whose lines are comments, `# %%` starts a code cell, and the learner's part
of each function sits between `# BEGIN SOLUTION` and `# END SOLUTION`. From it we write

- `exercises/NAME.py`: the same file with every solution region replaced by a
  `raise NotImplementedError(...)` that tells the learner what to do;
- `exercises/NAME.ipynb`: one notebook cell per percent cell (stubbed), then a cell that grades the
  saved notebook from its own kernel (`grader.grading.notebook.grade_here`).

`course.toml` says which solutions are exercises, in order (authoring/course_file.py); `grade build` also
writes the course manifest, `grader/suites/course.json`, from which the grader learns each exercise's
functions (by them it tells a learner's work from an untouched stub).

Nobody edits `exercises/` by hand: `tests/system/test_exercises.py` fails when it drifts from this output,
and `grade build` refuses to overwrite a file changed since it wrote it (`exercises/.generated.json`
records what it wrote) unless `--force`.
"""

import argparse
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from rich.console import Console

from grader.authoring import course_file
from grader.authoring.regions import solution_regions
from grader.core.errors import UsageError
from grader.grading import feedback

# What the last `grade build` wrote ({file: sha256}), so a later build can tell a hand edit from its own output.
MANIFEST = ".generated.json"


@dataclass
class Cell:
    kind: str  # "markdown" or "code"
    source: str


def stub_source(source: str, module: str) -> str:
    """Return `source` with each solution region replaced by a NotImplementedError for `module`.py."""
    lines = source.splitlines()
    out, cursor = [], 0
    for first, last, func in solution_regions(source):
        indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
        out += lines[cursor:first]
        out.append(
            f'{indent}raise NotImplementedError("{func}() in {module}.py is not written yet: '
            f'replace this line with your code (the docstring above says what it takes and returns).")'
        )
        cursor = last + 1
    out += lines[cursor:]
    return "\n".join(out) + "\n"


def split_cells(source: str) -> list[Cell]:
    """Split a percent-format file into Cells; narrative comment markers are removed."""
    cells: list[Cell]
    kind: str | None
    body: list[str]
    cells, kind, body = [], None, []

    def flush() -> None:
        text = "\n".join(body).strip("\n")
        if kind is not None and text:
            cells.append(Cell(kind, text))

    for line in source.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, body = ("markdown" if "[markdown]" in line else "code"), []
        elif kind == "markdown":
            body.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        else:
            body.append(line)
    flush()
    return cells


def grade_cells(module: str) -> list[Cell]:
    """The closing cells of every notebook: how to check your work, from the notebook itself.

    The code cell calls `grader.grading.notebook.grade_here`, which runs the grader with the kernel's
    own Python (no `grade` on PATH needed), shows the feedback page in the notebook, says when the
    saved file is older than what the kernel ran, and fails the cell when grading fails.
    """
    return [
        Cell(
            "markdown",
            "## Check your work\n"
            "Save the notebook, then run the cell below. It grades the saved file with the public checks, in a "
            "separate process, and shows which check failed and why. If you changed and ran cells since you "
            f"last saved, it says so: save, then run it again. (In a terminal: `grade {module}.ipynb`.)",
        ),
        Cell("code", f'from grader.grading.notebook import grade_here\n\ngrade_here("{module}.ipynb")'),
    ]


def build_notebook(cells: list[Cell], module: str) -> nbformat.NotebookNode:
    """Return an nbformat v4 notebook with deterministic cell ids (so regeneration is byte-stable)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, cell in enumerate(cells):
        new = nbformat.v4.new_markdown_cell if cell.kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(new(cell.source, id=f"{module}-{i}"))
    return nb


def render_exercise(solution_path: str | Path) -> dict[str, str]:
    """{file name: text} of the stub `.py` and the notebook for one solution file."""
    module = Path(solution_path).stem
    solution = Path(solution_path).read_text()
    stub = stub_source(solution, module)
    notebook = build_notebook(split_cells(stub) + grade_cells(module), module)
    nbformat.validate(notebook)
    return {f"{module}.py": stub, f"{module}.ipynb": nbformat.writes(notebook) + "\n"}


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hand_edited(out_dir: Path, files: dict[str, str]) -> list[str]:
    """The files in `out_dir` that the new build would change and the last build did not write as
    they are now (MANIFEST records what it wrote): someone edited them by hand."""
    manifest_path = out_dir / MANIFEST
    written = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    edited = []
    for name, text in files.items():
        path = out_dir / name
        if not path.is_file():
            continue
        current = digest(path.read_bytes())
        if current != digest(text.encode()) and written.get(name) != current:
            edited.append(name)
    return edited


def build_all(solutions_dir: str | Path, out_dir: str | Path, force: bool = False,
              exercises: Sequence[str] | None = None) -> list[Path]:
    """Regenerate every exercise (`exercises`, or those of the course.toml beside `solutions_dir`) from
    `solutions_dir` into `out_dir`; return the paths written.

    Refuses (UsageError) to overwrite a file someone edited by hand since the last build, unless
    `force`: the exercises are generated, and an edit there would be lost without a word.
    """
    out = Path(out_dir)
    if exercises is None:
        exercises = course_file.read(Path(solutions_dir).resolve().parent).exercises
    files: dict[str, str] = {}
    for module in exercises:
        files.update(render_exercise(Path(solutions_dir) / f"{module}.py"))
    edited = [] if force else hand_edited(out, files)
    if edited:
        raise UsageError(f"{', '.join(f'{out}/{name}' for name in edited)} changed since `grade build` wrote "
                         f"{'them' if len(edited) > 1 else 'it'}: exercises are generated from solutions/, so "
                         "make the change there (or keep a copy), then run `grade build --force` to overwrite")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        (out / name).write_text(text)
        written.append(out / name)
    manifest = {name: digest(text.encode()) for name, text in files.items()}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return [*written, out / MANIFEST]


def main(argv: list[str], console: Console) -> int:
    """`grade build`: regenerate exercises/ and the course manifest from course.toml and solutions/."""
    parser = argparse.ArgumentParser(prog="grade build", description="Regenerate exercises/ and the course manifest "
                                                                     "from course.toml and solutions/.")
    parser.add_argument("--solutions", default="solutions")
    parser.add_argument("--out", default="exercises")
    parser.add_argument("--force", action="store_true", help="overwrite files edited by hand since the last build")
    args = parser.parse_args(argv)
    if not Path(args.solutions).is_dir():
        raise UsageError(f"{args.solutions}/ not found: run grade build from the instructor's repository")
    course = course_file.read(Path(args.solutions).resolve().parent)
    undeclared = course_file.undeclared_misconceptions(course, set(feedback.GRADER_HINTS))
    if undeclared:
        raise UsageError("the suites name misconceptions that no exercise declares (add each, with its hint, to "
                         "[misconceptions] in its solutions/NAME.toml): " + "; ".join(undeclared))
    for path in build_all(Path(args.solutions), Path(args.out), force=args.force, exercises=course.exercises):
        console.print(f"wrote {path}")
    console.print(f"wrote {course_file.write_manifest(course)}")
    return 0
