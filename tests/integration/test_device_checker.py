"""grader/device/: the device checker process, the batch's device server and the grade process's
client, with real processes (TensorFlow, or a stand-in for it where only the server's loop matters)."""

import io
import json
import os
import socket
import subprocess
import sys
import types
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import h5py
import numpy as np
import pytest

from grader.batch.pool import SlotPool
from grader.core.config import Limits
from grader.core.errors import DeviceCheckFailed, ModelRejected
from grader.core.fallbacks import Fallbacks
from grader.device import checker as checker_process
from grader.device.archive import check_archive
from grader.device.client import DeviceChecker, DeviceServer, ask_device_server
from grader.isolation.cgroups import Cgroup
from grader.isolation.limits import address_space

V = 4


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
    lines = open("/proc/self/cgroup").read().splitlines()
    memory = next((line for line in lines if ":memory:" in line), lines[0]).split(":", 2)[2]
    with open(os.environ["DEVICE_LISTINGS"], "a") as listings:
        listings.write(f"{os.getpid()} {memory}\\n")
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
    server must never list devices itself, only each check it forks, and each check does so (and opens
    the model) in the memory cgroup of its own that the grade process put it in, where one can be made."""
    listings = tmp_path / "listings"
    np.save(tmp_path / "x.npy", np.zeros((1, 2, V), np.float32))
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server = subprocess.Popen([sys.executable, "-c", FAKE_TENSORFLOW, "--serve-fd", str(theirs.fileno())],
                              cwd=root, pass_fds=(theirs.fileno(),),
                              env={**os.environ, "DEVICE_LISTINGS": str(listings)})
    theirs.close()
    try:
        for _ in range(2):
            reply = ask_device_server({"fd": ours.fileno()}, {"model": str(tmp_path / "none.keras"),
                                                              "x": str(tmp_path / "x.npy"), "out": str(tmp_path)},
                                      Limits())
            assert reply is not None and not reply["ok"] and "none.keras" in reply["error"]
    finally:
        ours.close()
        server.wait(timeout=30)
    checks = dict(line.split(" ", 1) for line in listings.read_text().splitlines())
    assert len(checks) == 2 and str(server.pid) not in checks  # one child per check, each listed its own
    if cgroups_here():
        assert all(Path(group).name.startswith(f"grader-{os.getpid()}-") for group in checks.values()), checks


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
                                                            "out": str(out)}, Limits())

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


def cgroups_here():
    """Whether this process can make a cgroup (root, or delegation), as the grade process would."""
    group = Cgroup.create(1 << 20, 8)
    if group is not None:
        group.remove()
    return group is not None


def repack(source, target, config=None, weights=None):
    """Copy the saved model `source` to `target`, its config.json or model.weights.h5 replaced, as a worker
    that rewrote the archive after Keras saved it would leave it."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as rewritten:
        for name in original.namelist():
            data = original.read(name)
            if name == "config.json" and config:
                data = json.dumps(config(json.loads(data)))
            if name == "model.weights.h5" and weights:
                data = weights(data)
            rewritten.writestr(name, data)
    return target


def wider(config):
    """units=24000 (2.3 GB of recurrent kernel), with an initializer that fills it at once: an Orthogonal
    one would spend minutes on a 24000 x 24000 QR decomposition first."""
    rnn = config["config"]["layers"][1]["config"]
    rnn["units"] = 24000
    rnn["recurrent_initializer"] = {"module": "keras.initializers", "class_name": "Zeros", "config": {},
                                    "registered_name": None}
    return config


def with_extra_dataset(data):
    buffer = io.BytesIO(data)
    with h5py.File(buffer, "r+") as weights:
        weights.create_dataset("layers/dense/vars/2", data=np.zeros(3, np.float32))
    return buffer.getvalue()


