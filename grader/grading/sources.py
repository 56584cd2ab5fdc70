"""Find the learner's file for each exercise and prepare it as a plain Python module.

A submission is a directory holding, for any of the course's exercises (`core/course.py`), `NAME.py` or
`NAME.ipynb`, or a single such file.

- **Which file** (`choose`): where both `NAME.py` and `NAME.ipynb` exist, the one that holds the
  learner's work is graded. A file whose functions (those the course manifest lists: `core/course.py`)
  all still raise the generated stub's NotImplementedError holds none, whatever its modification time:
  a `git clone` or an unzip gives both files the same time. When both hold work, the newer; when neither
  is newer, the one with more functions written, and the reason (the report's `why_this_file`) says how
  to grade the other.
- **Notebooks** (`convert_notebook`) become one module, code cell after code cell: IPython-only lines
  (`%magics`, `!shell`, `obj?`, cell magics) are made inert, `display` and `get_ipython` are defined
  as doing nothing where the notebook uses them (IPython gives every notebook both), the notebook's
  own grade cell is left out, and every line keeps where it came from (`CellLine`), so that an error
  names the learner's cell, not the converted file (`in_notebooks`).
- **Helpers** (`list_helpers`: copied by `prepare`, packed by `grade submit`): other `.py` files
  beside the exercises, and packages (a directory with an `__init__.py`, its `.py` files at any
  depth), are copied with them; links are never followed, and sizes are capped per file and in all.

This module only reads and converts: nothing the learner wrote is executed here.
"""

import ast
import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.core.course import course, exercises
from grader.core.errors import UsageError

# Where both files hold work, one must be this much newer than the other to be preferred: a clone,
# an unzip or an upload gives both nearly the same time.
NEWER_BY_S = 1.0
MAX_SOURCE_BYTES = 2 << 20
# Helper modules and packages, all together: what is beyond these is left out.
MAX_HELPER_BYTES = 8 << 20
MAX_HELPER_FILES = 256
MAX_PACKAGE_DEPTH = 8

# What every stub's `raise NotImplementedError("f() in m.py is not written yet: ...")` says.
STUB_MARK = "is not written yet"


@dataclass(frozen=True)
class CellLine:
    """Where a line of a converted notebook comes from: its code cell (1-based, counting code cells
    only), the cell's execution count if it has one (Jupyter shows it as `In [n]`), its line there."""

    cell: int
    count: int | None
    line: int

    def describe(self, notebook: str) -> str:
        shown = f" (In [{self.count}])" if self.count is not None else ""
        return f"{notebook} code cell {self.cell}{shown}, line {self.line}"


@dataclass
class Converted:
    """A notebook as one Python module; `lines[i]` says where line i + 1 came from (None: grade's own)."""

    source: str
    lines: list[CellLine | None]


@dataclass
class Source:
    """The file graded for one exercise, why it was chosen, or why there is none."""

    exercise: str
    path: Path | None
    reason: str
    problem: str | None = None
    # For a notebook, once prepared: each line of the module graded -> its cell (see `in_notebooks`).
    line_map: list[CellLine | None] | None = field(default=None, repr=False)


# -- notebooks as modules ----------------------------------------------------------------------
INERT = "pass  # removed by grade (IPython only): "
# `obj?`, `obj??`, `?obj`: IPython's help.
HELP = re.compile(r"^(\?\??[\w.]+|[\w.]+\?\??)\s*$")
# `files = !ls`, `t = %timeit -o f()`: IPython captures the output; here the name is None.
ASSIGNED_MAGIC = re.compile(r"^(\s*[A-Za-z_][\w.]*\s*=\s*)([!%].*)$")
# Cell magics whose body IPython runs as Python; any other (`%%bash`, `%%writefile`...) is not Python.
CELL_MAGICS_THAT_RUN = ("time", "timeit", "capture", "prun")
USES_IPYTHON = re.compile(r"\b(display|get_ipython|IPython)\b")
IMPORTS_IPYTHON = re.compile(r"^\s*(from|import)\s+IPython\b", re.MULTILINE)
PRELUDE = '''\
# added by grade: what IPython gives every notebook, doing nothing when graded
def display(*objects, **options):
    return None


class _GradeInertShell:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def get_ipython():
    return _GradeInertShell()
'''
# Added when the notebook imports IPython: where the grading environment has no IPython, its
# modules are stand-ins whose every name does nothing (`from IPython.display import HTML`).
IPYTHON_STANDIN = '''\
try:
    import IPython as _grade_ipython  # noqa: F401
except ImportError:
    import importlib.abc as _grade_abc
    import importlib.machinery as _grade_machinery
    import sys as _grade_sys
    import types as _grade_types

    class _GradeInertModule(_grade_types.ModuleType):
        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            return {"display": display, "get_ipython": get_ipython}.get(name, lambda *args, **kwargs: None)

    class _GradeIPythonFinder(_grade_abc.MetaPathFinder, _grade_abc.Loader):
        def find_spec(self, name, path=None, target=None):
            if name == "IPython" or name.startswith("IPython."):
                return _grade_machinery.ModuleSpec(name, self, is_package=True)
            return None

        def create_module(self, spec):
            return _GradeInertModule(spec.name)

        def exec_module(self, module):
            return None

    _grade_sys.meta_path.append(_GradeIPythonFinder())
'''


