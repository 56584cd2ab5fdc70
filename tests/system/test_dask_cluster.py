"""`grade batch --dask ADDRESS` against a real Dask cluster: a `dask scheduler` and a `dask worker` started as
processes of their own (this environment's commands, listening on 127.0.0.1 only), each in a directory of its
own, and `grade batch` run with relative paths from a third directory, as an instructor types it.

Every process this test starts runs this checkout's grader (PYTHONPATH), and is stopped at the end.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
START_S = 90  # for the scheduler's address and the worker's registration, on a busy machine


def stop(process):
    """Stop a process this test started, and its process group (the worker's nanny and its worker)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path, root):
    """The address of a scheduler with one worker, each started in a directory of its own."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    started, logs = [], {}
    for name in ("scheduler", "worker"):
        (tmp_path / name).mkdir()
        logs[name] = open(tmp_path / name / "log", "w")  # closed below
    try:
        address_file = tmp_path / "scheduler" / "address.json"
        started.append(subprocess.Popen(
            [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", address_file], cwd=tmp_path / "scheduler", env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=logs["scheduler"]))
        deadline, address = time.monotonic() + START_S, None
        while address is None:
            assert started[0].poll() is None, (tmp_path / "scheduler" / "log").read_text()
            assert time.monotonic() < deadline, "the scheduler wrote no address"
            time.sleep(0.2)
            try:  # the scheduler writes the file once it listens (not atomically: read until it parses)
                address = json.loads(address_file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                pass
        assert address.startswith("tcp://127.0.0.1:")
        started.append(subprocess.Popen(
            [BIN / "dask", "worker", address, "--host", "127.0.0.1", "--nworkers", "1", "--nthreads", "2",
             "--no-dashboard", "--death-timeout", "60", "--local-directory", tmp_path / "worker"],
            cwd=tmp_path / "worker", env=env, start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=logs["worker"]))
        from distributed import Client

        with Client(address, timeout=START_S) as client:
            client.wait_for_workers(1, timeout=START_S)
        yield address
    finally:
        for process in reversed(started):
            stop(process)
        for log in logs.values():
            log.close()


def test_relative_paths_are_graded_on_a_real_dask_cluster(cluster, root, tmp_path, read_gradebook):
    here = tmp_path / "instructor"
    shutil.copytree(root / "solutions", here / "class" / "alice")
    shutil.copytree(root / "exercises", here / "class" / "bob")
    with zipfile.ZipFile(here / "class" / "cy.zip", "w") as bundle:
        bundle.write(root / "solutions" / "forward.py", "cy/forward.py")
    done = subprocess.run([sys.executable, "-m", "grader.cli", "batch", "class", "--out", "out", "--dask", cluster,
                           "--only", "forward"], capture_output=True, text=True, cwd=here, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stdout + done.stderr
    rows = read_gradebook(here / "out")
    assert {name: row["status"] for name, row in rows.items()} == {"alice": "graded", "bob": "graded",
                                                                   "cy": "graded"}, rows
    full = rows["alice"]["max_score"]
    assert float(full) > 0 and rows["alice"]["total"] == rows["cy"]["total"] == rows["alice"]["forward"] == full
    assert rows["bob"]["total"] == "0"
    assert not (tmp_path / "worker" / "out").exists() and not (tmp_path / "worker" / "class").exists()
