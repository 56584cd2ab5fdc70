"""Build fixture submissions from the reference and check that the suites catch each one.

A fixture submission (see `tests/fixtures/submissions.toml`) is the reference solution, or the stubs,
with a few exact text replacements and extra files: one learner mistake, or one attack, each. Those
that name a `misconception` are the known-wrong variants of the mutation check: `grade selfcheck`
grades them all and fails if a graded check passes every one of them (it catches nothing), or if a
variant is not diagnosed with its misconception id.
"""

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from rich.console import Console
from rich.text import Text

from grader.authoring import course_file, mutate
from grader.core.config import REPOSITORY
from grader.core.course import exercises
from grader.core.errors import UsageError
from grader.core.status import Status
from grader.grading import feedback

ROOT = REPOSITORY
DEFAULT_FIXTURES = ROOT / "tests" / "fixtures" / "submissions.toml"


class Replacement(TypedDict):
    """One `replace` entry: in `module`.py, the first `old` becomes `new`: the text itself (str), or the
    payload file (Path) that holds it dedented, indented by `build` where `old` stands (see `replacement`)."""

    module: str
    old: str
    new: str | Path


@dataclass
class Fixture:
    name: str
    base: str = "solutions"
    only: list[str] = field(default_factory=lambda: list(exercises()))
    replace: list[Replacement] = field(default_factory=list)
    # file name in the submission: its content (str), or the payload file to copy byte for byte (Path)
    files: dict[str, str | Path] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    grade_args: list[str] = field(default_factory=list)
    misconception: str | None = None
    hostile: bool = False
    expect: list[dict[str, str]] = field(default_factory=list)


def load_fixtures(path: str | Path = DEFAULT_FIXTURES) -> list[Fixture]:
    """The fixtures of a TOML file, each `{path = "..."}` (a `files` entry, a `replace` entry's `new`)
    resolved to its payload file."""
    path = Path(path)
    with open(path, "rb") as handle:
        entries = tomllib.load(handle)["submission"]
    return [Fixture(**{**entry, "files": payloads(entry.get("name", "?"), entry.get("files", {}), path),
                       "replace": replacements(entry.get("name", "?"), entry.get("replace", []), path)})
            for entry in entries]


VARIANT_KEYS = {"name", "misconception", "replace", "expect"}


def exercise_variants(root: Path = ROOT) -> list[Fixture]:
    """The known-wrong variants each exercise declares in solutions/NAME.toml: `[[variant]]` with a `name`, the
    `misconception` it must be diagnosed as, `replace = [{old, new}]` (in solutions/NAME.py) and optional
    `expect` rules; each is graded on its exercise only."""
    course = course_file.read(root)
    variants = []
    for exercise in course.exercises:
        for entry in course_file.exercise_file(course, exercise).get("variant", []):
            where = f"solutions/{exercise}.toml, variant {entry.get('name', '?')!r}"
            edits = entry.get("replace", [])
            if set(entry) - VARIANT_KEYS or not isinstance(entry.get("name"), str) or not isinstance(edits, list) \
                    or not all(isinstance(e, dict) and set(e) == {"old", "new"} for e in edits):
                raise UsageError(f"{where}: a variant has a name, a misconception, replace = [{{old, new}}, ...] and "
                                 "optionally expect, nothing else")
            variants.append(Fixture(name=entry["name"], only=[exercise], misconception=entry.get("misconception"),
                                    replace=[{"module": exercise, "old": e["old"], "new": e["new"]} for e in edits],
                                    expect=entry.get("expect", [])))
    return variants


def payload_file(where: str, spec: object, toml: Path, fixture: str, suggested: str, renaming: str = "") -> Path:
    """The payload file that `spec`, `{path = "..."}` in `toml`, names: inside `toml`'s directory, present,
    and under a name that pytest neither loads nor collects (not conftest.py, test_*.py or *_test.py).

    Anything else is refused with an error that says `where` (the fixture and its entry), the path and
    the fix; `suggested` is the entry as it should be written, `renaming` a note on renaming the file.
    """
    directory = toml.parent
    if not isinstance(spec, dict) or set(spec) != {"path"} or not isinstance(spec["path"], str):
        raise ValueError(f"{where} is {spec!r}; give its text as a string, or its payload file as {suggested}")
    payload = (directory / spec["path"]).resolve()
    if not payload.is_relative_to(directory.resolve()):
        raise ValueError(f"{where}: path {spec['path']!r} leads outside {directory}; put the payload in "
                         f"{directory / 'files' / fixture}/ and give its path relative to {directory}")
    if not payload.is_file():
        raise ValueError(f"{where}: path {spec['path']!r} is not a file ({payload} is missing); create it, "
                         f"or correct the path (relative to {directory})")
    if payload.name == "conftest.py" or fnmatch.fnmatch(payload.name, "test_*.py") or \
            fnmatch.fnmatch(payload.name, "*_test.py"):
        raise ValueError(f"{where}: pytest would load or collect {spec['path']!r} when it runs the project's "
                         f"tests; rename the payload file{renaming}")
    return payload


