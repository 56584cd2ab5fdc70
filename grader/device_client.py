"""Start `device_check.py` early and ask it to run a learner's saved model on two devices.

The checker imports TensorFlow but never learner code; what it writes back is read like any other
untrusted output (fixed names, size caps, numeric `.npy` only).
"""

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader import preload, safe_io
from grader.device_check import MAX_ARCHIVE_BYTES
from grader.sandbox import kill_group

# Agreement demanded between the two devices and the trusted numpy evaluation (TF32 is off).
DEVICE_ATOL = 1e-5


class DeviceCheckFailed(AssertionError):
    """The model could not be run on both devices, or its outputs disagree."""


@dataclass
class DeviceOutputs:
    outputs: list
    devices: list
    gpu_present: bool


class DeviceChecker:
    def __init__(self, work_dir, limits):
        self.work_dir, self.limits = Path(work_dir), limits
        self.process = None
        # When batch grading, the batch's device server (preload.py) has TensorFlow imported already.
        self.server = preload.attached().get("device")

    def start(self):
        if self.process is not None or self.server:
            return
        self.process = subprocess.Popen(
            [sys.executable, "-s", "-P", "-B", "-m", "grader.device_check"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"},
            cwd=Path(__file__).resolve().parents[1], start_new_session=True,
        )
        self.reader = safe_io.LineReader(self.process.stdout.fileno())

    def run(self, keras_path, x):
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
        except safe_io.UnsafeOutput as exc:
            raise DeviceCheckFailed(f"your saved model could not be read: {exc}") from None
        np.save(out / "x.npy", x, allow_pickle=False)
        request = {"model": str(model), "x": str(out / "x.npy"), "out": str(out)}
        reply = preload.ask_device_server(self.server, request, self.limits.call_s * 3) if self.server else None
        if reply is None:
            # No server, or the batch's server is gone or stuck: the learner must not lose points for
            # that, so the check runs in a checker of its own (paying the TensorFlow import).
            self.server = None
            self.start()
            reply = self.ask_process(request)
        if not reply.get("ok"):
            raise DeviceCheckFailed(f"your saved model could not be run outside your process: {reply.get('error')}")
        outputs = [safe_io.load_npy(out, f"device-{i}.npy", self.limits.array_bytes) for i in range(2)]
        return DeviceOutputs(outputs, [str(d) for d in reply.get("devices", [])], bool(reply.get("gpu_present")))

    def ask_process(self, request):
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        self.process.stdin.flush()
        try:
            return json.loads(self.reader.read_line(self.limits.import_s + self.limits.call_s, 1 << 16))
        except (TimeoutError, EOFError, ValueError, safe_io.UnsafeOutput) as exc:
            self.close()
            raise DeviceCheckFailed(f"the device check did not answer ({type(exc).__name__})") from None

    def close(self):
        if self.process is not None:
            kill_group(self.process)
            self.process.wait()
            self.process = None


def compare_devices(outputs, trusted, atol=DEVICE_ATOL):
    """Fail unless both device outputs agree with each other and with the trusted numpy evaluation.

    outputs: two arrays (N, T, V) from the two devices; trusted: (N, T, V) from numpy.
    """
    first, second = outputs
    if first.shape != trusted.shape or second.shape != trusted.shape:
        raise DeviceCheckFailed(f"the model's outputs have shapes {first.shape} and {second.shape}, "
                                f"expected {trusted.shape}")
    if not np.array_equal(first.argmax(-1), second.argmax(-1)):
        raise DeviceCheckFailed("the two devices predict different letters")
    gaps = {"between the devices": np.max(np.abs(first - second)),
            "device 1 vs numpy": np.max(np.abs(first - trusted)),
            "device 2 vs numpy": np.max(np.abs(second - trusted))}
    for what, gap in gaps.items():
        if not gap <= atol:
            raise DeviceCheckFailed(f"outputs differ {what} by {gap:.3g} (tolerance {atol:g})")
    return {k.replace(" ", "_"): float(v) for k, v in gaps.items()}