WEIGHTS_OF = "model.weights.h5 in model.keras"
HOSTILE = {
    "units": "config.json in model.keras: SimpleRNN has units=24000; the grader runs models of 1 to 512 units",
    "shapes": f"{WEIGHTS_OF} has layers/simple_rnn/cell/vars/0 of shape \\(4, 16\\) and dtype float32 where "
              "config.json implies shape \\(4, 8\\) of float32",
    "extra": f"{WEIGHTS_OF} holds layers/dense/vars/2 of shape \\(3,\\) and dtype float32, which config.json does "
             "not imply",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A tiny valid model saved by Keras, rewritten three ways: {kind: path of its model.keras}."""
    from solutions.next_letter import build_model

    made = tmp_path_factory.mktemp("hostile")
    build_model(V, units=8).save(made / "valid.keras")
    build_model(V, units=16).save(made / "wider.keras")
    with zipfile.ZipFile(made / "wider.keras") as other:
        wider_weights = other.read("model.weights.h5")
    paths = {}
    for kind, rewrite in (("units", {"config": wider}), ("shapes", {"weights": lambda _: wider_weights}),
                          ("extra", {"weights": with_extra_dataset})):
        (made / kind).mkdir()
        paths[kind] = repack(made / "valid.keras", made / kind / "model.keras", **rewrite)
    return paths


def test_a_trained_model_as_keras_saves_it_is_accepted(tmp_path):
    """Keras's own layout of model.weights.h5, with the optimizer's state a trained model carries, passes
    the checks that the rewritten archives below fail."""
    from solutions.next_letter import build_model, train

    model = build_model(V)
    x = np.eye(V, dtype=np.float32)[np.arange(24).reshape(8, 3) % V]
    train(model, x, x, epochs=1, seed=0)
    model.save(tmp_path / "model.keras")
    check_archive(tmp_path / "model.keras", V)


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_rewritten_archive_is_refused_before_keras_builds_it(hostile, tmp_path, kind):
    """The checker itself, with a Keras that fails the test if asked to load anything."""
    def load_model(*args, **kwargs):
        raise AssertionError("the checker asked Keras to build the model")

    keras = types.SimpleNamespace(saving=types.SimpleNamespace(load_model=load_model))
    np.save(tmp_path / "x.npy", np.zeros((1, 3, V), np.float32))
    request = {"model": str(hostile[kind]), "x": str(tmp_path / "x.npy"), "out": str(tmp_path)}
    with pytest.raises(ModelRejected, match=HOSTILE[kind]):
        checker_process.run(request, None, keras, np, [])


def test_the_checker_refuses_rewritten_archives_in_the_learners_words(hostile, tmp_path):
    """Through the grade process's client and a real checker: each hostile archive is refused with what
    is wrong and the fix, and the checker's memory stays at what TensorFlow's import takes (the archive
    rewritten to 24000 units made it allocate 2.8 GB)."""
    checker = DeviceChecker(tmp_path / "work", Limits())
    try:
        for kind, path in hostile.items():
            with pytest.raises(ModelRejected, match=f"the device check refused your saved model: {HOSTILE[kind]}"):
                checker.run(path, np.zeros((2, 3, V), np.float32))
        peak = next(int(line.split()[1]) for line in Path(f"/proc/{checker.process.pid}/status").read_text()
                    .splitlines() if line.startswith("VmHWM:")) << 10
        assert peak < 1536 << 20, f"the checker's memory peaked at {peak >> 20} MiB"
    finally:
        checker.close()


def address_space_cap(pid):
    """The soft RLIMIT_AS of process `pid`, in bytes, from /proc/PID/limits."""
    line = next(line for line in Path(f"/proc/{pid}/limits").read_text().splitlines()
                if line.startswith("Max address space"))
    return line.split()[3]


def test_the_checker_runs_under_a_memory_cap(tmp_path):
    """A hostile archive that slipped past the checks still could not take the machine's memory: the
    checker (and the batch's device server, whose children inherit it) has a worker's RLIMIT_AS, and
    the checker a memory cgroup where one can be made."""
    limits = Limits(memory_bytes=1 << 30)
    checker = DeviceChecker(tmp_path, limits)
    server = DeviceServer(limits)
    try:
        checker.start()
        assert address_space_cap(checker.process.pid) == str(address_space(limits))
        assert address_space_cap(server.process.pid) == str(address_space(limits))
        assert (checker.cgroup is not None) == cgroups_here()
        group = checker.cgroup.dirs["memory"] if checker.cgroup else None
        if group:
            assert f"/{group.name}\n" in Path(f"/proc/{checker.process.pid}/cgroup").read_text()
    finally:
        checker.close()
        server.close()
    assert group is None or not group.exists()  # closing the checker removes its cgroup
