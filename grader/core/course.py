"""The course as the grader sees it at grading time: its exercises, in order, and what belongs to each.

Nothing here names an exercise. An instructor's course is `course.toml` plus, per exercise NAME,
`solutions/NAME.py` and its suites; `grade build` (authoring/course_file.py) checks them and writes what
grading needs into `grader/suites/course.json`, which ships with the public suites in a learner's release
(where there is no `solutions/` to read):

    {"title": str, "exercises": [{"name": str, "title": str, "functions": [str, ...],
                                  "misconceptions": {id: hint}}, ...]}

- `functions`: the functions the learner writes (those the solution fences), by which an untouched stub
  is told from a learner's work;
- `misconceptions`: the mistakes the exercise's checks may name (solutions/NAME.toml), each with the hint a
  learner sees;
- `title`: the exercise's first narrative heading, for the learners' README and reports.

The manifest is read when first asked for, not when this module is imported: a missing or broken one is a
`GraderError` that `grade` reports (exit 3), with the command that writes it.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from grader.core.config import SUITES
from grader.core.errors import GraderError

MANIFEST = SUITES / "course.json"


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    functions: tuple[str, ...]
    misconceptions: dict[str, str]


@dataclass(frozen=True)
class Course:
    title: str
    exercises: tuple[Exercise, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(exercise.name for exercise in self.exercises)

    def functions(self, name: str) -> tuple[str, ...]:
        """The learner's functions of exercise `name` (none for a name the course does not have)."""
        return next((exercise.functions for exercise in self.exercises if exercise.name == name), ())

    def hint(self, misconception: str) -> str | None:
        """The hint of a misconception some exercise declares; None for an undeclared id."""
        return next((exercise.misconceptions[misconception] for exercise in self.exercises
                     if misconception in exercise.misconceptions), None)


def parse(data: object, where: Path) -> Course:
    """The course a manifest's JSON describes; GraderError naming `where` unless it has the documented form."""
    try:
        assert isinstance(data, dict) and isinstance(data["title"], str) and isinstance(data["exercises"], list)
        exercises = tuple(Exercise(str(entry["name"]), str(entry["title"]), tuple(map(str, entry["functions"])),
                                   {str(key): str(hint) for key, hint in entry["misconceptions"].items()})
                          for entry in data["exercises"])
    except (AssertionError, KeyError, TypeError, AttributeError) as exc:
        raise GraderError(f"{where} is not a course manifest ({type(exc).__name__}: {exc}): run `grade build` in "
                          "the instructor's repository to write it again") from None
    return Course(data["title"], exercises)


@cache
def course() -> Course:
    """The course of this installation (read once: the manifest does not change while grade runs)."""
    return load(MANIFEST)


def load(path: Path) -> Course:
    """The course the manifest at `path` describes."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise GraderError(f"cannot read the course manifest {path} ({exc}): run `grade build` in the "
                          "instructor's repository to write it, or reinstall the release") from None
    return parse(data, path)


def exercises() -> tuple[str, ...]:
    """The course's exercise names, in the order learners take them."""
    return course().names
