"""Run a learner's saved model on two devices, in a process that never imports learner code.

Started once per grading run as `python -m grader.device.checker` (TensorFlow's import overlaps the
other checks), it reads one JSON request per line on stdin,

    {"model": PATH.keras, "x": PATH.npy, "out": DIR}

and answers one JSON line: {"ok": true, "devices": [...], "gpu_present": bool} after writing
`DIR/device-0.npy` and `DIR/device-1.npy`, {"ok": false, "rejected": "..."} for a saved model it refuses
to load (the learner's fault, in the learner's words), or {"ok": false, "error": "..."}. With a GPU the two
devices are the CPU and the GPU; without one the CPU is split into two logical devices, so the same
code path runs and the report says that no GPU was present. TF32 is off so float32 matmuls are exact.
The `.keras` archive is checked (`archive.py`: members, sizes, a model of allow-listed builtin layers for the
V letters of `x`, the exercise's or another, the weight file's shapes) before Keras loads the copy that
`archive.write_checked` makes of what was checked, with `safe_mode=True`. The process runs
under the memory limits the grade process set (`client.py: checker_rlimits` and a memory cgroup), in case a
model slips past the checks.
"""

import json
import os
import signal
import socket
import sys
from types import ModuleType
from typing import Any

from grader.core.errors import ModelRejected
from grader.device.archive import check_archive, write_checked
from grader.isolation.servers import fork_per_request

CHILD_SECONDS = 120  # a forked check's lifetime in batch mode; a grade process waits 3 x --call-timeout (60 s)


def configure_devices(tf: ModuleType) -> tuple[list[str], bool]:
    """Return the two device names to compare; must run before TensorFlow executes any op."""
    tf.config.experimental.enable_tensor_float_32_execution(False)
    if tf.config.list_physical_devices("GPU"):
        return ["/CPU:0", "/GPU:0"], True
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    return ["/CPU:0", "/CPU:1"], False


def run(request: dict[str, Any], tf: ModuleType, keras: ModuleType, np: ModuleType, devices: list[str]) -> list[str]:
    x = np.load(request["x"], allow_pickle=False)  # the grade process wrote it: its V is the one the model must take
    checked = os.path.join(request["out"], "checked.keras")
    write_checked(request["model"], check_archive(request["model"], x.shape[-1]), checked)
    model = keras.saving.load_model(checked, safe_mode=True, compile=False)
    placed = []
    for i, device in enumerate(devices):
        with tf.device(device):
            y = model(tf.constant(x), training=False)
        placed.append(y.device)
        np.save(os.path.join(request["out"], f"device-{i}.npy"), np.asarray(y), allow_pickle=False)
    return placed


def answer(line: str | bytes, tf: ModuleType, keras: ModuleType, np: ModuleType, devices: list[str],
           gpu_present: bool) -> dict[str, Any]:
    try:
        placed = run(json.loads(line), tf, keras, np, devices)
        return {"ok": True, "devices": placed, "gpu_present": gpu_present}
    except ModelRejected as exc:
        return {"ok": False, "rejected": str(exc)}
    except Exception as exc:  # any failure is the model's: report it, keep serving
        return {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}


def serve_forked(fd: int, tf: ModuleType, keras: ModuleType, np: ModuleType) -> None:
    """Batch mode (`client.DeviceServer`): one forked child per request, so no op ever runs in this process.

    The control socket (SOCK_SEQPACKET, shared by every grade process of the batch) carries one
    message per check with the socket of that check attached; the child reads the request from it
    and answers there, so checks from several slots run side by side. The child first says its pid, so
    that the grade process can move it into a cgroup of its own before sending the request (`client.
    ask_device_server`). Each child lists and configures the devices itself, once in its cgroup: listing
    GPUs initialises the CUDA driver, which the children of a process that did so cannot use.
    """
    def answer_check(message: bytes, fds: list[int]) -> None:
        try:
            signal.alarm(CHILD_SECONDS)  # nobody waits for a stuck check: it must end by itself
            with socket.socket(fileno=fds[0]) as check, check.makefile("rb") as requests:
                check.sendall((json.dumps({"pid": os.getpid()}) + "\n").encode())
                request = requests.readline(1 << 16)
                reply = answer(request, tf, keras, np, *configure_devices(tf))
                check.sendall((json.dumps(reply) + "\n").encode())
        finally:
            os._exit(0)

    fork_per_request(fd, answer_check, 16)


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np
    import tensorflow as tf

    if len(sys.argv) == 3 and sys.argv[1] == "--serve-fd":
        return serve_forked(int(sys.argv[2]), tf, keras, np)
    devices, gpu_present = configure_devices(tf)
    for line in sys.stdin:
        sys.stdout.write(json.dumps(answer(line, tf, keras, np, devices, gpu_present)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
