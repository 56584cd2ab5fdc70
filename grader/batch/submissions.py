"""A class of submissions: find them, shard them, key them by content, unpack them safely.

Each entry of the submissions directory is one learner's work: a directory, a `.zip` (unpacked by
`grading.archive.safe_extract`: no absolute or `..` paths, no links, a size cap) or a single `.ipynb` holding every
exercise. A result is keyed by a hash of the submission's content and of everything that decides
its grade (suites, solutions, grader code, options), so a batch run again grades only what changed.
"""

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader.core.config import EXERCISES, PACKAGE_DIR
from grader.core.errors import UsageError
from grader.grading.archive import safe_extract
from grader.grading.sources import present

if TYPE_CHECKING:
    from hashlib import _Hash



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

    grade_args: list[str] = field(default_factory=list)
    budget_s: float = 900.0
    jobs: int = 1
    preload: bool = True  # not part of the key: it changes the speed, never the grade


def submission_id(path: Path) -> str:
    stem = path.name if path.is_dir() else path.stem
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem) or "unnamed"


def discover(root: str | Path) -> list[Submission]:
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


def shard(submissions: list[Submission], spec: str | None) -> list[Submission]:
    """Keep shard I of N ("I/N", 1-based): every N-th submission in id order, for CI matrices."""
    if not spec:
        return submissions
    match = re.fullmatch(r"(\d+)/(\d+)", spec)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise UsageError(f"--shard {spec}: expected I/N with 1 <= I <= N, e.g. --shard 2/4")
    index, count = int(match[1]), int(match[2])
    return [s for i, s in enumerate(submissions) if i % count == index - 1]


def hash_tree(digest: "_Hash", path: Path) -> None:
    """Add every file under `path` to `digest`; a link adds where it points, never what it points at."""
    for file in sorted(p for p in Path(path).rglob("*") if present(p) and "__pycache__" not in p.parts):
        content = b"link to " + os.readlink(file).encode() if file.is_symlink() else file.read_bytes()
        digest.update(str(file.relative_to(path)).encode() + b"\0" + content + b"\0")


def grading_key(options: BatchOptions) -> str:
    """A hash of everything besides the submission that decides its grade."""
    digest = hashlib.sha256(json.dumps(options.grade_args).encode())
    hash_tree(digest, PACKAGE_DIR)
    if (PACKAGE_DIR.parent / "solutions").is_dir():
        hash_tree(digest, PACKAGE_DIR.parent / "solutions")
    return digest.hexdigest()


def content_key(submission: Submission, grading: str) -> str:
    digest = hashlib.sha256(grading.encode())
    if submission.path.is_dir():
        hash_tree(digest, submission.path)
    else:
        digest.update(submission.path.read_bytes())
    return digest.hexdigest()[:32]


def unpack(submission: Submission, into: Path) -> Path:
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