def payloads(fixture: str, files: dict[str, object], toml: Path) -> dict[str, str | Path]:
    """A fixture's extra files as `toml` gives them: text inline, or `{path = ...}` relative to its directory.

    Python must be a payload file (so ruff lints it) inside that directory, under a name that pytest
    neither loads nor collects there (not conftest.py, test_*.py or *_test.py): it is hostile learner code.
    """
    directory = toml.parent
    resolved: dict[str, str | Path] = {}
    for name, spec in files.items():
        where = f"{toml}: fixture {fixture}: file {name!r}"
        suggested = f'"{name}" = {{path = "files/{fixture}/{name}"}}'
        if isinstance(spec, str):
            if name.endswith(".py"):
                raise ValueError(f"{where} is Python written inline; move its text to "
                                 f"{directory / 'files' / fixture / name} and write {suggested}, so ruff lints it")
            resolved[name] = spec
            continue
        resolved[name] = payload_file(where, spec, toml, fixture, suggested,
                                      f" (the key, {name!r}, stays its name in the submission)")
    return resolved


def replacements(fixture: str, edits: list[dict[str, object]], toml: Path) -> list[Replacement]:
    """A fixture's `replace` entries as `toml` gives them: each `new` inline, or `{path = ...}` resolved.

    A `new` of more than one line is Python, so it must be a payload file (ruff lints it), holding the
    text dedented and ending in a newline: `replacement` indents it where `old` stands.
    """
    directory = toml.parent
    resolved: list[Replacement] = []
    for number, edit in enumerate(edits, 1):
        module, old, new = edit.get("module"), edit.get("old"), edit.get("new")
        where = f"{toml}: fixture {fixture}: replace entry {number} (in {module}.py)"
        if not isinstance(module, str) or not isinstance(old, str) or set(edit) != {"module", "old", "new"}:
            raise ValueError(f"{where} is {edit!r}; write it as {{module = ..., old = ..., new = ...}}, "
                             "`module` and `old` as strings")
        suggested = f'new = {{path = "files/{fixture}/PLACE.py"}}'
        if isinstance(new, str):
            if "\n" in new.removesuffix("\n"):
                raise ValueError(f"{where}: `new` is Python of more than one line written inline; move its text, "
                                 f"dedented, to {directory / 'files' / fixture}/PLACE.py (PLACE: the function it "
                                 f"edits, e.g. rnn_step, or forward_imports at module level) and write {suggested}, "
                                 "so ruff lints it")
            resolved.append(Replacement(module=module, old=old, new=new))
            continue
        payload = payload_file(f"{where}: `new`", new, toml, fixture, suggested)
        if not payload.read_text().endswith("\n"):
            raise ValueError(f"{where}: `new`'s payload file {payload} does not end in a newline; end its last "
                             "line with one (build drops it unless `old` ends in one)")
        resolved.append(Replacement(module=module, old=old, new=payload))
    return resolved


def replacement(edit: Replacement, text: str) -> str:
    """The text that takes the place of `edit`'s `old` (which is in `text`): its `new` as it is, or, when
    `new` is a payload file, the file's lines indented where `old` stands.

    Every line of the file but the empty ones gets the indentation of the line of `text` where `old`
    starts; the first line only the part of it that `old`'s own start lacks (none when `old` starts
    after the indentation). The file's last newline is kept only when `old` ends in one.
    """
    new, old = edit["new"], edit["old"]
    if not isinstance(new, Path):
        return new
    at = text.index(old)
    line_start = text.rfind("\n", 0, at) + 1
    line = text[line_start:].split("\n", 1)[0]
    indent = line[:len(line) - len(line.lstrip(" \t"))]
    before = text[line_start:at]
    first = indent[len(before):] if indent.startswith(before) else ""
    lines = new.read_text().removesuffix("\n").split("\n")
    indented = [(first if number == 0 else indent) + row if row else row for number, row in enumerate(lines)]
    return "\n".join(indented) + ("\n" if old.endswith("\n") else "")


