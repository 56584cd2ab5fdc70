"""The grade process's side of the device checker: start it, ask it to run a saved model on two
devices, compare what comes back.

The checker (`checker.py`) imports TensorFlow but never learner code; what it writes back is read
like any other untrusted output (fixed names, size caps, numeric `.npy` only). A grade process
starts one of its own early (TensorFlow's import overlaps the numpy checks), unless its batch gave
it a `DeviceServer` to ask. The checker refuses a saved model that is not the exercise's before Keras
builds it (`archive.py`); in case one slips past, it runs under a worker's address-space cap, and each
check in a memory cgroup of its own where one can be made.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.core import fallbacks
from grader.core.config import NUMERIC_SETTINGS, REPOSITORY, Limits
from grader.core.errors import DeviceCheckFailed, ModelRejected, UnsafeOutput
from grader.device.archive import MAX_ARCHIVE_BYTES
from grader.isolation import safe_io
from grader.isolation.cgroups import Cgroup
from grader.isolation.limits import address_space, confine
from grader.isolation.processes import kill_group
from grader.isolation.servers import ForkServer, attached, read_line

CHECKER = ["-s", "-P", "-B", "-m", "grader.device.checker"]
# Agreement demanded between the two devices and the trusted numpy evaluation (TF32 is off).
DEVICE_ATOL = 1e-5


@dataclass
class DeviceOutputs:
    outputs: list[np.ndarray]
    devices: list[str]
    gpu_present: bool


def checker_environment() -> dict[str, str]:
    """The checker's environment. glibc reserves a 64 MiB malloc arena per thread, which counts against the
    address-space cap, so the checker gets the workers' arena limit (`core.config.NUMERIC_SETTINGS`)."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0",
            "MALLOC_ARENA_MAX": NUMERIC_SETTINGS["MALLOC_ARENA_MAX"]}


def checker_rlimits(limits: Limits) -> dict[str, int]:
    """The checker's rlimits: a worker's address-space cap (it runs TensorFlow and a model, as a worker does),
    with a cgroup or without, since a device server's children inherit the cap and get their cgroups only once
    running. None of a worker's other limits: it runs no learner code, and RLIMIT_NPROC, counted over the
    grader's own uid, would fail it beside that user's other processes."""
    return {"RLIMIT_AS": address_space(limits)}