def cell_lines(source: str) -> list[str]:
    """A cell's lines as Python's compiler counts them (`str.splitlines` also splits at \\f, \\x1c...)."""
    return source.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parses(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # the last two: absurdly nested code
        return None


def inert_line(line: str) -> str:
    """`line` with IPython-only syntax made inert, at the same indent (so blocks stay valid)."""
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    if stripped.startswith(("%", "!")) or HELP.match(stripped):
        return f"{indent}{INERT}{stripped}"
    assigned = ASSIGNED_MAGIC.match(line)
    if assigned:
        return f"{assigned[1]}None  # removed by grade (IPython only): {assigned[2]}"
    return line


def grading_statement(node: ast.stmt) -> bool:
    """The notebook's own grade cell (`from grader... import grade_here`, `grade_here(...)`): it grades
    the notebook from the learner's kernel, and means nothing (the worker refuses `grader`) when graded."""
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "grader"
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] == "grader" for alias in node.names)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        return (func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")) == "grade_here"
    return False


def inert_cell(source: str) -> list[str]:
    """A code cell's lines as plain Python, one for one (so line numbers within the cell hold)."""
    lines = cell_lines(source)
    first = lines[0].lstrip()
    if first.startswith("%%"):
        magic = (first[2:].split() or [""])[0]
        head = f"{lines[0][: len(lines[0]) - len(first)]}{INERT}{first}"
        if magic in CELL_MAGICS_THAT_RUN:
            return [head, *inert_cell("\n".join(lines[1:]))] if len(lines) > 1 else [head]
        return [head, *(f"# {line}" for line in lines[1:])]
    tree = parses(source)
    if tree is None:  # IPython syntax (or a learner's syntax error): line by line
        lines = [inert_line(line) for line in lines]
        tree = parses("\n".join(lines))
        if tree is None:
            return lines
    firsts: set[int] = set()
    rest: set[int] = set()
    for node in tree.body:  # a cell's statements start in column 0
        if grading_statement(node):
            firsts.add(node.lineno - 1)
            rest.update(range(node.lineno, node.end_lineno or node.lineno))
    return [f"pass  # removed by grade (the grading cell): {line}" if i in firsts
            else f"# removed by grade (the grading cell): {line}" if i in rest else line
            for i, line in enumerate(lines)]


def convert_notebook(path: Path) -> Converted:
    """The code cells of the notebook at `path` as one module, with where each line came from.

    Raises ValueError naming the file and the fix when it is not a valid notebook.
    """
    import nbformat  # here, not at the top: a `grade` of .py files need not pay its import

    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as exc:  # nbformat raises several unrelated types for a broken file
        raise ValueError(f"{path.name} is not a valid notebook ({type(exc).__name__}: {str(exc)[:200]}); "
                         f"re-save it from Jupyter or submit {path.stem}.py instead") from None
    count = "execution_count"
    return convert_cells(path.name, [(cell.source, cell.get(count)) for cell in notebook.cells
                                     if cell.cell_type == "code"])


def execution_count(value: Any) -> int | None:
    """A cell's `execution_count` as saved: a number (Jupyter's `In [n]`), or None for a cell not run."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def peek_code_cells(path: Path) -> list[tuple[str, int | None]]:
    """(source, execution count) of each code cell of a version 4 notebook, read as plain JSON and
    unvalidated: enough to see whether it holds work without paying nbformat's import (`choose` runs on
    every `grade`), or which runs it holds (`notebook.grade_here`). Raises ValueError."""
    notebook = json.loads(path.read_text())
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4 or not isinstance(notebook.get("cells"), list):
        raise ValueError(f"{path.name} is not a version 4 notebook")
    cells = []
    for cell in notebook["cells"]:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            cells.append(("".join(map(str, source)) if isinstance(source, list) else str(source),
                          execution_count(cell.get("execution_count"))))
    return cells


def convert_cells(name: str, cells: list[tuple[str, Any]]) -> Converted:
    """Code cells, as (source, execution count), as one module, with where each line came from."""
    lines: list[str] = [f"# {name} as one module (by grade): its code cells in order, each under its number"]
    where: list[CellLine | None] = [None]
    prelude = "\n".join(source for source, _ in cells)
    prelude_due = bool(USES_IPYTHON.search(prelude))
    for number, (source, executed) in enumerate(cells, 1):
        if prelude_due and USES_IPYTHON.search(source):
            added = PRELUDE + (IPYTHON_STANDIN if IMPORTS_IPYTHON.search(prelude) else "")
            lines += ["", *cell_lines(added.rstrip("\n"))]
            where += [None] * (len(lines) - len(where))
            prelude_due = False
        count = execution_count(executed)
        lines += ["", f"# code cell {number}" + (f" (In [{count}])" if count is not None else "")]
        where += [None, None]
        for line_number, line in enumerate(inert_cell(source), 1):
            lines.append(line)
            where.append(CellLine(number, count, line_number))
    return Converted("\n".join(lines) + "\n", where)


def in_notebooks(message: str, sources: Sequence[Source]) -> str:
    """`message` with each place in a converted notebook ("forward.py line 74", as the worker and
    Python's own messages name it) replaced by the notebook's cell and line."""
    for source in sources:
        line_map = source.line_map
        if line_map is None or source.path is None:
            continue
        name = source.path.name

        def cell_of(match: re.Match[str], line_map: list[CellLine | None] = line_map, name: str = name) -> str:
            number = int(match[2])
            place = line_map[number - 1] if 0 < number <= len(line_map) else None
            return place.describe(name) if place else f"{name} (a line grade added), line {number}"

        message = re.sub(rf"(?<![\w.]){re.escape(source.exercise)}\.py(,?) line (\d+)", cell_of, message)
    return message


# -- which file ----------------------------------------------------------------------------------
def present(path: Path) -> bool:
    """A file, or a link (even a broken one): never followed, `prepare` refuses it by name."""
    return path.is_file() or path.is_symlink()


def is_stub(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Does the body still hold the generated `raise NotImplementedError("... is not written yet ...")`?"""
    for node in function.body:
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            call = node.exc
            if isinstance(call.func, ast.Name) and call.func.id == "NotImplementedError" and call.args:
                text = call.args[0]
                if isinstance(text, ast.Constant) and isinstance(text.value, str) and STUB_MARK in text.value:
                    return True
    return False


def stubs_left(path: Path, exercise: str) -> int | None:
    """How many of the exercise's functions in `path` still are the generated stub; None when that
    cannot be told without doing more than read the file (a link, too large, not valid Python)."""
    if not plain_file(path) or path.stat().st_size > MAX_SOURCE_BYTES:
        return None
    try:
        if path.suffix == ".ipynb":
            source = convert_cells(path.name, peek_code_cells(path)).source
        else:
            source = path.read_text()
    except (ValueError, OSError, RecursionError):
        return None
    tree = parses(source)
    if tree is None:
        return None
    last: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in tree.body:  # a notebook may define a function again in a later cell: the last one counts
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            last[node.name] = node
    return sum(1 for name in course().functions(exercise) if name in last and is_stub(last[name]))


def holds_work(stubs: int | None, exercise: str) -> bool:
    """Unless every function of the exercise is still the generated stub (unknown counts as work)."""
    return stubs is None or stubs < len(course().functions(exercise))


def unreadable(path: Path) -> str:
    """Why the user running grade cannot read `path` (a file, or a directory to list and enter), or ""."""
    if os.access(path, os.R_OK | os.X_OK if path.is_dir() else os.R_OK):
        return ""
    return (f"{path} cannot be read by the user running grade (uid {os.getuid()}): make it readable, "
            f"e.g. `chmod -R a+rX {path}`")


def choose(directory: Path, exercise: str) -> Source:
    """Pick `exercise`.py or `exercise`.ipynb in `directory` and say why."""
    py, nb = directory / f"{exercise}.py", directory / f"{exercise}.ipynb"
    if present(py) and present(nb):
        return choose_between(exercise, py, nb)
    for path in (py, nb):
        if present(path):
            return Source(exercise, path, f"the only {exercise} file")
    return Source(exercise, None, "", f"no {py.name} or {nb.name} in the submission: add one to grade this exercise")


def choose_between(exercise: str, py: Path, nb: Path) -> Source:
    """Both files exist: grade the one with the learner's work in it, by content before time."""
    stubs = {py: stubs_left(py, exercise), nb: stubs_left(nb, exercise)}
    work = [path for path in (py, nb) if holds_work(stubs[path], exercise)]
    if not work:
        return Source(exercise, py, f"neither {py.name} nor {nb.name} has a function written yet "
                                    "(each still raises NotImplementedError)")
    if len(work) == 1:
        (chosen,), other = work, (nb if work == [py] else py)
        return Source(exercise, chosen, f"{chosen.name} holds your work; {other.name} is still the stub "
                                        "(every function raises NotImplementedError)")
    age = nb.lstat().st_mtime - py.lstat().st_mtime
    if abs(age) > NEWER_BY_S:
        chosen, other = (nb, py) if age > 0 else (py, nb)
        return Source(exercise, chosen, f"both {py.name} and {nb.name} hold work, and {chosen.name} is newer; "
                                        f"to grade {other.name} instead, run `grade {other}`")
    # Functions written in each (-1: a file that could not be read as Python, which counts least).
    written = {path: -1 if count is None else len(course().functions(exercise)) - count
               for path, count in stubs.items()}
    if written[py] > written[nb]:
        chosen, other, why = py, nb, "it has more functions written"
    elif written[nb] > written[py]:
        chosen, other, why = nb, py, "it has more functions written"
    else:
        chosen, other, why = nb, py, "the notebook, as neither has more functions written"
    return Source(exercise, chosen, f"both {py.name} and {nb.name} hold work and have the same modification time "
                                    f"(as after a clone or an unzip): graded {chosen.name}, {why}; to grade "
                                    f"{other.name} instead, run `grade {other}`")


def locate(path: str | Path, only: Sequence[str] | None = None) -> tuple[list[Source], list[str]]:
    """Return (sources, selected): the `Source` of every exercise found beside `path`, so one module
    can import another, and the exercises to grade (`only`, or the one file named, or all)."""
    path, names = Path(path), exercises()
    if not path.exists():
        raise UsageError(f"{path} does not exist: give a submission directory or an exercise file")
    unknown = sorted(set(only or ()) - set(names))
    if unknown:
        raise UsageError(f"--only {', '.join(unknown)}: no such exercise; choose from {', '.join(names)}")
    if unreadable(path.parent if path.is_file() else path):
        raise UsageError(unreadable(path.parent if path.is_file() else path))
    if path.is_dir():
        return [choose(path, exercise) for exercise in names], list(only or names)
    if path.stem not in names or path.suffix not in (".py", ".ipynb"):
        raise UsageError(f"{path.name} is not an exercise file: expected one of "
                         + ", ".join(f"{e}.py or {e}.ipynb" for e in names))
    if only and path.stem not in only:
        raise UsageError(f"{path.name} is the {path.stem} exercise, but --only asks for {', '.join(only)}")
    sources = [choose(path.parent, exercise) for exercise in names if exercise != path.stem]
    return [Source(path.stem, path, "the file named on the command line"), *sources], [path.stem]


def require_exercise_files(path: Path, found: Sequence[Source], named: Path | None = None) -> None:
    """UsageError unless `found` (what `locate` found in the directory `path`) holds at least one
    exercise file; the message names `named` (what the learner gave: a zip unpacked to `path`) or `path`."""
    if path.is_dir() and not any(source.path for source in found):
        expected = ", ".join(f"{name}.py" for name in exercises())
        raise UsageError(f"{named or path} is not a submission: it holds none of the exercise files ({expected}, "
                         "or the .ipynb of each); give the directory that holds them")


def plain_file(path: Path) -> bool:
    """A regular file, not a link to one: links to files outside the submission are never followed."""
    return path.is_file() and not path.is_symlink()


def plain_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


@dataclass(frozen=True)
class Helper:
    """A helper file beside the exercises: where it lies, where it goes (relative to the submission's
    directory, and to the directory graded), and why it is left out (None: it is copied)."""

    path: Path
    relative: Path
    left_out: str | None = None


@dataclass
class HelperBudget:
    """What is left of the caps on helper files (count and bytes, all together)."""

    # Read when a budget is made, not when this module is: the caps are module settings.
    files: int = field(default_factory=lambda: MAX_HELPER_FILES)
    bytes: int = field(default_factory=lambda: MAX_HELPER_BYTES)

    def take(self, source: Path, relative: Path) -> Helper:
        """One `.py` helper, copied unless it is a link, over the per-file cap or over what is left."""
        if source.is_symlink():
            return Helper(source, relative, "a symbolic link (the grader never follows links)")
        if not plain_file(source):
            return Helper(source, relative, "not a regular file")
        if unreadable(source):
            return Helper(source, relative, "not readable by the user running grade")
        size = source.stat().st_size
        if size > MAX_SOURCE_BYTES:
            return Helper(source, relative, f"larger than {MAX_SOURCE_BYTES} bytes")
        if size > self.bytes or self.files < 1:
            return Helper(source, relative, f"over the cap on helpers ({MAX_HELPER_FILES} files, "
                                            f"{MAX_HELPER_BYTES} bytes in all)")
        self.files, self.bytes = self.files - 1, self.bytes - size
        return Helper(source, relative)


def is_package(path: Path) -> bool:
    """A directory (not a link) with an `__init__.py` (not a link) whose name Python can import."""
    return (plain_dir(path) and path.name.isidentifier() and not unreadable(path)
            and plain_file(path / "__init__.py"))


def package_helpers(package: Path, relative: Path, budget: HelperBudget, depth: int = 1) -> list[Helper]:
    """The `.py` files of `package` and of its sub-directories (links never followed)."""
    helpers: list[Helper] = []
    for entry in sorted(package.iterdir()):
        if entry.is_dir() and entry.is_symlink():
            helpers.append(Helper(entry, relative / entry.name, "a symbolic link (the grader never follows links)"))
        elif plain_dir(entry) and entry.name.isidentifier() and depth < MAX_PACKAGE_DEPTH:
            helpers += package_helpers(entry, relative / entry.name, budget, depth + 1)
        elif entry.suffix == ".py":
            helpers.append(budget.take(entry, relative / entry.name))
    return helpers


def list_helpers(directory: Path, budget: HelperBudget | None = None) -> list[Helper]:
    """The learner's other modules and packages beside the exercises, each copied or left out (and why):
    what `prepare` copies, so the exercises can import them, and what `grade submit` packs."""
    budget = budget or HelperBudget()
    helpers: list[Helper] = []
    for entry in sorted(directory.iterdir()):
        if entry.stem in exercises():
            continue
        if entry.suffix == ".py":
            helpers.append(budget.take(entry, Path(entry.name)))
        elif is_package(entry):
            helpers += package_helpers(entry, Path(entry.name), budget)
        elif entry.is_dir() and entry.is_symlink() and (entry / "__init__.py").exists():
            helpers.append(Helper(entry, Path(entry.name), "a symbolic link (the grader never follows links)"))
    return helpers


def helper_directories(sources: Sequence[Source]) -> list[Path]:
    """The directories the exercise files lie in, whose helpers are graded with them."""
    return list(dict.fromkeys(source.path.parent for source in sources if source.path is not None))


def prepare(sources: list[Source], src_dir: Path) -> list[Source]:
    """Write each exercise as `src_dir/<exercise>.py` (a notebook converted, with its `line_map`), plus
    the learner's helper modules and packages beside it (`list_helpers`).

    Returns the sources with `problem` set where the file could not be used.
    """
    src_dir.mkdir(parents=True, exist_ok=True)
    budget = HelperBudget()
    for directory in helper_directories(sources):
        for helper in list_helpers(directory, budget):
            if helper.left_out is None:
                target = src_dir / helper.relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(helper.path, target)
    for source in sources:
        if source.path is None:
            continue
        if not plain_file(source.path):
            # A link would make the grader, not the sandbox, read whatever it points at.
            source.problem = (f"{source.path.name} is a symbolic link: the grader reads only the files in the "
                              f"submission itself; submit {source.path.name} itself, not a link to it")
        elif source.path.stat().st_size > MAX_SOURCE_BYTES:
            source.problem = f"{source.path.name} is larger than {MAX_SOURCE_BYTES} bytes"
        elif unreadable(source.path):
            source.problem = unreadable(source.path)
        elif source.path.suffix == ".ipynb":
            try:
                converted = convert_notebook(source.path)
            except ValueError as exc:
                source.problem = str(exc)
            else:
                (src_dir / f"{source.exercise}.py").write_text(converted.source)
                source.line_map = converted.lines
        else:
            shutil.copyfile(source.path, src_dir / f"{source.exercise}.py")
    return sources
