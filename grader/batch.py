"""`grade batch`: grade a whole class, resumably, on this machine or on a Dask cluster.

    discover -> shard -> skip what is already graded -> grade (pool or Dask) -> gradebook + summary

Each submission (a sub-directory, a `.zip`, or an `.ipynb` holding every exercise) is graded exactly
as `grade` grades it, in a `grade` process of its own (forked from the batch's grade server,
grade_fork.py, or started afresh), with a time budget. Its result is
written atomically to `RESULTS/<id>.json` as soon as it is known, keyed by a hash of the
submission's content and of everything that decides its grade (suites, solutions, grader code,
options): running the same command again grades only what is missing or changed.
"""

import atexit
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from grader import formats, grade_fork, preload
from grader.exercise_builder import EXERCISES
from grader.sandbox import Limits, kill_group
from grader.sources import UsageError, present

GRADER_DIR = Path(__file__).resolve().parent
MAX_ZIP_BYTES = 64 << 20
MAX_ZIP_MEMBERS = 2000
RUNNING = set()  # grade processes in flight, so an interrupted batch can stop them


def kill_running():
    for process in list(RUNNING):
        kill_group(process)


@dataclass
class Submission:
    """One learner's work: `path` is a directory, a `.zip` or a notebook; `id` names its result."""

    id: str
    path: Path
    kind: str  # "directory", "zip", "notebook" or "other"
    key: str = ""


@dataclass
class BatchOptions:
    """What decides a grade besides the submission (part of every result's key), and how to run."""

    grade_args: list = field(default_factory=list)
    budget_s: float = 900.0
    jobs: int = 1
    preload: bool = True  # not part of the key: it changes the speed, never the grade


def submission_id(path):
    stem = path.name if path.is_dir() else path.stem
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem) or "unnamed"


def discover(root):
    """Every entry of `root` as a Submission, sorted by id; anything else is kind "other"."""
    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"{root} is not a directory of submissions (one sub-directory, .zip or .ipynb each)")
    found = []
    for path in sorted(root.iterdir()):
        if path.name.startswith("."):
            continue
        kind = ("directory" if path.is_dir() else "zip" if path.suffix == ".zip"
                else "notebook" if path.suffix == ".ipynb" else "other")
        found.append(Submission(submission_id(path), path, kind))
    return found


def shard(submissions, spec):
    """Keep shard I of N ("I/N", 1-based): every N-th submission in id order, for CI matrices."""
    if not spec:
        return submissions
    match = re.fullmatch(r"(\d+)/(\d+)", spec)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise UsageError(f"--shard {spec}: expected I/N with 1 <= I <= N, e.g. --shard 2/4")
    index, count = int(match[1]), int(match[2])
    return [s for i, s in enumerate(submissions) if i % count == index - 1]


def hash_tree(digest, path):
    """Add every file under `path` to `digest`; a link adds where it points, never what it points at."""
    for file in sorted(p for p in Path(path).rglob("*") if present(p) and "__pycache__" not in p.parts):
        content = b"link to " + os.readlink(file).encode() if file.is_symlink() else file.read_bytes()
        digest.update(str(file.relative_to(path)).encode() + b"\0" + content + b"\0")


def grading_key(options):
    """A hash of everything besides the submission that decides its grade."""
    digest = hashlib.sha256(json.dumps(options.grade_args).encode())
    hash_tree(digest, GRADER_DIR)
    if (GRADER_DIR.parent / "solutions").is_dir():
        hash_tree(digest, GRADER_DIR.parent / "solutions")
    return digest.hexdigest()


def content_key(submission, grading):
    digest = hashlib.sha256(grading.encode())
    if submission.path.is_dir():
        hash_tree(digest, submission.path)
    else:
        digest.update(submission.path.read_bytes())
    return digest.hexdigest()[:32]


def unpack(submission, into):
    """Return a directory `grade` can grade for `submission`, or raise ValueError saying why not."""
    if submission.kind == "directory":
        return submission.path
    if submission.kind == "notebook":
        # One notebook holding every exercise: the same source stands for each module.
        for exercise in EXERCISES:
            shutil.copyfile(submission.path, into / f"{exercise}.ipynb")
        return into
    if submission.kind == "zip":
        return safe_extract(submission.path, into)
    raise ValueError(f"not a submission: {submission.path.name} is neither a directory, a .zip nor an .ipynb")