class DeviceChecker:
    def __init__(self, work_dir: str | Path, limits: Limits):
        self.work_dir, self.limits = Path(work_dir), limits
        self.process: subprocess.Popen[bytes] | None = None
        self.cgroup: Cgroup | None = None
        # When batch grading, the batch's device server has TensorFlow imported already.
        self.server = attached().get("device")

    def start(self) -> None:
        if self.process is not None or self.server:
            return
        self.cgroup = Cgroup.create(self.limits.memory_bytes, self.limits.processes)
        self.process = subprocess.Popen(
            [sys.executable, *CHECKER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=checker_environment(),
            cwd=REPOSITORY, start_new_session=True, preexec_fn=confine(checker_rlimits(self.limits), self.cgroup),
        )
        assert self.process.stdout is not None  # stdout=PIPE
        self.reader = safe_io.LineReader(self.process.stdout.fileno())

    def run(self, keras_path: str | Path, x: np.ndarray) -> DeviceOutputs:
        """Run the model at `keras_path` on `x` (N, T, V) on both devices; return `DeviceOutputs`.

        `keras_path` is in a directory the learner's worker writes to; the checker reads a copy
        taken without following links, so the worker cannot point it at another file meanwhile.
        """
        self.start()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        out = Path(tempfile.mkdtemp(dir=self.work_dir, prefix="device-"))
        keras_path = Path(keras_path)
        try:
            model = safe_io.copy_regular(keras_path.parent, keras_path.name, MAX_ARCHIVE_BYTES, out / "model.keras")
        except UnsafeOutput as exc:
            raise DeviceCheckFailed(f"your saved model could not be read: {exc}") from None
        np.save(out / "x.npy", x, allow_pickle=False)
        request = {"model": str(model), "x": str(out / "x.npy"), "out": str(out)}
        reply = ask_device_server(self.server, request, self.limits) if self.server else None
        if reply is None:
            # No server, or the batch's server is gone or stuck: the learner must not lose points for
            # that, so the check runs in a checker of its own (paying the TensorFlow import).
            if self.server:
                fallbacks.note("device-server-gone", "the batch's device server did not answer: the device "
                                                     "check ran in a checker process of its own")
            self.server = None
            self.start()
            reply = self.ask_process(request)
        if reply.get("rejected"):
            raise ModelRejected(f"the device check refused your saved model: {reply['rejected']}")
        if not reply.get("ok"):
            raise DeviceCheckFailed(f"your saved model could not be run outside your process: {reply.get('error')}")
        outputs = [safe_io.load_npy(out, f"device-{i}.npy", self.limits.array_bytes) for i in range(2)]
        return DeviceOutputs(outputs, [str(d) for d in reply.get("devices", [])], bool(reply.get("gpu_present")))

    def ask_process(self, request: dict[str, str]) -> Any:
        assert self.process is not None and self.process.stdin is not None  # started, stdin=PIPE
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        self.process.stdin.flush()
        try:
            return json.loads(self.reader.read_line(self.limits.import_s + self.limits.call_s, 1 << 16))
        except (TimeoutError, EOFError, ValueError, UnsafeOutput) as exc:
            self.close()
            raise DeviceCheckFailed(f"the device check did not answer ({type(exc).__name__})") from None

    def close(self) -> None:
        if self.process is not None:
            kill_group(self.process)
            self.process.wait()
            self.process = None
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None


def compare_devices(outputs: list[np.ndarray], trusted: np.ndarray | None, shape: tuple[int, ...] | None = None,
                    atol: float = DEVICE_ATOL) -> dict[str, float]:
    """Fail unless both device outputs have the expected shape and agree with each other and with the trusted
    numpy evaluation.

    outputs: two arrays (N, T, V) from the two devices; trusted: (N, T, V) from numpy, or None for a model the
    numpy evaluation does not run (one of another architecture than the exercise's): the two devices are then
    compared with each other alone, their outputs expected of `shape`.
    """
    first, second = outputs
    wanted = trusted.shape if trusted is not None else shape
    if first.shape != wanted or second.shape != wanted:
        raise DeviceCheckFailed(f"the model's outputs have shapes {first.shape} and {second.shape}, "
                                f"expected {wanted}")
    if not np.array_equal(first.argmax(-1), second.argmax(-1)):
        raise DeviceCheckFailed("the two devices predict different letters")
    gaps = {"between the devices": np.max(np.abs(first - second))}
    if trusted is not None:
        gaps.update({"device 1 vs numpy": np.max(np.abs(first - trusted)),
                     "device 2 vs numpy": np.max(np.abs(second - trusted))})
    for what, gap in gaps.items():
        if not gap <= atol:
            raise DeviceCheckFailed(f"outputs differ {what} by {gap:.3g} (tolerance {atol:g})")
    return {k.replace(" ", "_"): float(v) for k, v in gaps.items()}


class DeviceServer(ForkServer):
    """The trusted device checker with TensorFlow imported, one child per model (each child configures
    the devices: see `checker.serve_forked`).

    One per batch process, shared by every slot: a check sends its own socket over the SOCK_SEQPACKET
    control socket (one message each, so grade processes may send at once) and gets its answer there.
    The server runs under the checker's rlimits, which each child inherits; each child also gets a cgroup
    of its own from the grade process that asked (`ask_device_server`).
    """

    def __init__(self, limits: Limits | None = None) -> None:
        super().__init__(CHECKER, checker_environment(), confine(checker_rlimits(limits or Limits()), None))

    def handle(self) -> dict[str, int]:
        return {"fd": self.ours.fileno()}


def ask_device_server(handle: dict[str, Any], request: dict[str, str], limits: Limits) -> Any:
    """Send one check to the device server; its JSON answer, or None if none came in time (3 x the call limit).

    The server's child for this check says its pid first, and is moved into a memory cgroup of its own
    (where one can be made) before it is sent the request, so it opens no saved model outside one.
    """
    control = socket.socket(fileno=os.dup(handle["fd"]))
    ours, theirs = socket.socketpair()
    cgroup = None
    try:
        socket.send_fds(control, [b"check"], [theirs.fileno()])
        theirs.close()
        child = read_line(ours, limits.call_s * 3)
        if not isinstance(child, dict) or type(child.get("pid")) is not int:
            return None
        cgroup = Cgroup.create(limits.memory_bytes, limits.processes)
        if cgroup is not None:
            cgroup.join(child["pid"])
        ours.sendall((json.dumps(request) + "\n").encode())
        return read_line(ours, limits.call_s * 3)
    except OSError:
        return None
    finally:
        control.close()
        theirs.close()
        ours.close()
        if cgroup is not None:
            cgroup.remove()
