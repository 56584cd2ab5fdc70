"""`grade batch`: a class of varied submissions in one command, resumable, sharded, and on Dask.

The class is graded with `--only encoding forward` (no TensorFlow) to keep the suite fast; the
next-letter exercise goes through exactly the same path.
"""

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.authoring.build import build_notebook, split_cells
from grader.authoring.selfcheck import build, load_fixtures

FAST = ["--only", "encoding", "forward", "--call-timeout", "3"]
FIXTURES = {f.name: f for f in load_fixtures()}


@pytest.fixture(scope="module")
def klass(tmp_path_factory, root):
    """Nine submissions: correct, partial, broken, hostile, zipped, a notebook, and two non-submissions."""
    base = tmp_path_factory.mktemp("class")
    subs = base / "submissions"
    subs.mkdir()
    for name, fixture in (("ada", None), ("bob", "transposed-weights"), ("cy", "syntax-error"),
                          ("dee", "exit-at-import"), ("eve", "infinite-loop"), ("fay", "stubs")):
        if fixture:
            build(FIXTURES[fixture], subs / name)
        else:
            shutil.copytree(root / "solutions", subs / name)
    with zipfile.ZipFile(subs / "gus.zip", "w") as bundle:  # a zip of a folder
        for module in ("encoding", "forward"):
            bundle.write(root / "solutions" / f"{module}.py", f"gus/{module}.py")
    cells = [c for m in ("encoding", "forward") for c in split_cells((root / "solutions" / f"{m}.py").read_text())]
    nbformat.write(build_notebook(cells, "all"), subs / "hal.ipynb")
    with zipfile.ZipFile(subs / "ivy.zip", "w") as bundle:  # zip-slip: must never be extracted
        bundle.writestr("../../escaped.py", "print('out')\n")
    (subs / "notes.txt").write_text("not a submission")
    return base


def batch(args, root, **kwargs):
    return subprocess.run([sys.executable, "-m", "grader.cli", "batch", *map(str, args), *FAST],
                          capture_output=True, text=True, cwd=root, **kwargs)


def gradebook(results):
    return {row["id"]: row for row in csv.DictReader(io.StringIO((results / "gradebook.csv").read_text()))}


@pytest.fixture(scope="module")
def graded(klass, root):
    results = klass / "results"
    done = batch([klass / "submissions", "--out", results, "--jobs", "2"], root)
    assert done.returncode == 0, done.stdout + done.stderr
    return results, done.stdout


def test_every_submission_gets_a_row_with_its_status_and_reason(graded):
    rows = gradebook(graded[0])
    assert set(rows) == {"ada", "bob", "cy", "dee", "eve", "fay", "gus", "hal", "ivy", "notes"}
    full = rows["ada"]["max_score"]
    assert rows["ada"]["total"] == rows["gus"]["total"] == rows["hal"]["total"] == full
    assert 0 < float(rows["bob"]["total"]) < float(full)
    assert "SyntaxError" in rows["cy"]["reason"] and "exit status 0" in rows["dee"]["reason"]
    assert "time limit" in rows["eve"]["reason"] and rows["fay"]["total"] == "0"
    assert rows["ivy"]["status"] == rows["notes"]["status"] == "not a submission"
    assert "unsafe path" in rows["ivy"]["reason"]
    assert not (graded[0].parent / "escaped.py").exists()


def test_class_summary(graded):
    summary = json.loads((graded[0] / "summary.json").read_text())
    assert summary["submissions"] == 10 and summary["statuses"] == {"graded": 8, "not a submission": 2}
    assert sum(summary["distribution"].values()) == 8
    assert {"id": "transposed-weights", "submissions": 1} in summary["misconceptions"]
    assert 0 < summary["pass_rate"]["hidden/forward/test_rnn_step_matches_reference[float64]"] < 1
    assert "Most frequent misconceptions" in graded[1] and "Score distribution" in graded[1]


def test_running_again_grades_nothing(graded, klass, root):
    before = {p.name: p.stat().st_mtime_ns for p in graded[0].glob("*.json") if p.name != "summary.json"}
    done = batch([klass / "submissions", "--out", graded[0]], root)
    assert "10 already graded, 0 to grade" in done.stdout
    after = {p.name: p.stat().st_mtime_ns for p in graded[0].glob("*.json") if p.name != "summary.json"}
    assert before == after


