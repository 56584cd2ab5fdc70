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
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from grader.core.config import EXERCISES, REPOSITORY
from grader.core.errors import UsageError

ROOT = REPOSITORY
DEFAULT_FIXTURES = ROOT / "tests" / "fixtures" / "submissions.toml"


@dataclass
class Fixture:
    name: str
    base: str = "solutions"
    only: list = field(default_factory=lambda: list(EXERCISES))
    replace: list = field(default_factory=list)
    files: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)
    grade_args: list = field(default_factory=list)
    misconception: str | None = None
    expect: list = field(default_factory=list)


def load_fixtures(path=DEFAULT_FIXTURES):
    with open(path, "rb") as handle:
        return [Fixture(**entry) for entry in tomllib.load(handle)["submission"]]


def build(fixture, out_dir, root=ROOT):
    """Write `fixture` as a submission directory: its base's modules, edited, plus its extra files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for module in EXERCISES:
        shutil.copyfile(root / fixture.base / f"{module}.py", out_dir / f"{module}.py")
    for edit in fixture.replace:
        path = out_dir / f"{edit['module']}.py"
        text = path.read_text()
        if edit["old"] not in text:
            raise ValueError(f"fixture {fixture.name}: {edit['old']!r} is not in {fixture.base}/{edit['module']}.py; "
                             "update tests/fixtures/submissions.toml to the current source")
        path.write_text(text.replace(edit["old"], edit["new"], 1))
    for name, content in fixture.files.items():
        (out_dir / name).write_text(content)
    for name, target in fixture.links.items():
        (out_dir / name).unlink(missing_ok=True)
        (out_dir / name).symlink_to(target)
    return out_dir


def grade_command(path, report, args=()):
    return [sys.executable, "-m", "grader.cli", str(path), "--json", str(report), "--quiet", *args]


def grade_fixtures(fixtures, work_dir, jobs=None):
    """Grade each fixture in its own `grade` process; return {name: report dict (or None on failure)}."""
    def one(fixture):
        path = build(fixture, work_dir / fixture.name)
        report = work_dir / f"{fixture.name}.json"
        args = ["--only", *fixture.only, *fixture.grade_args]
        done = subprocess.run(grade_command(path, report, args), capture_output=True, text=True, cwd=ROOT)
        if done.returncode not in (0, 1) or not report.exists():
            return fixture.name, {"error": f"grade exited {done.returncode}: {done.stdout[-500:]}{done.stderr[-500:]}"}
        return fixture.name, json.loads(report.read_text())

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        return dict(pool.map(one, fixtures))


def check_expectations(fixture, report):
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
        if not any(t["misconception"] == fixture.misconception for t in report["tests"]):
            problems.append(f"{fixture.name}: no check diagnosed {fixture.misconception}")
        if report["score"] >= report["max_score"]:
            problems.append(f"{fixture.name}: got full marks")
    return problems


def uncaught_checks(fixtures, reports, reference_report):
    """Graded checks that pass on every mutant of their exercise: they catch nothing."""
    failed_somewhere = {t["name"] for f in fixtures if f.misconception and "error" not in reports[f.name]
                        for t in reports[f.name]["tests"] if t["status"] != "passed"}
    return sorted(t["name"] for t in reference_report["tests"] if t["name"] not in failed_somewhere)


def selfcheck_parser():
    parser = argparse.ArgumentParser(prog="grade selfcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", default=str(DEFAULT_FIXTURES), help="the fixture submissions (TOML)")
    parser.add_argument("--jobs", type=int, default=None, help="grade this many at once (default: cores)")
    return parser


def run_selfcheck(args, console=None):
    console = console or Console()
    if not Path(args.fixtures).is_file():
        raise UsageError(f"{args.fixtures} not found: run grade selfcheck in the instructor's repository")
    fixtures = [f for f in load_fixtures(args.fixtures) if f.misconception]
    reference = Fixture(name="reference")
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
    return run_selfcheck(selfcheck_parser().parse_args(argv), console)
