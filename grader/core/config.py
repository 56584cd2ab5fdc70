"""One place for the grader's settings: limits, exercises, hash seeds, numeric settings, paths."""

from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# The directory that holds the package: the instructor's repository (solutions/ and the tests beside the
# package; a checkout, or an editable install of one), or, for an installed copy (`pip install .` of a release,
# a wheel, an sdist), the site-packages directory it was installed into. The sandbox tells them apart
# (isolation/sandbox.py: installed_copy): a checkout must lie outside every directory a sandbox shows to
# learner code, while site-packages is shown on purpose, with every copy of the package in it hidden.
REPOSITORY = PACKAGE_DIR.parent
SUITES = PACKAGE_DIR / "suites"
WORKER_SCRIPT = PACKAGE_DIR / "untrusted" / "worker.py"

# The uid learner workers run as when the grader is root.
NOBODY = 65534

# The PYTHONHASHSEED of each worker: 0 for every module, and 1-3 for the check that builds the
# alphabet in other processes, since `set()` order follows the hash seed. A batch slot keeps a
# preloaded zygote for each.
HASH_SEEDS = (0, 1, 2, 3)

# The size of a fresh worker's private /tmp (isolation/sandbox.py), which a "disk limit" message names.
PRIVATE_TMP_BYTES = 64 << 20

# How numpy and TensorFlow run in learner workers (and in the benchmarks and calibration that must
# match them). The arrays and models are tiny: one thread is as fast alone and much faster when two
# gradings share two cores; Eigen's kernels instead of oneDNN's train faster here. An OpenBLAS
# thread pool doubles numpy's import cost in every fresh worker (docs/performance.md). glibc reserves a
# 64 MiB malloc arena per thread, which uses no memory but counts against the address-space cap that
# bounds a worker without a cgroup (isolation/limits.py): two arenas are plenty for one busy thread.
NUMERIC_SETTINGS = {
    "TF_CPP_MIN_LOG_LEVEL": "3", "TF_DETERMINISTIC_OPS": "1", "TF_NUM_INTRAOP_THREADS": "1",
    "TF_ENABLE_ONEDNN_OPTS": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2",
}


@dataclass
class Limits:
    """Per-worker limits, in seconds and bytes, each with a default; all but the two reply sizes also
    have a `grade` option."""

    call_s: float = 20.0
    import_s: float = 60.0
    train_s: float = 180.0
    reply_bytes: int = 1 << 20
    array_bytes: int = 256 << 20
    memory_bytes: int = 3 << 30
    processes: int = 512
    cpu_s: int = 900
    file_bytes: int = 64 << 20
    open_files: int = 512