def test_a_changed_submission_is_regraded(graded, klass, root, tmp_path):
    subs = tmp_path / "subs"
    shutil.copytree(klass / "submissions", subs)
    results = tmp_path / "results"
    shutil.copytree(graded[0], results)
    forward = subs / "bob" / "forward.py"
    forward.write_text(forward.read_text().replace("W_hh.T + b", "W_hh + b"))
    done = batch([subs, "--out", results], root)
    assert "9 already graded, 1 to grade" in done.stdout
    assert gradebook(results)["bob"]["total"] == gradebook(results)["ada"]["total"]


def test_kill_midway_loses_nothing_and_regrades_only_the_rest(klass, root, tmp_path):
    results = tmp_path / "results"
    process = subprocess.Popen([sys.executable, "-m", "grader.cli", "batch", str(klass / "submissions"), "--out",
                                str(results), "--jobs", "1", *FAST], cwd=root, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(results.glob("*.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    kept = sorted(p.name for p in results.glob("*.json"))
    assert 3 <= len(kept) < 10
    for path in results.glob("*.json"):
        json.loads(path.read_text())  # whole files only
    assert not list(results.glob(".*.tmp"))
    time.sleep(0.5)  # PDEATHSIG has reached the grade process that was running
    running = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(klass / "submissions") not in running
    done = batch([klass / "submissions", "--out", results], root)
    assert f"{len(kept)} already graded, {10 - len(kept)} to grade" in done.stdout
    assert set(gradebook(results)) == set(gradebook(klass / "results"))


def test_shards_merge_into_the_same_gradebook(graded, klass, root, tmp_path):
    for index in (1, 2):
        done = batch([klass / "submissions", "--out", tmp_path / f"shard{index}", "--shard", f"{index}/2"], root)
        assert done.returncode == 0, done.stderr
    sizes = [len(gradebook(tmp_path / f"shard{i}")) for i in (1, 2)]
    assert sizes == [5, 5]
    merged = subprocess.run([sys.executable, "-m", "grader.cli", "merge", str(tmp_path / "shard1"),
                             str(tmp_path / "shard2"), "--out", str(tmp_path / "all")], capture_output=True,
                            text=True, cwd=root)
    assert merged.returncode == 0, merged.stderr
    assert gradebook(tmp_path / "all") == gradebook(graded[0])


def test_dask_local_cluster_gives_the_same_gradebook(graded, klass, root, tmp_path):
    done = batch([klass / "submissions", "--out", tmp_path / "dask", "--dask", "local:2"], root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert gradebook(tmp_path / "dask") == gradebook(graded[0])


def test_a_submission_over_its_budget_is_stopped(root, tmp_path):
    subs = tmp_path / "subs"
    build(FIXTURES["infinite-loop"], subs / "slow")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "grader.cli", "batch", str(subs), "--out", str(tmp_path / "r"),
                           "--budget", "3", "--only", "forward"], capture_output=True, text=True, cwd=root)
    assert done.returncode == 0, done.stderr
    row = gradebook(tmp_path / "r")["slow"]
    assert row["status"] == "timeout" and "budget of 3 s" in row["reason"]
    assert time.monotonic() - started < 30


def test_batch_refuses_per_submission_report_flags(root, tmp_path):
    done = batch([tmp_path, "--out", tmp_path / "r", "--junit", tmp_path / "x.xml"], root)
    assert done.returncode == 2 and "per submission" in done.stderr


# -- the preloaded TensorFlow ----------------------------------------------------------------------
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


def test_preloaded_workers_grade_alike_and_share_nothing(root, tmp_path):
    """One slot grades four submissions in turn: the second leaves a process and a file behind, the
    third tries to kill the zygote that forked it, the fourth looks for what they left. Results equal
    a run without preloading."""
    subs = tmp_path / "subs"
    for name in ("a-ref", "b-lingerer", "c-killer", "d-observer"):
        shutil.copytree(root / "solutions", subs / name)
    for name, extra in (("b-lingerer", LINGERER), ("c-killer", PARENT_KILLER), ("d-observer", OBSERVER)):
        path = subs / name / "next_letter.py"
        path.write_text(path.read_text() + extra)
    runs = {}
    for mode in ("preload", "fresh"):
        args = [subs, "--out", tmp_path / mode, "--jobs", "1", "--only", "next_letter"]
        done = subprocess.run([sys.executable, "-m", "grader.cli", "batch", *map(str, args),
                               *([] if mode == "preload" else ["--no-preload"])], capture_output=True, text=True,
                              cwd=root)
        assert done.returncode == 0, done.stdout + done.stderr
        runs[mode] = gradebook(tmp_path / mode)
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
    from grader.core.config import Limits
    from grader.isolation.cgroups import Cgroup
    from grader.isolation.limits import rlimits

    probe = Cgroup.create(Limits().memory_bytes, Limits().processes)
    if probe is not None:
        probe.remove()
    assert f"nproc {rlimits(Limits(), probe)['RLIMIT_NPROC']}," in message
    assert "'disable_meta_optimizer': True" in message  # set in the zygote, as in a fresh worker
    assert subprocess.run(["ps", "-u", "65534", "-o", "pid="], capture_output=True, text=True).stdout.strip() == ""


def test_one_device_server_answers_several_slots_at_once(tmp_path):
    """The batch's single device server answers checks sent at once (each on its own socket, none
    mixed up) and keeps serving after a bad request; when it dies, a check still runs (in a checker
    of its own) and the pool starts a new server for the slots it shares."""
    import keras

    from grader.batch import runner as batch
    from grader.core.config import Limits
    from grader.device.client import DeviceChecker
    from grader.isolation import zygote as preload
    from solutions.next_letter import build_model

    model_path = tmp_path / "model.keras"
    build_model(4).save(model_path)
    x = np.eye(4, dtype=np.float32)[np.arange(12).reshape(3, 4) % 4]
    expected = keras.saving.load_model(model_path, compile=False)(x).numpy()
    server = preload.DeviceServer()
    try:
        def check(i):
            out = tmp_path / f"check-{i}"
            out.mkdir()
            np.save(out / "x.npy", x, allow_pickle=False)
            model = str(model_path) if i else str(tmp_path / "missing.keras")
            return out, preload.ask_device_server(server.handle(), {"model": model, "x": str(out / "x.npy"),
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

    pool = batch.SlotPool()
    try:
        first, second = pool.acquire(["--isolation", "off"]), pool.acquire(["--isolation", "off"])
        assert first is not second and first.device is second.device
        first.device.process.kill()
        first.device.process.wait()
        pool.release(first)
        again = pool.acquire(["--isolation", "off"])
        assert again is first and again.device is not second.device and again.device.process.poll() is None
    finally:
        pool.close()


def test_a_slot_whose_zygote_died_grades_without_it_and_is_replaced(root):
    """A zygote killed from outside (the OOM killer, say): the grading holding its slot starts fresh
    workers and scores as usual, and the pool lends the next grading a new slot; a slot that cannot
    be emptied is retired."""
    from grader.batch import runner as batch
    from grader.isolation import zygote as preload

    pool = batch.SlotPool()
    try:
        slot = pool.acquire([])
        slot.learner.zygotes[0].process.kill()
        slot.learner.zygotes[0].process.wait()
        graded = batch.grade_in_process(root / "solutions", "directory", ["--only", "forward"], 120, slot)
        assert graded["status"] == "graded", graded
        assert graded["report"]["score"] == graded["report"]["max_score"]
        pool.release(slot)
        again = pool.acquire([])
        assert again is not slot and again.alive() and slot not in pool.all
        with pytest.MonkeyPatch.context() as patch:  # a slot that cannot be emptied is retired
            patch.setattr(preload, "clear_slot", lambda zygote: (_ for _ in ()).throw(PermissionError(13, "locked")))
            again.clear()
        assert not again.alive()
    finally:
        pool.close()


def test_gradings_forked_by_the_grade_server_behave_like_grade(root, tmp_path):
    """The grade server forks each grading with the grader already imported: a forked grading prints,
    writes and exits as `grade` does (a usage error too); one past its budget is killed and ends
    without an exit status; a server that is stuck is stopped (the pool then starts a new one), and
    with the server gone a grading starts as a fresh process."""
    from grader.batch import grade_server as grade_fork
    from grader.batch import runner as batch
    from grader.isolation.processes import kill_group

    build(FIXTURES["infinite-loop"], tmp_path / "slow")
    server = grade_fork.GradeServer()
    try:
        args = [str(root / "solutions"), "--only", "forward", "--json", str(tmp_path / "forked.json"), "--quiet"]
        forked = batch.start_grade(args, None, server)
        assert isinstance(forked, grade_fork.ForkedGrade) and forked.pid != server.process.pid
        assert "Score: 25 / 25" in forked.communicate(60)[0] and forked.returncode == 0
        assert json.loads((tmp_path / "forked.json").read_text())["score"] == 25

        usage = batch.start_grade([str(tmp_path / "nowhere")], None, server)
        assert "nowhere does not exist" in usage.communicate(60)[0] and usage.returncode == 2

        hanging = batch.start_grade([str(tmp_path / "slow"), "--only", "forward", "--call-timeout", "100"], None,
                                    server)
        with pytest.raises(subprocess.TimeoutExpired):
            hanging.communicate(2)
        kill_group(hanging)
        started = time.monotonic()
        hanging.communicate()
        assert hanging.returncode is None and time.monotonic() - started < 5

        server.process.send_signal(signal.SIGSTOP)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(grade_fork, "START_S", 1.0)
            assert server.start(args, dict(os.environ), root, ()) is None
        assert server.process.wait(timeout=10) == -signal.SIGKILL
        fresh = batch.start_grade(args, None, server)
        assert isinstance(fresh, subprocess.Popen) and fresh.communicate(60) and fresh.returncode == 0
    finally:
        server.close()


def test_a_grader_error_on_one_submission_is_its_row_not_the_end_of_the_batch(root, monkeypatch):
    from grader.batch import runner as batch

    def broken(*args):
        raise PermissionError(13, "Permission denied", "trap")

    monkeypatch.setattr(batch, "grade_in_process", broken)
    row = batch.grade_submission(root / "solutions", "directory", [], 60, use_preload=False)
    assert row["status"] == "crash" and row["id"] == "solutions"
    assert row["reason"].startswith("grader error: PermissionError") and "trap" in row["reason"]


def test_remove_tree_deletes_what_a_worker_locked_and_follows_no_link():
    """A worker may chmod 000 its own directories (then shutil.rmtree fails for any user but root)
    and leave a link to a file outside. The tree still goes, removed as the worker's uid when we are
    root, and the file outside keeps its mode."""
    from grader.core.config import NOBODY
    from grader.isolation.processes import remove_tree

    base = Path(tempfile.mkdtemp())
    tree, outside = base / "tree", base / "outside.txt"
    (tree / "locked" / "inner").mkdir(parents=True)
    (tree / "locked" / "inner" / "file").write_text("x")
    outside.write_text("keep")
    outside.chmod(0o600)
    (tree / "locked" / "link").symlink_to(outside)
    if os.geteuid() == 0:
        for path in (base, outside, *tree.rglob("*"), tree):
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    for path in (tree / "locked" / "inner", tree / "locked"):
        path.chmod(0)
    pid = os.fork()
    if pid == 0:  # the child drops to the worker's uid, so the permissions apply as they would to a user
        try:
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            remove_tree(tree)
            os._exit(0)
        except BaseException:
            os._exit(1)
    try:
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        assert not tree.exists() and outside.stat().st_mode & 0o777 == 0o600
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_each_hash_seed_has_its_zygote_and_workers_keep_that_seed(tmp_path):
    """The alphabet check compares `set()` order across hash seeds: in a slot, the worker for each
    seed is forked from that seed's zygote, so `hash` differs between them as between interpreters."""
    from grader.core.config import HASH_SEEDS, Limits
    from grader.isolation import zygote as preload
    from grader.isolation.learner_module import LearnerModule
    from grader.isolation.sandbox import Bubblewrap

    src = tmp_path / "src"
    src.mkdir()
    (src / "encoding.py").write_text("import os\n\ndef build_alphabet(text):\n"
                                     "    return [hash(text), os.environ['PYTHONHASHSEED']]\n")
    limits = Limits()
    slot = preload.LearnerSlot(limits)
    modules = []
    try:
        handle = slot.handle()
        preload.fill_slot(handle, src)
        for seed in HASH_SEEDS:
            modules.append(LearnerModule(src, tmp_path / "work", "encoding", limits, seed, Bubblewrap(limits),
                                         preload.zygote_for(handle, seed)))
        seen = [module.invoke("build_alphabet", ("goodbye!",)) for module in modules]
        assert all(isinstance(module.process, preload.ForkedProcess) for module in modules)
        assert [seed for _, seed in seen] == [str(seed) for seed in HASH_SEEDS]
        assert len({value for value, _ in seen}) == len(HASH_SEEDS)
    finally:
        for module in modules:
            module.close()
        slot.close()