def build(fixture: Fixture, out_dir: Path, root: Path = ROOT) -> Path:
    """Write `fixture` as a submission directory: its base's modules, edited, plus its extra files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for module in exercises():
        shutil.copyfile(root / fixture.base / f"{module}.py", out_dir / f"{module}.py")
    for edit in fixture.replace:
        path = out_dir / f"{edit['module']}.py"
        text = path.read_text()
        if edit["old"] not in text:
            raise ValueError(f"fixture {fixture.name}: {edit['old']!r} is not in {fixture.base}/{edit['module']}.py; "
                             "update tests/fixtures/submissions.toml to the current source")
        path.write_text(text.replace(edit["old"], replacement(edit, text), 1))
    for name, content in fixture.files.items():
        if isinstance(content, Path):
            shutil.copyfile(content, out_dir / name)
        else:
            (out_dir / name).write_text(content)
    for name, target in fixture.links.items():
        (out_dir / name).unlink(missing_ok=True)
        (out_dir / name).symlink_to(target)
    return out_dir


def grade_command(path: Path, report: Path, args: Sequence[str] = ()) -> list[str]:
    """The `grade` command line that grades `path` and writes its JSON report to `report`."""
    return [sys.executable, "-m", "grader.cli", str(path), "--json", str(report), "--quiet", *args]


def grade_fixtures(fixtures: list[Fixture], work_dir: Path, jobs: int | None = None,
                   wrap: Callable[[str, list[str]], list[str]] | None = None) -> dict[str, dict[str, Any]]:
    """Grade each fixture in its own `grade` process; return {name: report dict, or {"error": why}}.

    wrap(name, command): the command line to run instead of fixture `name`'s `grade` command (the
    project's tests run each grading under an observer of what it leaves running).
    """
    def one(fixture: Fixture) -> tuple[str, dict[str, Any]]:
        path = build(fixture, work_dir / fixture.name)
        report = work_dir / f"{fixture.name}.json"
        args = ["--only", *fixture.only, *fixture.grade_args]
        command = grade_command(path, report, args)
        done = subprocess.run(wrap(fixture.name, command) if wrap else command, capture_output=True, text=True,
                              cwd=ROOT)
        if done.returncode not in (0, 1) or not report.exists():
            return fixture.name, {"error": f"grade exited {done.returncode}: {done.stdout[-500:]}{done.stderr[-500:]}"}
        return fixture.name, json.loads(report.read_text())

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        return dict(pool.map(one, fixtures))


def check_expectations(fixture: Fixture, report: dict[str, Any]) -> list[str]:
    """Problems with one fixture's report against its `expect` list and `misconception`, as strings."""
    if "error" in report:
        return [f"{fixture.name}: {report['error']}"]
    problems = []
    for rule in fixture.expect:
        matched = [t for t in report["tests"] if fnmatch.fnmatch(t["name"], rule["test"])]
        if not matched:
            problems.append(f"{fixture.name}: no check matches {rule['test']!r}")
        for test in matched:
            if "status" in rule and test["status"] != rule["status"]:
                problems.append(f"{fixture.name}: {test['name']} is {test['status']}, expected {rule['status']}")
            if "message" in rule and rule["message"] not in test["message"]:
                problems.append(f"{fixture.name}: {test['name']} says {test['message'][:120]!r}, "
                                f"expected it to mention {rule['message']!r}")
    if fixture.misconception:
        # The grader's own ids (a wrong shape) describe an output, not which mistake made it.
        named = {t["misconception"] for t in report["tests"] if t["misconception"]} - set(feedback.GRADER_HINTS)
        if fixture.misconception not in named:
            problems.append(f"{fixture.name}: no check diagnosed {fixture.misconception}")
        if named - {fixture.misconception}:  # a diagnosis is a claim about the one mistake the variant makes
            problems.append(f"{fixture.name}: also diagnosed {', '.join(sorted(named - {fixture.misconception}))}")
        if report["score"] >= report["max_score"]:
            problems.append(f"{fixture.name}: got full marks")
    return problems


