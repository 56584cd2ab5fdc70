"""`grade batch` with the preloaded TensorFlow (grader/isolation/zygote.py, grader/batch/pool.py):
submissions graded in turn by one slot share nothing, and score as without preloading."""

import json
import shutil
import subprocess
import sys

from grader.core.config import Limits
from grader.isolation.cgroups import Cgroup
from grader.isolation.limits import rlimits

LINGERER = '''
import os as _os
_build_model = build_model


def build_model(n_chars, units=8):
    if _os.fork() == 0:  # a process left behind, watching the next submission's files
        open("leak.txt", "w").write("still here")  # in the working directory, where the next one runs
        import time
        time.sleep(600)
    return _build_model(n_chars, units)
'''
PARENT_KILLER = '''
import os as _os
import signal as _signal
_build_model_ = build_model


def build_model(n_chars, units=8):
    for target, sig in ((_os.getppid(), _signal.SIGINT), (_os.getppid(), _signal.SIGKILL), (-1, _signal.SIGKILL)):
        try:  # the zygote that forked this worker, then everything this uid may signal
            _os.kill(target, sig)
        except OSError:
            pass
    return _build_model_(n_chars, units)
'''
OBSERVER = '''
import os as _os


def build_model(n_chars, units=8):
    pids = [p for p in _os.listdir("/proc") if p.isdigit()]
    read_only = [d for d in ("/slot", "/slot/src", "/slot/in", "/slot/logs", "/slot/out", "/slot/home", "/slot/tmp")
                 if _os.statvfs(d).f_flag & _os.ST_RDONLY]
    import resource
    import tensorflow as tf
    raise RuntimeError(f"seen: {sorted(_os.listdir('.'))} {len(pids)} processes, read-only {read_only}, "
                       f"nproc {resource.getrlimit(resource.RLIMIT_NPROC)[0]}, "
                       f"{tf.config.optimizer.get_experimental_options()}")
'''


def test_preloaded_workers_grade_alike_and_share_nothing(root, tmp_path, observe, observed, read_gradebook):
    """One slot grades four submissions in turn: the second leaves a process and a file behind, the
    third tries to kill the zygote that forked it, the fourth looks for what they left. Results equal
    a run without preloading, and each batch leaves nothing running (only what it started is looked
    at, so another grading running beside it changes nothing)."""
    subs = tmp_path / "subs"
    for name in ("a-ref", "b-lingerer", "c-killer", "d-observer"):
        shutil.copytree(root / "solutions", subs / name)
    for name, extra in (("b-lingerer", LINGERER), ("c-killer", PARENT_KILLER), ("d-observer", OBSERVER)):
        path = subs / name / "next_letter.py"
        path.write_text(path.read_text() + extra)
    runs, left = {}, {}
    for mode in ("preload", "fresh"):
        command = [sys.executable, "-m", "grader.cli", "batch", subs, "--out", tmp_path / mode, "--jobs", "1",
                   "--only", "next_letter", *([] if mode == "preload" else ["--no-preload"])]
        done = subprocess.run(observe(tmp_path / f"{mode}.seen.json", command), capture_output=True, text=True,
                              cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr
        runs[mode] = read_gradebook(tmp_path / mode)
        left[mode] = observed(tmp_path / f"{mode}.seen.json")["survivors"]
    scores = {mode: {k: (r["total"], r["status"]) for k, r in rows.items()} for mode, rows in runs.items()}
    assert scores["preload"] == scores["fresh"]
    for name in ("a-ref", "c-killer"):
        assert runs["preload"][name]["total"] == runs["preload"][name]["max_score"]
    observed = json.loads((tmp_path / "preload" / "d-observer.json").read_text())["report"]["tests"]
    message = next(t["message"] for t in observed if t["name"] == "public/next_letter/test_architecture")
    assert "seen: [] 2 processes" in message  # the zygote (its sandbox's init) and this worker: nothing else
    # Even as the grader's own uid, a worker can swap nothing the grade process writes in for a link.
    assert "read-only ['/slot', '/slot/src', '/slot/in', '/slot/logs']" in message
    # The limits a fresh worker gets (RLIMIT_NPROC is uid-wide: a lower one let a fork bomb in one
    # slot stop another slot's trainings from starting threads).
    probe = Cgroup.create(Limits().memory_bytes, Limits().processes)
    if probe is not None:
        probe.remove()
    assert f"nproc {rlimits(Limits(), probe)['RLIMIT_NPROC']}," in message
    assert "'disable_meta_optimizer': True" in message  # set in the zygote, as in a fresh worker
    assert left == {"preload": [], "fresh": []}  # the lingerer included, however it was orphaned
