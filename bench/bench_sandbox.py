"""Benchmark: the bubblewrap sandbox's cost per worker start, against a plain subprocess, same run.

Starts the `forward` worker on the reference solution N times each way and times start -> the
import reply (Python start, numpy import, the module import), then one call. The difference is the
sandbox's overhead per worker start (goal: under 0.2 s).

    python bench/bench_sandbox.py [--starts 10]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.isolation import sandbox  # noqa: E402
from grader.isolation.learner_module import LearnerModule  # noqa: E402

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


def start_and_call(isolation, work):
    module = LearnerModule(SOLUTIONS, work, "forward", isolation.limits, 0, isolation)
    started = time.perf_counter()
    module.start()
    module.ensure_imported()
    module.invoke("softmax", (np.zeros((2, 3)),))
    elapsed = time.perf_counter() - started
    module.close()
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=10)
    args = parser.parse_args()
    limits = sandbox.Limits()
    ways = {"plain subprocess": sandbox.PlainProcess(limits)}
    if sandbox.bubblewrap_works():
        ways["bubblewrap"] = sandbox.Bubblewrap(limits)
    else:
        print("bubblewrap is not available here: only the plain subprocess is measured")
    times = {name: [] for name in ways}
    with tempfile.TemporaryDirectory() as work:
        for _ in range(args.starts):  # interleaved, so both see the same machine load
            for name, isolation in ways.items():
                times[name].append(start_and_call(isolation, Path(work)))
    for name, values in times.items():
        print(f"{name:>17}: {statistics.median(values) * 1000:6.0f} ms per worker start + first call "
              f"(median of {args.starts})")
    if "bubblewrap" in times:
        plain, boxed = statistics.median(times["plain subprocess"]), statistics.median(times["bubblewrap"])
        print(f"sandbox overhead: {(boxed - plain) * 1000:.0f} ms per start ({boxed / plain:.2f}x)   (goal < 200 ms)")


if __name__ == "__main__":
    main()
