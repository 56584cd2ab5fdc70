"""grader/isolation/safe_io.py: what the learner's process wrote is read by fixed names, size-capped,
and as numeric `.npy` only."""

import io
import os
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.core.errors import UnsafeOutput
from grader.isolation import safe_io


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


NPY = npy_bytes(np.arange(1000.0))


def test_load_npy_reads_a_plain_numeric_array(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(6.0).reshape(2, 3))
    array = safe_io.load_npy(tmp_path, "a.npy", 1 << 20)
    assert type(array) is np.ndarray and array.shape == (2, 3)


@settings(max_examples=60, derandomize=True, deadline=None, database=None)
@given(array=hnp.arrays(st.sampled_from(["<f8", ">f4", "<i8", ">u2", "|b1"]),
                        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
       fortran=st.booleans())
def test_load_npy_gives_back_what_was_saved(tmp_path_factory, array, fortran):
    directory = tmp_path_factory.mktemp("npy")
    np.save(directory / "a.npy", np.array(array, order="F" if fortran else "C"))
    loaded = safe_io.load_npy(directory, "a.npy", 1 << 20)
    assert loaded.dtype == array.dtype and loaded.shape == array.shape
    np.testing.assert_array_equal(loaded, array)


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(data=st.one_of(
    st.binary(max_size=300),
    st.integers(0, len(NPY)).map(lambda cut: NPY[:cut]),  # truncated anywhere
    st.tuples(st.integers(0, 127), st.binary(min_size=1, max_size=4)).map(  # a header overwritten in places
        lambda at: NPY[:at[0]] + at[1] + NPY[at[0] + len(at[1]):]),
))
def test_any_bytes_are_an_array_or_unsafe_output(tmp_path_factory, data):
    directory = tmp_path_factory.mktemp("npy")
    (directory / "x.npy").write_bytes(data)
    try:
        assert isinstance(safe_io.load_npy(directory, "x.npy", 1 << 20), np.ndarray)
    except UnsafeOutput:
        pass


def test_a_file_rewritten_while_it_is_read_is_an_array_or_unsafe_output(tmp_path):
    """A learner process that outlives its call (the fork-chain fixture) truncates and rewrites its reply
    files over and over; a file read twice (measured, then parsed) raised ValueError, a grader error."""
    path, stop = tmp_path / "x.npy", threading.Event()

    def rewrite():
        while not stop.is_set():
            path.write_bytes(NPY)
            path.write_bytes(b"")

    writer = threading.Thread(target=rewrite)
    writer.start()
    outcomes = set()
    try:
        for _ in range(3000):
            try:
                outcomes.add(safe_io.load_npy(tmp_path, "x.npy", 1 << 20).shape)
            except UnsafeOutput:
                outcomes.add("unsafe")
    finally:
        stop.set()
        writer.join()
    assert outcomes <= {(1000,), "unsafe"}


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