def uncaught_checks(fixtures: list[Fixture], reports: dict[str, dict[str, Any]],
                    reference_report: dict[str, Any]) -> list[str]:
    """Graded checks that no known-wrong submission fails: they catch nothing. A check is caught by a fixture
    that names a misconception and fails it, or by one whose `expect` says that check fails (a mistake with no
    id of its own, such as a dtype)."""
    failed_somewhere = set()
    for fixture in fixtures:
        if "error" in reports.get(fixture.name, {"error": ""}):
            continue
        expected_to_fail = [rule["test"] for rule in fixture.expect if rule.get("status") == Status.FAILED]
        failed_somewhere |= {t["name"] for t in reports[fixture.name]["tests"] if t["status"] != Status.PASSED and (
            fixture.misconception or any(fnmatch.fnmatch(t["name"], rule) for rule in expected_to_fail))}
    return sorted(t["name"] for t in reference_report["tests"] if t["name"] not in failed_somewhere)


def selfcheck_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grade selfcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", default=str(DEFAULT_FIXTURES), help="the fixture submissions (TOML)")
    parser.add_argument("--jobs", type=int, default=None, help="grade this many at once (default: cores)")
    parser.add_argument("--only", nargs="+", metavar="EXERCISE",
                        help="only these exercises: their variants (or mutants), the reference graded on them")
    mutation = parser.add_argument_group("mutants (docs/mutation.md)")
    mutation.add_argument("--mutate", action="store_true",
                          help="grade mutants of the reference's learner functions instead of the fixtures")
    mutation.add_argument("--mutant", nargs="+", metavar="PATTERN", default=["*"],
                          help="only the mutants whose id (exercise:function:operator:digest) matches (fnmatch)")
    mutation.add_argument("--max-per-exercise", type=int, metavar="N",
                          help="grade at most N mutants of each exercise, spread over its functions")
    mutation.add_argument("--min-score", type=float, default=95.0, metavar="PERCENT",
                          help="exit with status 1 if an exercise kills fewer of its mutants (default 95)")
    mutation.add_argument("--call-timeout", type=float, default=10.0, metavar="S",
                          help="grade's time limit for one call (default 10 s: a mutant may loop forever)")
    mutation.add_argument("--equivalents", default=str(mutate.DEFAULT_EQUIVALENTS), metavar="FILE",
                          help="the mutants marked equivalent to the reference (TOML)")
    mutation.add_argument("--json", metavar="FILE", help="write the mutation report as JSON")
    mutation.add_argument("--keep", metavar="DIR", help="grade in DIR, keeping each mutant's submission and report")
    return parser


# The options that mean something only with --mutate.
MUTATE_ONLY = ("mutant", "max_per_exercise", "min_score", "call_timeout", "equivalents", "json", "keep")


def run_mutate(args: argparse.Namespace, console: Console) -> int:
    """`grade selfcheck --mutate`: grade each mutant of the reference (one grading per mutant, `--only` its
    exercise) and report, per exercise, the mutation score and the mutants no check kills."""
    check_only(args.only)
    equivalents = mutate.load_equivalents(Path(args.equivalents))
    generated = mutate.reference_mutants(args.only)
    chosen = {exercise: mutate.sample(mutate.matching(every, args.mutant), args.max_per_exercise)
              for exercise, every in generated.items()}
    if not any(chosen.values()):
        raise UsageError(f"--mutant {' '.join(args.mutant)} matches no mutant of {', '.join(generated)}; ids read "
                         "exercise:function:operator:digest (the report shows them)")
    outcomes, problems = [], []
    with tempfile.TemporaryDirectory(prefix="mutate-") as temporary:
        for exercise, mutants in chosen.items():
            if not mutants:
                continue
            outcome, found = grade_mutants(exercise, mutants, equivalents, Path(args.keep or temporary), args)
            problems += found
            if outcome:
                outcomes.append(outcome)
                console.print(f"{exercise}: {outcome.generated} mutants graded in {outcome.seconds:.0f} s",
                              highlight=False)
    if args.mutant == ["*"] and args.max_per_exercise is None:
        problems += mutate.stale_equivalents(equivalents, [m for every in generated.values() for m in every],
                                             generated)
    return report_mutants(outcomes, problems, args, console)


