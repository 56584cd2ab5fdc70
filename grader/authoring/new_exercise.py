"""`grade new NAME`: scaffold an exercise that `grade build`, `grade solutions`, `grade selfcheck` and `grade release`
take at once.

It writes, from `templates/new/`, a reference solution with a narrative cell and one fenced function
(`solutions/NAME.py`), what belongs to the exercise (`solutions/NAME.toml`: one misconception and one
known-wrong variant), a public and a hidden suite with one check each, and adds NAME to course.toml's
`exercises`. It never overwrites a file: the instructor then replaces the example with the real exercise
(docs/authoring.md walks through it).
"""

import argparse
import re
from pathlib import Path
from string import Template

from rich.console import Console

from grader.authoring import course_file
from grader.core.config import REPOSITORY
from grader.core.errors import UsageError

TEMPLATES = Path(__file__).with_name("templates") / "new"
# The exercises list in course.toml (one line or several), rewritten with the new name at its end.
EXERCISES_LIST = re.compile(r"^exercises\s*=\s*\[[^\]]*\]", re.MULTILINE)


def planned(root: Path, name: str) -> dict[Path, str]:
    """{file to write: template} for exercise `name` in the repository at `root`."""
    public, hidden = course_file.suites_of(name, root / "grader" / "suites")
    return {root / "solutions" / f"{name}.py": "solution.py.tmpl",
            root / "solutions" / f"{name}.toml": "exercise.toml.tmpl",
            public: "test_public.py.tmpl", hidden: "test_hidden.py.tmpl"}


def add_to_course(root: Path, name: str, after: str | None = None) -> None:
    """Add `name` to course.toml's `exercises`, after exercise `after` (at the end when None), keeping the rest
    of the file as it is."""
    path = root / course_file.COURSE_FILE
    text = path.read_text()
    names = list(course_file.read_names(path))  # `after` is one of them: scaffold checked before writing
    names.insert(names.index(after) + 1 if after is not None else len(names), name)
    listed = ", ".join(f'"{n}"' for n in names)
    new, count = EXERCISES_LIST.subn(f"exercises = [{listed}]", text, count=1)
    if count != 1:
        raise UsageError(f"{path} has no `exercises = [...]` list to add {name!r} to")
    path.write_text(new)


def scaffold(root: Path, name: str, after: str | None = None) -> list[Path]:
    """Write exercise `name`'s four files and list it in course.toml (after exercise `after`, else at the end);
    return the files written."""
    if not course_file.NAME.match(name):
        raise UsageError(f"{name!r} cannot name an exercise: use lower case letters, digits and _, starting with a "
                         "letter (it becomes a module name, NAME.py)")
    names = course_file.read_names(root / course_file.COURSE_FILE)
    if name in names:
        raise UsageError(f"course.toml already lists exercise {name!r}")
    if after is not None and after not in names:
        raise UsageError(f"--after {after}: course.toml has no such exercise; it has {', '.join(names)}")
    files = planned(root, name)
    existing = [str(path) for path in files if path.exists()]
    if existing:
        raise UsageError(f"{', '.join(existing)} already exist(s): grade new never overwrites a file; choose another "
                         "name or remove them")
    title = name.replace("_", " ").capitalize()
    for path, template in files.items():
        path.write_text(Template((TEMPLATES / template).read_text()).substitute(name=name, title=title))
    add_to_course(root, name, after)
    course_file.read(root)  # the course with the new exercise is whole: its solution and suites are there
    return [*files, root / course_file.COURSE_FILE]


def main(argv: list[str], console: Console) -> int:
    parser = argparse.ArgumentParser(prog="grade new", description="Scaffold a new exercise: a solution, what belongs "
                                     "to it (misconceptions, a known-wrong variant), a public and a hidden suite.")
    parser.add_argument("name", help="the exercise's name (lower case, digits, _): its module is NAME.py")
    parser.add_argument("--after", metavar="EXERCISE", help="list it after this exercise in course.toml "
                                                            "(default: at the end)")
    args = parser.parse_args(argv)
    for path in scaffold(REPOSITORY, args.name, args.after):
        console.print(f"wrote {path}")
    console.print(f"next: `grade build`, `grade solutions --only {args.name}`, `grade selfcheck --only {args.name}`; "
                  "then make the example your exercise (docs/authoring.md: the tutorial and what a suite can use)")
    return 0
