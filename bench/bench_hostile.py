"""Benchmark: what hostile submissions cost a grading, against the reference graded in the same run.

A hang should cost its time limit once per hanging call (an import that hangs: once for the whole
exercise), and the bombs should leave nothing that slows the gradings after them. Gradings are
interleaved, so the baseline and each hostile one see the same machine load:

- hangs (`--only forward`, the fixtures' short time limits: sleep-at-import, infinite-loop,
  ignores-sigalrm): (wall time - the reference's `--only forward`) / the time limits the report says
  were hit (one per call, one for a hanging import), goal about 1x: each limit waited for once;
- the reference (every exercise) right after the bombs (fork, thread, memory, disk) / right before
  them, goal <= 1.5x.

These were assertions of tests/system/test_fixture_submissions.py, which failed on a busy machine; the
test keeps only that a hang ends at its time limit. The fixtures are tests/fixtures/submissions.toml's.

    python bench/bench_hostile.py [--repeat 3]
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.authoring.selfcheck import Fixture, build, grade_command, load_fixtures  # noqa: E402

HANGS = ("sleep-at-import", "infinite-loop", "ignores-sigalrm")
BOMBS = ("fork-bomb", "thread-bomb", "memory-bomb", "fills-the-disk")


def grade(fixture, path, work):
    """(wall seconds, report) of one `grade` of the built fixture at `path`."""
    report = work / f"{fixture.name}.json"
    report.unlink(missing_ok=True)
    started = time.perf_counter()
    done = subprocess.run(grade_command(path, report, ["--only", *fixture.only, *fixture.grade_args]), cwd=ROOT,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1) or not report.exists():
        raise SystemExit(f"{fixture.name}: grade exited {done.returncode}: {done.stderr[-500:]}")
    return elapsed, json.loads(report.read_text())


def limits_hit(report):
    """Seconds of time limits the report says were waited for: a hanging import once, each hanging call."""
    stopped = [test["message"] for test in report["tests"] if "time limit" in test["message"]]
    if any("importing" in message for message in stopped):
        return report["limits"]["import_s"]
    return len(stopped) * report["limits"]["call_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    fixtures = {fixture.name: fixture for fixture in load_fixtures()}
    baseline, reference = Fixture(name="reference-forward", only=["forward"]), Fixture(name="reference")
    times = {name: [] for name in ("reference-forward", *HANGS, "before", "after")}
    waited = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        built = {f.name: build(f, work / f.name) for f in (baseline, reference, *(fixtures[n] for n in HANGS + BOMBS))}
        for _ in range(args.repeat):
            times["reference-forward"].append(grade(baseline, built[baseline.name], work)[0])
            for name in HANGS:
                elapsed, report = grade(fixtures[name], built[name], work)
                times[name].append(elapsed)
                waited[name] = limits_hit(report)
            times["before"].append(grade(reference, built[reference.name], work)[0])
            for name in BOMBS:
                grade(fixtures[name], built[name], work)
            times["after"].append(grade(reference, built[reference.name], work)[0])
    median = {name: statistics.median(values) for name, values in times.items()}
    base = median["reference-forward"]
    print(f"{'reference --only forward':>24}: {base:6.2f} s (median of {args.repeat})")
    for name in HANGS:
        ratio = (median[name] - base) / waited[name] if waited[name] else float("nan")
        print(f"{name:>24}: {median[name]:6.2f} s = reference + {median[name] - base:5.2f} s for "
              f"{waited[name]:4.1f} s of time limits hit: {ratio:.2f}x   (goal about 1x: each waited once)")
    print(f"{'reference before bombs':>24}: {median['before']:6.2f} s, after: {median['after']:6.2f} s: "
          f"{median['after'] / median['before']:.2f}x   (goal <= 1.5x)")


if __name__ == "__main__":
    main()
