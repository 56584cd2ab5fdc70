"""grader/isolation/safe_io.py: what the learner's process wrote is read by fixed names, size-capped,
and as numeric `.npy` only."""

import os

import numpy as np
import pytest

from grader.core.errors import UnsafeOutput
from grader.isolation import safe_io


def test_load_npy_reads_a_plain_numeric_array(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(6.0).reshape(2, 3))
    array = safe_io.load_npy(tmp_path, "a.npy", 1 << 20)
    assert type(array) is np.ndarray and array.shape == (2, 3)


@pytest.mark.parametrize("make, problem", [
    (lambda d: os.symlink("/etc/passwd", d / "x.npy"), "could not be opened"),
    (lambda d: os.mkfifo(d / "x.npy"), "not a regular file"),
    (lambda d: np.save(d / "x.npy", np.array([object()]), allow_pickle=True), "dtype object"),
    (lambda d: np.save(d / "x.npy", np.array(["text"])), "dtype <U4"),
    (lambda d: np.save(d / "x.npy", np.zeros(300_000)), "output too large"),
    (lambda d: (d / "x.npy").write_bytes(b"not an npy file"), "not a valid .npy"),
])
def test_load_npy_refuses_unsafe_outputs(tmp_path, make, problem):
    make(tmp_path)
    with pytest.raises(UnsafeOutput, match=problem):
        safe_io.load_npy(tmp_path, "x.npy", 1 << 20)


def test_load_npy_refuses_a_header_that_lies_about_its_size(tmp_path):
    """A header declaring a huge shape is refused before anything is allocated."""
    np.save(tmp_path / "x.npy", np.zeros(4))
    data = (tmp_path / "x.npy").read_bytes().replace(b"(4,)", b"(10000000000,)".ljust(4))
    (tmp_path / "x.npy").write_bytes(data)
    with pytest.raises(UnsafeOutput):
        safe_io.load_npy(tmp_path, "x.npy", 1 << 20)


def test_names_not_chosen_by_the_grader_are_refused(tmp_path):
    with pytest.raises(UnsafeOutput, match="not chosen by the grader"):
        safe_io.load_npy(tmp_path, "../x.npy", 1 << 20)
