"""`grade batch`: a class of varied submissions in one command, resumable, sharded, and on Dask.

The class is graded with `--only encoding forward` (no TensorFlow) to keep the suite fast; the
next-letter exercise goes through exactly the same path.
"""

import json
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import nbformat
import pytest

from grader.authoring.build import build_notebook, split_cells
from grader.authoring.selfcheck import build

FAST = ["--only", "encoding", "forward", "--call-timeout", "3"]


@pytest.fixture(scope="module")
def klass(tmp_path_factory, root, fixture_submissions):
    """Nine submissions: correct, partial, broken, hostile, zipped, a notebook, and two non-submissions."""
    base = tmp_path_factory.mktemp("class")
    subs = base / "submissions"
    subs.mkdir()
    for name, fixture in (("ada", None), ("bob", "transposed-weights"), ("cy", "syntax-error"),
                          ("dee", "exit-at-import"), ("eve", "infinite-loop"), ("fay", "stubs")):
        if fixture:
            build(fixture_submissions[fixture], subs / name)
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


@pytest.fixture(scope="module")
def batch(grade_cli):
    """`grade batch ARGS` on the fast exercises."""

    def run(*args, **kwargs):
        return grade_cli("batch", *args, *FAST, **kwargs)

    return run


@pytest.fixture(scope="module")
def graded(klass, batch):
    results = klass / "results"
    done = batch(klass / "submissions", "--out", results, "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    return results, done.stdout


def test_every_submission_gets_a_row_with_its_status_and_reason(graded, read_gradebook):
    rows = read_gradebook(graded[0])
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


def test_running_again_grades_nothing(graded, klass, batch):
    before = {p.name: p.stat().st_mtime_ns for p in graded[0].glob("*.json") if p.name != "summary.json"}
    done = batch(klass / "submissions", "--out", graded[0])
    assert "10 already graded, 0 to grade" in done.stdout
    after = {p.name: p.stat().st_mtime_ns for p in graded[0].glob("*.json") if p.name != "summary.json"}
    assert before == after


def test_a_changed_submission_is_regraded(graded, klass, batch, read_gradebook, tmp_path):
    subs = tmp_path / "subs"
    shutil.copytree(klass / "submissions", subs)
    results = tmp_path / "results"
    shutil.copytree(graded[0], results)
    forward = subs / "bob" / "forward.py"
    forward.write_text(forward.read_text().replace("W_hh.T + b", "W_hh + b"))
    done = batch(subs, "--out", results)
    assert "9 already graded, 1 to grade" in done.stdout
    assert read_gradebook(results)["bob"]["total"] == read_gradebook(results)["ada"]["total"]


def test_kill_midway_loses_nothing_and_regrades_only_the_rest(klass, root, batch, read_gradebook, tmp_path):
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
    done = batch(klass / "submissions", "--out", results)
    assert f"{len(kept)} already graded, {10 - len(kept)} to grade" in done.stdout
    assert set(read_gradebook(results)) == set(read_gradebook(klass / "results"))


def test_shards_merge_into_the_same_gradebook(graded, klass, batch, grade_cli, read_gradebook, tmp_path):
    for index in (1, 2):
        done = batch(klass / "submissions", "--out", tmp_path / f"shard{index}", "--shard", f"{index}/2")
        assert done.returncode == 0, done.stderr
    sizes = [len(read_gradebook(tmp_path / f"shard{i}")) for i in (1, 2)]
    assert sizes == [5, 5]
    merged = grade_cli("merge", tmp_path / "shard1", tmp_path / "shard2", "--out", tmp_path / "all")
    assert merged.returncode == 0, merged.stderr
    assert read_gradebook(tmp_path / "all") == read_gradebook(graded[0])


def test_dask_local_cluster_gives_the_same_gradebook(graded, klass, batch, read_gradebook, tmp_path):
    done = batch(klass / "submissions", "--out", tmp_path / "dask", "--dask", "local:2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert read_gradebook(tmp_path / "dask") == read_gradebook(graded[0])


def test_a_submission_over_its_budget_is_stopped(grade_cli, fixture_submissions, read_gradebook, tmp_path):
    subs = tmp_path / "subs"
    build(fixture_submissions["infinite-loop"], subs / "slow")
    started = time.monotonic()
    done = grade_cli("batch", subs, "--out", tmp_path / "r", "--budget", "3", "--only", "forward")
    assert done.returncode == 0, done.stderr
    row = read_gradebook(tmp_path / "r")["slow"]
    assert row["status"] == "timeout" and "budget of 3 s" in row["reason"]
    assert time.monotonic() - started < 30


def test_batch_refuses_per_submission_report_flags(batch, tmp_path):
    done = batch(tmp_path, "--out", tmp_path / "r", "--junit", tmp_path / "x.xml")
    assert done.returncode == 2 and "per submission" in done.stderr
