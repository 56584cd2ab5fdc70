"""Grading as a chain of small steps, each taking the `Job` and filling in its part.

    locate_sources -> prepare_sources -> run_suites -> score -> describe_environment

Only `run_suites` reaches learner code, and only through worker processes (see `plugin.py`).
"""

import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pytest

from grader import sandbox
from grader import sources as sources_mod
from grader.plugin import GradingPlugin, Settings
from grader.sandbox import Limits

SUITES = Path(__file__).with_name("suites")
# The reference solutions sit beside the grader package in the instructor's repository. They are
# not installed as a package, so a learner's worker cannot import them.
REFERENCE_ROOT = Path(__file__).resolve().parents[1]


class GraderError(Exception):
    """The grader itself failed (exit status 3): a broken suite or installation, never the learner."""


@dataclass
class Job:
    path: Path
    only: list | None = None
    seed: int = 0
    hash_seed: int = 0
    limits: Limits = field(default_factory=Limits)
    isolation: str = "auto"  # "auto", "strict" or "off"; see sandbox.choose
    suites: Path = SUITES
    sources: list = field(default_factory=list)
    selected: list = field(default_factory=list)
    results: list = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    workspace: Path | None = None


def locate_sources(job):
    job.sources, job.selected = sources_mod.locate(job.path, job.only)


def prepare_sources(job):
    sources_mod.prepare(job.sources, job.workspace / "src")


def suite_files(suites, exercises):
    """The suite files for `exercises`: public/test_NAME.py and hidden/test_hidden_NAME.py."""
    candidates = [suites / "public" / f"test_{ex}.py" for ex in exercises]
    candidates += [suites / "hidden" / f"test_hidden_{ex}.py" for ex in exercises]
    return [path for path in candidates if path.is_file()]


def run_suites(job):
    """Run the suites in this (trusted) process with pytest; learner code runs in the workers."""
    files = suite_files(job.suites, job.selected)
    if not files:
        raise GraderError(f"no test suites for {', '.join(job.selected)} under {job.suites}")
    if any("hidden" in f.parts for f in files):
        make_reference_importable()
    problems = {s.exercise: s.problem for s in job.sources if s.problem}
    try:
        isolation = sandbox.choose(job.isolation, job.limits)
    except sandbox.SandboxUnavailable as exc:
        raise GraderError(str(exc)) from None
    job.facts["isolation"] = isolation.name
    settings = Settings(job.workspace / "src", job.workspace / "work", job.seed, job.hash_seed, job.limits,
                        problems, isolation)
    plugin = GradingPlugin(settings)
    # A learner's conftest.py, pytest.ini or installed pytest plugins must not reach this run.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    args = [*map(str, files), "-c", str(job.suites / "pytest.ini"), "--rootdir", str(job.suites),
            "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:stepwise"]
    code = pytest.main(args, plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise GraderError(f"pytest could not run the suites in {job.suites} (exit status {int(code)})")
    job.results = plugin.results
    job.facts.update(plugin.environment_facts)
    job.report["model_feedback"] = plugin.feedback_artifacts.get("model")


def make_reference_importable():
    """Put `solutions/` on this trusted process's path: the hidden suites compare against it."""
    if not (REFERENCE_ROOT / "solutions").is_dir():
        raise GraderError(f"the hidden suites need the reference solutions in {REFERENCE_ROOT / 'solutions'}")
    if str(REFERENCE_ROOT) not in sys.path:
        sys.path.insert(0, str(REFERENCE_ROOT))


def score(job):
    exercises = []
    for source in job.sources:
        if source.exercise not in job.selected:
            continue
        tests = [r for r in job.results if r.exercise == source.exercise]
        exercises.append({
            "name": source.exercise,
            "score": round(sum(t.score for t in tests), 4),
            "max_score": sum(t.max_score for t in tests),
            "file": str(source.path) if source.path else None,
            "why_this_file": source.problem or source.reason,
        })
    job.report.update(
        score=round(sum(e["score"] for e in exercises), 4),
        max_score=sum(e["max_score"] for e in exercises),
        exercises=exercises,
        tests=[result_dict(r) for r in job.results],
    )


def result_dict(result):
    return {k: v for k, v in vars(result).items() if k != "internal_error"}


def describe_environment(job):
    def version(*names):
        for name in names:
            try:
                return metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        return None

    job.report.update(
        submission=str(job.path),
        seed=job.seed,
        hash_seed=job.hash_seed,
        hidden_suites=(job.suites / "hidden").is_dir(),
        environment={
            "python": platform.python_version(),
            "platform": platform.platform(),
            "numpy": version("numpy"),
            "tensorflow": version("tensorflow", "tensorflow-cpu"),
            "keras": version("keras"),
            "isolation": job.facts.get("isolation", "none"),
            "devices": job.facts.get("devices", []),
            "gpu_present": job.facts.get("gpu_present"),
            "device_note": job.facts.get("device_note", "the device check did not run"),
        },
        limits=vars(job.limits),
    )


def remove_stale_workspaces(parent):
    """Delete the workspaces of grade processes that were killed before they could clean up."""
    for workspace in parent.glob("grade-*-*"):
        if sandbox.creator_is_gone(workspace.name):
            sandbox.remove_tree(workspace, ignore_errors=True)


STEPS = [locate_sources, prepare_sources, run_suites, score, describe_environment]


def grade(job):
    """Run every step on `job` in a private workspace; return the report (a JSON-ready dict)."""
    started = time.monotonic()
    # On /dev/shm, what a worker writes counts against its memory cgroup: filling the disk is a memory bomb.
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    remove_stale_workspaces(Path(shm or tempfile.gettempdir()))
    with tempfile.TemporaryDirectory(prefix=f"grade-{os.getpid()}-", dir=shm) as workspace:
        job.workspace = Path(workspace)
        for step in STEPS:
            step(job)
    job.report["duration_s"] = round(time.monotonic() - started, 3)
    job.report["internal_errors"] = sum(r.internal_error for r in job.results)
    return job.report