def safe_extract(archive, into):
    """Extract a zip refusing absolute or `..` paths, links, and more than MAX_ZIP_BYTES in all."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise ValueError(f"{archive.name} is too large to grade (over {MAX_ZIP_BYTES >> 20} MiB unpacked)")
            for member in members:
                target = (into / member.filename).resolve()
                if not target.is_relative_to(into.resolve()) or (member.external_attr >> 28) == 0o12:
                    raise ValueError(f"{archive.name} holds an unsafe path or link: {member.filename}")
            bundle.extractall(into)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{archive.name} is not a valid zip file ({exc})") from None
    entries = [p for p in into.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    # A zip of a folder holds that folder: grade what is inside it.
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else into


def reason_of(report):
    """A short reason for the gradebook: what the first check that errored says (a syntax error, a
    time limit, a missing file), or nothing when every check ran."""
    errors = [t for t in report["tests"] if t["status"] == "error"]
    return f"{errors[0]['exercise']}: {errors[0]['message'][:160]}" if errors else ""


class SlotPool:
    """This process's preloaded TensorFlow (preload.py): one learner slot per submission being graded at
    once, and the servers they share: the device server and the grade server (grade_fork.py)."""

    def __init__(self):
        self.idle, self.all, self.lock = [], [], threading.Lock()
        self.device = self.grader = None

    def acquire(self, grade_args):
        """An idle slot, a new one, or None if TensorFlow cannot be preloaded here (then: grade without)."""
        try:
            with self.lock:
                # A server that died is started again: without it, every grading would pay its imports.
                self.device = device = running(self.device, preload.DeviceServer)
                self.grader = running(self.grader, grade_fork.GradeServer)
                while self.idle:
                    slot = self.idle.pop()
                    if slot.alive():
                        slot.device = device
                        return slot
                    self.all.remove(slot)  # its zygote died (out of memory, say): start a new slot
                    slot.close()
            slot = preload.Slot(Limits(), device, learner="off" not in grade_args)
        except (OSError, RuntimeError):
            return None
        with self.lock:
            self.all.append(slot)
        return slot

    def release(self, slot):
        with self.lock:
            self.idle.append(slot)

    def close(self):
        with self.lock:
            for slot in self.all:
                slot.close()
            for server in (self.device, self.grader):
                if server is not None:
                    server.close()
            self.idle, self.all, self.device, self.grader = [], [], None, None


def running(server, start):
    """`server`, or a new one from `start()` if there is none or it has died."""
    if server is not None and server.process.poll() is not None:
        server.close()
        server = None
    return server or start()


SLOTS = SlotPool()
atexit.register(SLOTS.close)


def grade_submission(path, kind, grade_args, budget_s, use_preload=True):
    """Grade one submission in a fresh `grade` process; return a JSON-ready result (never raises).

    With `use_preload`, the grade process borrows one of this process's slots, whose TensorFlow is
    already imported. Importable on Dask workers: it needs only the submission's path on a shared
    filesystem.
    """
    started = time.monotonic()
    try:
        if not use_preload:
            return grade_in_process(path, kind, grade_args, budget_s, None)
        slot = SLOTS.acquire(grade_args)
        try:
            return grade_in_process(path, kind, grade_args, budget_s, slot, SLOTS.grader if slot else None)
        finally:
            if slot:
                SLOTS.release(slot)
    except Exception as exc:  # a grader bug met on one submission must not stop the rest of the class
        return result(Submission(submission_id(Path(path)), Path(path), kind), "crash",
                      f"grader error: {type(exc).__name__}: {str(exc)[:200]} (please report it)", None, started)


def grade_in_process(path, kind, grade_args, budget_s, slot, grader=None):
    started = time.monotonic()
    submission = Submission(submission_id(Path(path)), Path(path), kind)
    with tempfile.TemporaryDirectory(prefix="batch-") as tmp:
        unpacked = Path(tmp) / "unpacked"
        unpacked.mkdir()
        try:
            target = unpack(submission, unpacked)
        except ValueError as exc:
            return result(submission, "not a submission", str(exc), None, started)
        report_path = Path(tmp) / "report.json"
        process = start_grade([str(target), "--json", str(report_path), "--quiet", *grade_args], slot, grader)
        RUNNING.add(process)
        try:
            output, _ = process.communicate(timeout=budget_s)
        except subprocess.TimeoutExpired:
            kill_group(process)
            process.communicate()
            return result(submission, "timeout", f"grading took longer than its budget of {budget_s:g} s",
                          None, started)
        finally:
            RUNNING.discard(process)
            if slot:
                slot.clear()  # nothing of this submission outlives it, killed or not
        if process.returncode not in (0, 1) or not report_path.exists():
            ended = "ended without an exit status" if process.returncode is None else f"exited {process.returncode}"
            return result(submission, "crash", f"grade {ended}: {output.strip()[-300:]}", None, started)
        report = json.loads(report_path.read_text())
        return result(submission, "graded", reason_of(report), report, started)


def start_grade(args, slot, grader):
    """`grade ARGS` in a session of its own, with the slot's preloaded processes: forked by the grade
    server if there is one (the grader's imports are paid once per batch), else a fresh
    `python -m grader.cli`. Either has `pid`, `communicate(timeout)` and `returncode`."""
    env, fds = ({**os.environ, **slot.environment()}, slot.fds()) if slot else (dict(os.environ), ())
    forked = grader.start(args, env, GRADER_DIR.parent, fds) if grader else None
    return forked or subprocess.Popen(
        [sys.executable, "-m", "grader.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, cwd=GRADER_DIR.parent, preexec_fn=preload.die_with_parent, env=env, pass_fds=fds)


def result(submission, status, reason, report, started):
    return {"id": submission.id, "submission": str(submission.path), "status": status, "reason": reason,
            "duration_s": round(time.monotonic() - started, 3), "report": report}


def write_result(results_dir, data):
    """Write one result atomically: a crash or kill -9 leaves the old file or the new one, never half."""
    formats.write(json.dumps(data, indent=1) + "\n", Path(results_dir) / f"{data['id']}.json")


def load_results(results_dir):
    """Every result in `results_dir`, by id (unreadable files are ignored: they get regraded)."""
    results = {}
    for path in sorted(Path(results_dir).glob("*.json")):
        if path.name in ("summary.json",):
            continue
        try:
            data = json.loads(path.read_text())
            results[data["id"]] = data
        except (OSError, ValueError, KeyError):
            continue
    return results
