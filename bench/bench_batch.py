"""Benchmark: batch throughput with 1 and 2 workers, with and without the pre-imported TensorFlow.

Grades 8 copies of the reference with `grade batch` (fresh results each time) and prints, in one
run: submissions per minute with 1 and 2 jobs, the speed-up (goal >= 1.8x on 2 cores), seconds per
submission with and without the preloaded TensorFlow slots, and the peak memory (PSS, shared pages
counted once) of the batch's process tree divided by the jobs (goal <= 1.2 GB per worker).

For scale it also times two independent `grade batch --jobs 1` runs side by side, each on half the
copies: what two separate graders get out of this machine, with nothing shared between them. When
`--jobs 2` is close to that, the batch itself loses nothing; what is left is the gradings' own
use of the second core, which a second job cannot have. That use is measured too: the CPU time the
whole machine spent during each run (`/proc/stat`) over its wall time is the cores a run kept busy,
and a 1-job batch that keeps c cores busy can be at most 2/c times faster with 2 jobs on 2 cores.

Two more figures separate what the batch controls from what it does not:

- the machine's own scaling: `bench_grade.py`'s floor (a grading's work in one plain process, no
  batch, no sandbox) run alone and two at once; two independent processes cannot get more out of
  this machine's two cores than that;
- start-up against steady state: each result's `duration_s` is the time its grading took, so a
  run's wall time minus its gradings' time per job is what the batch spent starting (the slots'
  TensorFlow imports) and finishing. The speed-up of the gradings alone is what a large class
  approaches; the benchmark projects it to larger classes from the two parts.

With `--repeat N` it runs N rounds, each timing every configuration once, keeps each one's best,
and prints the speed-up of every round too, so the spread is visible in one run.

    python bench/bench_batch.py [--copies 8] [--repeat 1]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_grade import tree_rss_kb  # noqa: E402

from grader.core.config import NUMERIC_SETTINGS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def machine_cpu_s():
    """CPU seconds every core of this machine has spent busy since boot (all but idle and iowait)."""
    ticks = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


@dataclass(order=True)
class Run:
    """One timed configuration: wall seconds, machine CPU seconds, and the sum of its gradings'
    `duration_s` (each submission's grading, from its grade process's start to its result)."""

    wall: float
    cpu: float
    graded: float = 0.0


def run_batches(classes, jobs, preload, measure_memory=False):
    """A `Run` of `grade batch` on each class at once, and the peak KiB of the process trees (or 0).

    Reading every process's smaps costs CPU, so memory is measured in a run of its own.
    """
    with tempfile.TemporaryDirectory() as out:
        processes = []
        cpu, started = machine_cpu_s(), time.perf_counter()
        for i, submissions in enumerate(classes):
            command = [sys.executable, "-m", "grader.cli", "batch", str(submissions), "--out", f"{out}/{i}",
                       "--jobs", str(jobs), *([] if preload else ["--no-preload"])]
            processes.append(subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))
        peak = 0
        while any(p.poll() is None for p in processes):
            if measure_memory:
                peak = max(peak, sum(tree_rss_kb(p.pid) for p in processes))
            time.sleep(0.2)
        wall, cpu = time.perf_counter() - started, machine_cpu_s() - cpu
        if any(p.returncode for p in processes):
            raise SystemExit(f"grade batch exited {[p.returncode for p in processes]}")
        graded = sum(json.loads(result.read_text())["duration_s"] for result in Path(out).glob("*/student-*.json"))
        return Run(wall, cpu, graded), peak


def run_floors(copies):
    """A `Run` of `copies` processes of `bench_grade.py`'s floor started at once."""
    cpu, started = machine_cpu_s(), time.perf_counter()
    processes = [subprocess.Popen([sys.executable, str(ROOT / "bench" / "bench_grade.py"), "--floor"], cwd=ROOT,
                                  env={**os.environ, **NUMERIC_SETTINGS}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for _ in range(copies)]
    if any(p.wait() for p in processes):
        raise SystemExit("bench_grade.py --floor failed")
    return Run(time.perf_counter() - started, machine_cpu_s() - cpu)


def timed_rounds(repeat, configurations):
    """Time every configuration once per round, `repeat` rounds; return each one's fastest `Run` and
    every round's runs.

    This VM's speed drifts by 5-10 % over minutes: round after round, the drift falls on every
    configuration alike instead of on whichever ran last.
    """
    rounds = [{name: run() for name, run in configurations.items()} for _ in range(repeat)]
    return {name: min(r[name] for r in rounds) for name in configurations}, rounds


def projected_speedup(one, two, copies, size):
    """The 2-job speed-up for a class of `size` submissions, from the start-up (wall time not spent
    grading) and the per-submission grading time that the 1-job and 2-job runs showed on `copies`."""
    def wall(run, jobs):
        per_submission = run.graded / copies / jobs  # the wall time one more submission adds
        return run.wall + per_submission * (size - copies)
    return wall(one, 1) / wall(two, 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1, help="time each configuration N times, keep the best")
    args = parser.parse_args()
    n = args.copies
    with tempfile.TemporaryDirectory() as tmp:
        whole, halves = Path(tmp) / "class", [Path(tmp) / "half-a", Path(tmp) / "half-b"]
        for i in range(n):
            shutil.copytree(ROOT / "solutions", whole / f"student-{i:02d}")
            shutil.copytree(ROOT / "solutions", halves[i % 2] / f"student-{i:02d}")
        configurations = {(jobs, preload): lambda jobs=jobs, preload=preload: run_batches([whole], jobs, preload)[0]
                          for preload in (False, True) for jobs in (1, 2)}
        timed, rounds = timed_rounds(args.repeat, {
            **configurations, "side by side": lambda: run_batches(halves, 1, True)[0],
            "floor": lambda: run_floors(1), "two floors": lambda: run_floors(2)})
        memory = {preload: run_batches([whole], 2, preload, measure_memory=True)[1] for preload in (False, True)}
    side_by_side, floor, two_floors = (timed.pop(name).wall for name in ("side by side", "floor", "two floors"))
    for (jobs, preload), run in timed.items():
        print(f"{jobs} job(s), {'preloaded TF' if preload else 'fresh TF import'}: {run.wall:6.1f} s, "
              f"{n / run.wall * 60:5.1f} submissions/min, {run.wall * jobs / n:5.2f} s per submission per worker, "
              f"{run.cpu / n:4.2f} CPU-s per submission, {run.cpu / run.wall:4.2f} cores busy")
    print(f"two independent 1-job batches side by side (half each, preloaded): {side_by_side:6.1f} s, "
          f"{n / side_by_side * 60:5.1f} submissions/min")
    print(f"this machine: a grading's work in one plain process (bench_grade.py --floor) {floor:.2f} s alone, "
          f"two at once {two_floors:.2f} s: {2 * floor / two_floors:.2f}x the throughput of one")
    for preload in (False, True):
        one, two = timed[(1, preload)], timed[(2, preload)]
        speedup, bound = one.wall / two.wall, min(2.0, 2 * one.wall / one.cpu)
        print(f"speed-up 2 jobs / 1 job ({'preloaded' if preload else 'fresh'}): {speedup:.2f}x   (goal >= 1.8x); "
              f"1 job keeps {one.cpu / one.wall:.2f} cores busy, so 2 jobs on 2 cores can be at most {bound:.2f}x "
              f"faster ({speedup / bound:.2f} of that reached)")
    if len(rounds) > 1:
        print("speed-up preloaded in each round: "
              + ", ".join(f"{r[(1, True)].wall / r[(2, True)].wall:.2f}x" for r in rounds))
    one, two = timed[(1, True)], timed[(2, True)]
    print(f"speed-up of two independent graders over 1 job (preloaded): {one.wall / side_by_side:.2f}x; "
          f"--jobs 2 reaches {side_by_side / two.wall:.2f} of it")
    print(f"preloaded, time not spent grading (start-up, finish): 1 job {one.wall - one.graded:.1f} s, "
          f"2 jobs {two.wall - two.graded / 2:.1f} s; gradings alone, 2 jobs / 1 job: "
          f"{2 * one.graded / two.graded:.2f}x; projected for a class of "
          + ", ".join(f"{size}: {projected_speedup(one, two, n, size):.2f}x" for size in (30, 100, 300)))
    fresh, warm = timed[(1, False)].wall / n, one.wall / n
    print(f"per submission, 1 job: {fresh:.2f} s with a fresh TensorFlow import, {warm:.2f} s preloaded "
          f"({fresh / warm:.2f}x)")
    for preload, peak in memory.items():
        print(f"peak memory (PSS) per worker, 2 jobs, {'preloaded' if preload else 'fresh'}: {peak / 1024 / 2:.0f} MiB"
              "   (goal <= 1229 MiB)")


if __name__ == "__main__":
    main()
