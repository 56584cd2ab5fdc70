"""Arrays computed by Keras once and stored beside the hidden suites, so that grading needs no TensorFlow.

Each producer (`keras_reference`, `keras_gradients`) has a `PATH` and a `generate()` that needs Keras; this
reads and writes their files. tests/integration/test_keras_values.py regenerates each and fails on drift.
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np


def load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return dict(data)


def regenerate(path: Path, generate: Callable[[], dict[str, np.ndarray]]) -> None:
    """Write `generate()`'s arrays to `path` (run as `python -m grader.suites.hidden.PRODUCER`)."""
    np.savez(path, **generate())
    print(f"wrote {path}")
