"""grader/device/: the device checker process, the batch's device server and the grade process's
client, with real processes (TensorFlow, or a stand-in for it where only the server's loop matters)."""

import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from grader.batch.pool import SlotPool
from grader.core.config import Limits
from grader.core.errors import DeviceCheckFailed
from grader.core.fallbacks import Fallbacks
from grader.device.client import DeviceChecker, DeviceServer, ask_device_server


def test_the_device_check_reads_no_link_the_worker_left(tmp_path):
    """The worker writes the saved model; a link in its place (to any file the grader may read)
    is refused before the device checker opens anything."""
    elsewhere = tmp_path / "elsewhere.keras"
    elsewhere.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "model-1.keras").symlink_to(elsewhere)
    checker = DeviceChecker(tmp_path / "work", Limits())
    try:
        with pytest.raises(DeviceCheckFailed, match="could not be read.*regular file"):
            checker.run(tmp_path / "out" / "model-1.keras", np.zeros((1, 3, 4), np.float32))
    finally:
        checker.close()


# A stand-in for TensorFlow that writes down which process lists the devices, so the device server's
# loop runs without the real import.
FAKE_TENSORFLOW = """
import os, sys, types
def record(kind=None):
    with open(os.environ["DEVICE_LISTINGS"], "a") as listings:
        listings.write(f"{os.getpid()}\\n")
    return ["cpu"] if kind == "CPU" else []
config = types.SimpleNamespace(
    list_physical_devices=record, set_logical_device_configuration=lambda *args: None,
    LogicalDeviceConfiguration=lambda: None,
    experimental=types.SimpleNamespace(enable_tensor_float_32_execution=lambda on: None))
sys.modules["tensorflow"] = types.SimpleNamespace(config=config)
sys.modules["keras"] = types.ModuleType("keras")
from grader.device import checker
checker.main()
"""


def test_the_device_server_leaves_the_devices_to_each_forked_check(root, tmp_path):
    """Listing GPUs initialises the CUDA driver, which a forked child cannot use: the batch's device
    server must never list devices itself, only each check it forks."""
    listings = tmp_path / "listings"
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server = subprocess.Popen([sys.executable, "-c", FAKE_TENSORFLOW, "--serve-fd", str(theirs.fileno())],
                              cwd=root, pass_fds=(theirs.fileno(),),
                              env={**os.environ, "DEVICE_LISTINGS": str(listings)})
    theirs.close()
    try:
        for _ in range(2):
            reply = ask_device_server({"fd": ours.fileno()}, {"model": str(tmp_path / "none.keras"),
                                                              "x": "", "out": str(tmp_path)}, 30)
            assert reply is not None and not reply["ok"] and "none.keras" in reply["error"]
    finally:
        ours.close()
        server.wait(timeout=30)
    pids = {int(pid) for pid in listings.read_text().split()}
    assert len(pids) == 2 and server.pid not in pids  # one child per check, each listed its own


def test_one_device_server_answers_several_slots_at_once(tmp_path):
    """The batch's single device server answers checks sent at once (each on its own socket, none
    mixed up) and keeps serving after a bad request; when it dies, a check still runs (in a checker
    of its own) and the pool starts a new server for the slots it shares."""
    import keras

    from solutions.next_letter import build_model

    model_path = tmp_path / "model.keras"
    build_model(4).save(model_path)
    x = np.eye(4, dtype=np.float32)[np.arange(12).reshape(3, 4) % 4]
    expected = keras.saving.load_model(model_path, compile=False)(x).numpy()
    server = DeviceServer()
    try:
        def check(i):
            out = tmp_path / f"check-{i}"
            out.mkdir()
            np.save(out / "x.npy", x, allow_pickle=False)
            model = str(model_path) if i else str(tmp_path / "missing.keras")
            return out, ask_device_server(server.handle(), {"model": model, "x": str(out / "x.npy"),
                                                            "out": str(out)}, 60)

        with ThreadPoolExecutor(4) as pool:
            replies = list(pool.map(check, range(4)))
        assert not replies[0][1]["ok"] and "missing.keras" in replies[0][1]["error"]
        for out, reply in replies[1:]:
            assert reply["ok"], reply
            for device in range(2):
                np.testing.assert_allclose(np.load(out / f"device-{device}.npy"), expected, atol=1e-6)
        server.process.kill()
        server.process.wait()
        checker = DeviceChecker(tmp_path / "fallback", Limits())
        checker.server = server.handle()
        try:
            np.testing.assert_allclose(checker.run(model_path, x).outputs[1], expected, atol=1e-6)
        finally:
            checker.close()
    finally:
        server.close()

    pool = SlotPool()
    record = Fallbacks()
    try:
        first, second = pool.acquire(["--isolation", "off"], record), pool.acquire(["--isolation", "off"], record)
        assert first is not second and first.device is second.device
        first.device.process.kill()
        first.device.process.wait()
        pool.release(first)
        again = pool.acquire(["--isolation", "off"], record)
        assert again is first and again.device is not second.device and again.device.process.poll() is None
        assert "server-restarted" in record.taken  # the restart is recorded, for the submission's report
    finally:
        pool.close()
