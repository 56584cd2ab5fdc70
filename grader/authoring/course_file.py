"""`course.toml` and what `grade build` derives from it: the course manifest the grader reads when it grades.

An exercise NAME is what the repository says it is: `solutions/NAME.py` with solution regions, listed in
`course.toml`, with its suites `grader/suites/public/test_NAME.py` and `grader/suites/hidden/test_hidden_NAME.py`.
`read` checks all of that and says what is missing, file by file (a solution that course.toml does not list is
an error, never skipped); `manifest` derives from the solutions what grading needs (core/course.py documents
the form), and `write_manifest` writes it where the grader and a release find it.
"""

import ast
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.authoring.regions import solution_regions
from grader.core.config import REPOSITORY
from grader.core.course import MANIFEST
from grader.core.errors import UsageError

COURSE_FILE = "course.toml"
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# The first heading of a solution's first narrative cell: `# # Exercise 2: the forward pass ...`.
HEADING = re.compile(r"^# #\s+(?:Exercise\s+\d+\s*:\s*)?(?P<title>.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class CourseFile:
    """course.toml, checked against the repository it lies in."""

    root: Path
    title: str
    exercises: tuple[str, ...]
    readme: str

    def solution(self, name: str) -> Path:
        return self.root / "solutions" / f"{name}.py"

    @property
    def manifest_path(self) -> Path:
        """Where this repository's grader reads the manifest (core/course.py MANIFEST, for this checkout)."""
        return self.root / MANIFEST.relative_to(MANIFEST.parents[2])


def suites_of(name: str, suites: Path) -> tuple[Path, Path]:
    """Exercise `name`'s public and hidden suites."""
    return suites / "public" / f"test_{name}.py", suites / "hidden" / f"test_hidden_{name}.py"


def load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except OSError:
        raise UsageError(f"{path} not found: run grade in the instructor's repository, which has course.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}") from None


def read_names(path: Path) -> tuple[str, ...]:
    """The exercises course.toml at `path` lists, in order, or UsageError saying what is wrong with the list."""
    names = load_toml(path).get("exercises")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and NAME.match(n) for n in names):
        raise UsageError(f"{path}: `exercises` must list the exercises' names (lower case, digits, _), in order")
    if len(set(names)) != len(names):
        raise UsageError(f"{path}: `exercises` lists a name twice")
    return tuple(names)


def read(root: Path = REPOSITORY) -> CourseFile:
    """course.toml of the repository at `root`, checked against its solutions and suites; UsageError says what
    to fix."""
    path = root / COURSE_FILE
    data = load_toml(path)
    title, readme = data.get("title"), data.get("readme", "")
    if not isinstance(title, str) or not isinstance(readme, str):
        raise UsageError(f"{path}: `title` and `readme` must be strings")
    course = CourseFile(root, title, read_names(path), readme)
    check_files(course, path)
    return course


def check_files(course: CourseFile, path: Path) -> None:
    """Every listed exercise has its solution and suites; every solution with regions is listed."""
    suites = course.manifest_path.parent
    for name in course.exercises:
        for needed in (course.solution(name), *suites_of(name, suites)):
            if not needed.is_file():
                raise UsageError(f"{path} lists exercise {name!r}, but {needed} does not exist: `grade new {name}` "
                                 "writes a solution and both suites to start from")
        if not list(solution_regions(course.solution(name).read_text())):
            raise UsageError(f"{course.solution(name)} has no `# BEGIN SOLUTION` ... `# END SOLUTION` region: "
                             "fence the learner's part of each function")
    for solution in sorted((course.root / "solutions").glob("*.py")):
        if solution.stem not in course.exercises and list(solution_regions(solution.read_text())):
            raise UsageError(f"{solution} has solution regions, so it is an exercise, but {path} does not list "
                             f"it: add {solution.stem!r} to `exercises` there (in the order learners take it)")


MISCONCEPTION_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def exercise_file(course: CourseFile, name: str) -> dict[str, Any]:
    """solutions/NAME.toml, what belongs to exercise `name` (its misconceptions and known-wrong variants), or {}
    where there is none."""
    path = course.root / "solutions" / f"{name}.toml"
    if not path.is_file():
        return {}
    data = load_toml(path)
    misconceptions = data.get("misconceptions", {})
    if not isinstance(misconceptions, dict) or not all(
            isinstance(key, str) and MISCONCEPTION_ID.match(key) and isinstance(hint, str) and hint.strip()
            for key, hint in misconceptions.items()):
        raise UsageError(f"{path}: [misconceptions] maps each id (lower case words joined by -) to the one-line hint "
                         "a learner sees")
    if not isinstance(data.get("variant", []), list):
        raise UsageError(f"{path}: each known-wrong variant is a [[variant]] table")
    return data


# What names a misconception in a suite: the first argument of these calls, and the `misconception=` argument of
# any call (grader/grading/checks.py, diagnose.py).
NAMING_CALLS = ("Misconception", "Mistake")


def named_misconceptions(source: str) -> set[str]:
    """The misconception ids a suite's source names as string literals."""
    named = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        function = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if function in NAMING_CALLS and node.args:
            named.add(node.args[0])
        named.update(keyword.value for keyword in node.keywords if keyword.arg == "misconception")
    return {value.value for value in named if isinstance(value, ast.Constant) and isinstance(value.value, str)}


def undeclared_misconceptions(course: CourseFile, declared: set[str]) -> list[str]:
    """"FILE: id" for each id a suite names that neither an exercise (solutions/NAME.toml) nor the grader declares."""
    declared = declared | {key for name in course.exercises
                           for key in exercise_file(course, name).get("misconceptions", {})}
    suites = course.manifest_path.parent
    return [f"{path}: {key}" for path in sorted(suites.rglob("*.py"))
            for key in sorted(named_misconceptions(path.read_text()) - declared)]


def exercise_title(source: str, name: str) -> str:
    """The first narrative heading of a solution (without its "Exercise N:"), or the exercise's name."""
    found = HEADING.search(source)
    return found.group("title") if found else name


def manifest(course: CourseFile) -> dict[str, object]:
    """What grading needs to know of the course (the form core/course.py reads)."""
    exercises = []
    for name in course.exercises:
        source = course.solution(name).read_text()
        functions = list(dict.fromkeys(function for _, _, function in solution_regions(source)))
        exercises.append({"name": name, "title": exercise_title(source, name), "functions": functions,
                          "misconceptions": exercise_file(course, name).get("misconceptions", {})})
    return {"title": course.title, "exercises": exercises}


def manifest_text(course: CourseFile) -> str:
    return json.dumps(manifest(course), indent=1) + "\n"


def write_manifest(course: CourseFile) -> Path:
    course.manifest_path.write_text(manifest_text(course))
    return course.manifest_path


def learner_readme(course: CourseFile) -> str:
    """The release's README: course.toml's `readme`, its {title}, {first} and {exercises} filled in."""
    titles = [exercise_title(course.solution(name).read_text(), name) for name in course.exercises]
    listed = "\n".join(f"{number}. `{name}`: {title[:1].upper()}{title[1:]}"
                       for number, (name, title) in enumerate(zip(course.exercises, titles, strict=True), start=1))
    return (course.readme.replace("{title}", course.title).replace("{first}", course.exercises[0])
            .replace("{exercises}", listed))
