"""Benchmark: what grading costs against the bare floor, measured in the same run.

- full: `grade solutions` (every suite, isolated workers, device-check process), wall time and peak
  memory (PSS) of its whole process tree;
- floor: one plain Python process that imports TensorFlow and runs the same reference code on the
  same workloads as the checks (numpy forward checks, the public model checks, training on the
  hidden words, the two-device predictions), with no isolation and no pytest;
- forward: `grade solutions --only forward` (no TensorFlow anywhere), wall time.

    python bench/bench_grade.py [--repeat 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.core.config import NUMERIC_SETTINGS  # noqa: E402


def memory_kb(pid):
    """Proportional set size (KiB): resident memory with pages shared by n processes counted 1/n
    each, so forked workers that share their parent's pages are not counted twice."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(pid):
    """Memory (PSS, KiB) of `pid` and all its descendants, read from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(stat[1]), []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += memory_kb(current)
        stack += children.get(current, [])
    return total


def measure(command, measure_memory=False):
    """(wall seconds, peak KiB of the process tree or 0) for one run of `command`.

    Reading a TensorFlow process's smaps costs noticeable CPU (it added about 2.5 s to the floor's
    8 s), so memory is measured in runs of its own, never in a timed one.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, **NUMERIC_SETTINGS})  # the floor trains as workers do
    peak = 0
    while process.poll() is None:
        if measure_memory:
            peak = max(peak, tree_rss_kb(process.pid))
        time.sleep(0.05)
    if process.returncode != 0:
        raise SystemExit(f"{command} exited {process.returncode}")
    return time.perf_counter() - started, peak


def floor():
    """The same work as the checks, in one plain process: the baseline grading is compared with."""
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(False)
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np

    from grader.untrusted.worker import configure_tensorflow

    configure_tensorflow()  # the floor trains as workers do

    from grader.grading.evaluation import phase_windows, score_prefixes
    from solutions import encoding, forward, next_letter

    rng = np.random.default_rng(0)
    for _ in range(40):  # the forward and encoding checks: small numpy calls
        x, w, u, b = rng.normal(size=(3, 5, 4)), rng.normal(size=(4, 6)), rng.normal(size=(6, 6)), rng.normal(size=6)
        forward.output_layer(forward.rnn_forward(x, w, u, b), rng.normal(size=(6, 4)), np.zeros(4))
        encoding.make_dataset("goodbye!", 4, 20, 0)
    alphabet = encoding.build_alphabet("goodbye!")
    x = np.eye(7, dtype=np.float32)[rng.integers(0, 7, size=(64, 3))]
    for seed in (1, 1):  # the public model checks: build, run, two short trainings
        keras.utils.set_random_seed(seed)
        model = next_letter.build_model(7)
        model(x[:1])
        next_letter.train(model, x, x, epochs=2, seed=3)
        next_letter.predict_next(model, alphabet, "goo")
    xs, ys, alphabet = encoding.make_dataset("goodbye!", 3, 400, 0)  # the public goodbye! training check
    keras.utils.set_random_seed(0)
    model = next_letter.build_model(len(alphabet))
    next_letter.train(model, xs, ys, seed=0)
    model(np.stack([np.eye(7, dtype=np.float32)[[alphabet.index(c) for c in w]]
                    for w in phase_windows("goodbye!", 3)]), training=False)
    for word in ("hello world!", "tensorflow"):  # the hidden words: train, evaluate, two devices
        xs, ys, alphabet = encoding.make_dataset(word, 3, 400, 0)
        keras.utils.set_random_seed(0)
        model = next_letter.build_model(len(alphabet), units=8)
        next_letter.train(model, xs, ys, seed=0)
        k, r, bias, dk, db = model.get_weights()
        predict = lambda z, k=k, r=r, bias=bias, dk=dk, db=db: forward.output_layer(  # noqa: E731
            forward.rnn_forward(z, k, r, bias), dk, db)
        score_prefixes(word, alphabet, predict, range(1, 7))
        windows = np.stack([np.eye(len(alphabet), dtype=np.float32)[[alphabet.index(c) for c in w]]
                            for w in phase_windows(word, 6)])
        for device in ("/CPU:0", "/CPU:1"):
            with tf.device(device):
                model(windows, training=False)
        for prefix in phase_windows(word, 3)[:8]:
            next_letter.predict_next(model, alphabet, prefix)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        return floor()
    grade = [sys.executable, "-m", "grader.cli", "solutions", "--quiet"]
    runs = {"floor": [sys.executable, __file__, "--floor"], "full": grade, "forward": grade + ["--only", "forward"]}
    times = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, command in runs.items():
            times[name].append(measure(command)[0])
    median = {name: statistics.median(rows) for name, rows in times.items()}
    peak = {name: measure(command, measure_memory=True)[1] / 1024 for name, command in runs.items()}
    for name in runs:
        print(f"{name:>8}: {median[name]:6.2f} s (median of {args.repeat}), peak tree PSS {peak[name]:7.0f} MiB "
              "(a run of its own)")
    print(f"grade (all suites) / floor: {median['full'] / median['floor']:.2f}x   (goal <= 1.3x)")
    print(f"grade --only forward: {median['forward']:.2f} s   (goal <= 1 s)")
    print(f"peak memory per grading / floor: {peak['full'] / peak['floor']:.2f}x")


if __name__ == "__main__":
    main()
