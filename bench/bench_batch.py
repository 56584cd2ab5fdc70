"""Benchmark: batch throughput with 1 and 2 workers, with and without the pre-imported TensorFlow.

Grades 8 copies of the reference with `grade batch` (fresh results each time) and prints, in one
run: submissions per minute with 1 and 2 jobs, the speed-up (goal >= 1.8x on 2 cores), seconds per
submission with and without the preloaded TensorFlow slots, and the peak memory (PSS, shared pages
counted once) of the batch's process tree divided by the jobs (goal <= 1.2 GB per worker).

    python bench/bench_batch.py [--copies 8]
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_grade import tree_rss_kb  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def run_batch(submissions, jobs, preload, measure_memory=False):
    """(wall seconds, peak KiB of the whole batch's process tree or 0) for one batch run.

    Reading every process's smaps costs CPU, so memory is measured in a run of its own.
    """
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "grader.cli", "batch", str(submissions), "--out", out, "--jobs", str(jobs)]
        command += [] if preload else ["--no-preload"]
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peak = 0
        while process.poll() is None:
            if measure_memory:
                peak = max(peak, tree_rss_kb(process.pid))
            time.sleep(0.2)
        if process.returncode:
            raise SystemExit(f"grade batch exited {process.returncode}")
        return time.perf_counter() - started, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        submissions = Path(tmp) / "class"
        for i in range(args.copies):
            shutil.copytree(ROOT / "solutions", submissions / f"student-{i:02d}")
        runs = {(jobs, preload): run_batch(submissions, jobs, preload) for preload in (False, True) for jobs in (1, 2)}
        memory = {preload: run_batch(submissions, 2, preload, measure_memory=True)[1] for preload in (False, True)}
    n = args.copies
    for (jobs, preload), (wall, _) in runs.items():
        print(f"{jobs} job(s), {'preloaded TF' if preload else 'fresh TF import'}: {wall:6.1f} s, "
              f"{n / wall * 60:5.1f} submissions/min, {wall * jobs / n:5.2f} s per submission per worker")
    for preload in (False, True):
        speedup = runs[(1, preload)][0] / runs[(2, preload)][0]
        print(f"speed-up 2 jobs / 1 job ({'preloaded' if preload else 'fresh'}): {speedup:.2f}x   (goal >= 1.8x)")
    fresh, warm = runs[(1, False)][0] / n, runs[(1, True)][0] / n
    print(f"per submission, 1 job: {fresh:.2f} s with a fresh TensorFlow import, {warm:.2f} s preloaded "
          f"({fresh / warm:.2f}x)")
    for preload, peak in memory.items():
        print(f"peak memory (PSS) per worker, 2 jobs, {'preloaded' if preload else 'fresh'}: {peak / 1024 / 2:.0f} MiB"
              "   (goal <= 1229 MiB)")


if __name__ == "__main__":
    main()
