"""Read what the learner's process wrote, trusting none of it.

Every file is opened by a name the grader chose, must be a regular file (no symlink, FIFO or device),
and is size-checked before it is parsed. A file is read once and parsed from that copy, since learner
code left running may rewrite it meanwhile. `.npy` headers are checked against the size read and a
numeric dtype before any array is allocated; nothing is ever unpickled.
"""

import io
import json
import math
import os
import re
import selectors
import stat
import time
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np

from grader.core.errors import UnsafeOutput  # the one class every caller catches

SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
NUMERIC_KINDS = "biuf"
READ_HEADER = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def open_regular(directory: str | Path, name: str, max_bytes: int) -> BinaryIO:
    """Open `directory/name` for reading if it is a regular file of at most `max_bytes` bytes."""
    if not SAFE_NAME.match(name) or name.startswith("."):
        raise UnsafeOutput(f"output name {name!r} was not chosen by the grader")
    path = os.path.join(directory, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise UnsafeOutput(f"output {name} could not be opened ({exc.strerror}); it must be a regular file") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise UnsafeOutput(f"output {name} is not a regular file")
    if info.st_size > max_bytes:
        os.close(fd)
        raise UnsafeOutput(f"output too large: {name} is {info.st_size} bytes, the limit is {max_bytes}")
    return os.fdopen(fd, "rb")


def read_regular(directory: str | Path, name: str, max_bytes: int) -> bytes:
    """The bytes of `directory/name`, a regular file of at most `max_bytes` (see `open_regular`), read once:
    learner code left running may rewrite the file at any moment, so only this copy may be checked and used."""
    with open_regular(directory, name, max_bytes) as handle:
        data = handle.read(max_bytes + 1)  # it may have grown since it was measured
    if len(data) > max_bytes:
        raise UnsafeOutput(f"output too large: {name} is over {max_bytes} bytes")
    return data


def copy_regular(directory: str | Path, name: str, max_bytes: int, target: str | Path) -> Path:
    """Copy `directory/name` (read as `read_regular` does) to `target`."""
    Path(target).write_bytes(read_regular(directory, name, max_bytes))
    return Path(target)


def load_npy(directory: str | Path, name: str, max_bytes: int) -> np.ndarray:
    """Load a numeric, non-object `.npy` array whose header agrees with its size, from one read of the file."""
    data = read_regular(directory, name, max_bytes)
    snapshot = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(snapshot)
        if version not in READ_HEADER:
            raise ValueError(f"unsupported .npy version {version}")
        shape, fortran_order, dtype = READ_HEADER[version](snapshot)
    except Exception as exc:  # numpy parses the header with tokenize and ast: TokenError, SyntaxError, ValueError...
        raise UnsafeOutput(f"output {name} is not a valid .npy file: {exc}") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.hasobject:
        raise UnsafeOutput(f"output {name} has dtype {dtype}; only numeric arrays are accepted")
    if snapshot.tell() + math.prod(shape) * dtype.itemsize != len(data):
        raise UnsafeOutput(f"output {name} declares shape {shape} but its size does not match")
    order: Literal["C", "F"] = "F" if fortran_order else "C"
    array = np.frombuffer(data, dtype=dtype, offset=snapshot.tell()).reshape(shape, order=order)
    return array.copy(order=order)


def parse_json_line(line: bytes | str, max_bytes: int) -> Any:
    """Parse one JSON line of at most `max_bytes` bytes into plain Python data."""
    if len(line) > max_bytes:
        raise UnsafeOutput(f"output too large: a reply of {len(line)} bytes, the limit is {max_bytes}")
    try:
        return json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise UnsafeOutput(f"the worker's reply is not valid JSON: {exc}") from None


class LineReader:
    """Read newline-terminated replies from a pipe with a deadline and a size cap.

    `read_line` raises TimeoutError when nothing complete arrives in time, EOFError when the writer
    has gone, and UnsafeOutput when a reply grows past `max_bytes`.
    """

    def __init__(self, fd: int):
        self.fd, self.buffer = fd, b""

    def read_line(self, timeout: float, max_bytes: int) -> bytes:
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.fd, selectors.EVENT_READ)
            while b"\n" not in self.buffer:
                if len(self.buffer) > max_bytes:
                    raise UnsafeOutput(f"output too large: a reply over {max_bytes} bytes")
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise TimeoutError
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    raise EOFError
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line