def grade_mutants(exercise: str, mutants: list[mutate.Mutant], equivalents: dict[str, mutate.Equivalent], work: Path,
                  args: argparse.Namespace) -> tuple[mutate.Outcome | None, list[str]]:
    """Grade the reference of `exercise` and then each mutant, each in a directory of `work`; the outcome
    (None where the reference itself loses marks) and the problems found."""
    started = time.monotonic()
    grade_args = ["--call-timeout", str(args.call_timeout)]
    reference = Fixture(name=f"{exercise}-reference", only=[exercise], grade_args=grade_args)
    fixtures = [Fixture(name=f"{exercise}-{n:03d}", only=[exercise], files={f"{exercise}.py": m.source},
                        grade_args=grade_args) for n, m in enumerate(mutants)]
    reports = grade_fixtures([reference, *fixtures], work, args.jobs)
    if mutate.killed(reports[reference.name]):
        return None, [f"the reference {exercise} does not get full marks: its mutants cannot be told from it"]
    outcome, problems = mutate.classify(exercise, mutants, {m.id: reports[f.name] for m, f in
                                                            zip(mutants, fixtures, strict=True)}, equivalents)
    outcome.seconds = time.monotonic() - started
    return outcome, problems + [f"grading a mutant failed: {error}" for error in outcome.errors]


def report_mutants(outcomes: list[mutate.Outcome], problems: list[str], args: argparse.Namespace,
                   console: Console) -> int:
    console.print(mutate.outcome_table(outcomes))
    for outcome in outcomes:  # unwrapped: an id and a line are copied from here into the equivalents' file
        for mutant in outcome.survivors:
            console.print(mutate.survivor_text(mutant), soft_wrap=True)
    for problem in problems:
        console.print(Text(problem, style="red"), soft_wrap=True)
    if args.json:
        Path(args.json).write_text(json.dumps(mutate.as_json(outcomes, problems, args.min_score), indent=1))
    below = [o.exercise for o in outcomes if o.score < args.min_score]
    if below:
        console.print(Text(f"mutation score below {args.min_score:g} % in {', '.join(below)}: make a check kill "
                           "each survivor, or mark it in the equivalents' file with why no check can", style="red"))
    return 1 if below or problems else 0


def known_wrong(fixture: Fixture) -> bool:
    """A variant selfcheck grades: a mistake with its misconception, or one whose `expect` names a check it fails
    (not an attack: those fail checks for other reasons)."""
    return not fixture.hostile and (bool(fixture.misconception)
                                    or any(rule.get("status") == Status.FAILED for rule in fixture.expect))


def check_only(only: Sequence[str] | None) -> list[str]:
    """The exercises `--only` names (all when it names none), or UsageError for a name the course lacks."""
    unknown = sorted(set(only or ()) - set(exercises()))
    if unknown:
        raise UsageError(f"--only {' '.join(unknown)}: no such exercise; the course has {', '.join(exercises())}")
    return list(only or exercises())


def run_selfcheck(args: argparse.Namespace, console: Console | None = None) -> int:
    console = console or Console()
    if not Path(args.fixtures).is_file():
        raise UsageError(f"{args.fixtures} not found: run grade selfcheck in the instructor's repository")
    selected = check_only(args.only)
    fixtures = [f for f in load_fixtures(args.fixtures) + exercise_variants()
                if known_wrong(f) and set(f.only) <= set(selected)]
    reference = Fixture(name="reference", only=selected)
    with tempfile.TemporaryDirectory(prefix="selfcheck-") as work:
        reports = grade_fixtures([reference, *fixtures], Path(work), args.jobs)
    problems = [p for f in fixtures for p in check_expectations(f, reports[f.name])]
    if "error" in reports["reference"] or reports["reference"]["score"] < reports["reference"]["max_score"]:
        problems.append("the reference solution does not get full marks")
    else:
        problems += [f"{name} passes every known-wrong variant" for name in
                     uncaught_checks(fixtures, reports, reports["reference"])]
    for problem in problems:
        console.print(f"[red]{problem}[/red]")
    console.print(f"selfcheck: {len(fixtures)} known-wrong variants, {len(problems)} problem(s)")
    return 0 if not problems else 1


def main(argv: list[str], console: Console) -> int:
    parser = selfcheck_parser()
    args = parser.parse_args(argv)
    if args.mutate:
        return run_mutate(args, console)
    given = [f"--{dest.replace('_', '-')}" for dest in MUTATE_ONLY if getattr(args, dest) != parser.get_default(dest)]
    if given:
        raise UsageError(f"{', '.join(given)} only go(es) with --mutate")
    return run_selfcheck(args, console)
