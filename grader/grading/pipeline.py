"""Grading as a chain of small steps, each taking the `Job` and filling in its part.

    locate_sources -> prepare_sources -> run_suites -> score -> describe_environment

Only `run_suites` reaches learner code, and only through worker processes (see `learner.py`).
"""

import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from grader.core import fallbacks
from grader.core.config import REPOSITORY, SUITES, Limits
from grader.core.errors import GraderError, UsageError
from grader.grading import sources as sources_mod
from grader.grading.archive import safe_extract
from grader.grading.learner import Settings
from grader.grading.outcomes import TestResult
from grader.grading.plugin import GradingPlugin
from grader.isolation import sandbox
from grader.isolation.cgroups import Cgroup
from grader.isolation.limits import enforcement
from grader.isolation.processes import creator_is_gone, remove_tree

# The reference solutions sit beside the grader package in the instructor's repository. They are
# not installed as a package, so a learner's worker cannot import them.
REFERENCE_ROOT = REPOSITORY


@dataclass
class Job:
    path: Path
    only: list[str] | None = None
    seed: int = 0
    hash_seed: int = 0
    limits: Limits = field(default_factory=Limits)
    isolation: str = "auto"  # "auto", "strict" or "off"; see isolation.sandbox.choose
    suites: Path = SUITES
    public_only: bool = False  # only the public suites, also where hidden ones exist (`grade submit`)
    sources: list[sources_mod.Source] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)
    results: list[TestResult] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    workspace: Path | None = None


def locate_sources(job: Job) -> None:
    """Find each exercise's file; a `.zip` is unpacked first (as safely as a batch unpacks one)."""
    path = job.path
    if path.suffix == ".zip" and path.is_file():
        assert job.workspace is not None
        (job.workspace / "unzipped").mkdir()
        try:
            path = safe_extract(path, job.workspace / "unzipped")
        except ValueError as exc:
            raise UsageError(f"{exc}; give a zip of your exercise files, or a directory") from None
    job.sources, job.selected = sources_mod.locate(path, job.only)
    sources_mod.require_exercise_files(path, job.sources, named=job.path)


def prepare_sources(job: Job) -> None:
    assert job.workspace is not None  # set by `grade` before any step runs
    sources_mod.prepare(job.sources, job.workspace / "src")


def suite_files(suites: Path, exercises: list[str], hidden: bool = True) -> list[Path]:
    """The suite files for `exercises`: public/test_NAME.py and (unless not `hidden`) hidden/test_hidden_NAME.py."""
    candidates = [suites / "public" / f"test_{ex}.py" for ex in exercises]
    candidates += [suites / "hidden" / f"test_hidden_{ex}.py" for ex in exercises if hidden]
    return [path for path in candidates if path.is_file()]


def run_suites(job: Job) -> None:
    """Run the suites in this (trusted) process with pytest; learner code runs in the workers."""
    files = suite_files(job.suites, job.selected, hidden=not job.public_only)
    if not files:
        raise GraderError(f"no test suites for {', '.join(job.selected)} under {job.suites}")
    if any("hidden" in f.parts for f in files):
        make_reference_importable()
    problems = {s.exercise: s.problem for s in job.sources if s.problem}
    isolation = sandbox.choose(job.isolation, job.limits)
    job.facts["isolation"] = isolation.name
    job.facts["enforcement"] = enforcement(job.limits, Cgroup.available(job.limits.memory_bytes, job.limits.processes),
                                           isolation.name == sandbox.Bubblewrap.name)
    assert job.workspace is not None
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
    for result in job.results:  # "forward.py line 74" of a converted notebook: the learner's cell and line
        result.message = sources_mod.in_notebooks(result.message, job.sources)
    job.facts.update(plugin.environment_facts)
    job.report["model_feedback"] = plugin.feedback_artifacts.get("model")


def make_reference_importable() -> None:
    """Put `solutions/` on this trusted process's path: the hidden suites compare against it."""
    if not (REFERENCE_ROOT / "solutions").is_dir():
        raise GraderError(f"the hidden suites need the reference solutions in {REFERENCE_ROOT / 'solutions'}")
    if str(REFERENCE_ROOT) not in sys.path:
        sys.path.insert(0, str(REFERENCE_ROOT))


def score(job: Job) -> None:
    exercises: list[dict[str, Any]] = []
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
        tests=[vars(r).copy() for r in job.results],
    )


def describe_environment(job: Job) -> None:
    def version(*names: str) -> str | None:
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
        hidden_suites=(job.suites / "hidden").is_dir() and not job.public_only,
        environment={
            "python": platform.python_version(),
            "platform": platform.platform(),
            "numpy": version("numpy"),
            "tensorflow": version("tensorflow", "tensorflow-cpu"),
            "keras": version("keras"),
            "isolation": job.facts.get("isolation", "none"),
            "enforcement": job.facts.get("enforcement", {}),
            "devices": job.facts.get("devices", []),
            "gpu_present": job.facts.get("gpu_present"),
            "device_note": job.facts.get("device_note", "the device check did not run"),
            "fallbacks": fallbacks.taken(),
        },
        limits=vars(job.limits),
    )


def remove_stale_workspaces(parent: Path) -> None:
    """Delete the workspaces of grade processes that were killed before they could clean up."""
    for workspace in parent.glob("grade-*-*"):
        if creator_is_gone(workspace.name):
            remove_tree(workspace, ignore_errors=True)


STEPS = [locate_sources, prepare_sources, run_suites, score, describe_environment]


def grade(job: Job) -> dict[str, Any]:
    """Run every step on `job` in a private workspace; return the report (a JSON-ready dict)."""
    started = time.monotonic()
    fallbacks.forget()
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
