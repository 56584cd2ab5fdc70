"""A class of submissions: find them, shard them, key them by content, unpack them safely.

Each entry of the submissions directory is one learner's work: a directory, a `.zip` (unpacked by
`grading.archive.safe_extract`: no absolute or `..` paths, no links, a size cap) or a single `.ipynb` holding every
exercise. Each gets an id of its own (`distinct_ids`), which names its result (`RESULTS/<id>.json`) and
its gradebook row. A result is keyed by a hash of the submission's content and of everything that
decides its grade (suites, solutions, grader code, options), so a batch run again grades only what changed.
"""

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader.core.config import PACKAGE_DIR
from grader.core.course import exercises
from grader.core.errors import UsageError
from grader.grading.archive import safe_extract
from grader.grading.sources import present, unreadable

if TYPE_CHECKING:
    from hashlib import _Hash

# RESULTS/summary.json and summary.html are the class's: a learner's result must not take their name.
RESERVED_IDS = frozenset({"summary"})


@dataclass
class Submission:
    """One learner's work: `path` is a directory, a `.zip` or a notebook; `id` names its result."""

    id: str
    path: Path
    kind: str  # "directory", "zip", "notebook" or "other"
    key: str = ""
    note: str = ""  # why `id` is not the entry's usual one (see `distinct_ids`); its row's reason starts with it


@dataclass
class BatchOptions:
    """What decides a grade besides the submission (part of every result's key), and how to run."""

    grade_args: list[str] = field(default_factory=list)
    budget_s: float = 900.0
    jobs: int = 1
    preload: bool = True  # not part of the key: it changes the speed, never the grade


def sanitise(name: str) -> str:
    """`name` as a file name on any system: every character but letters, digits, `_`, `.`, `-` becomes `_`."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "unnamed"


def submission_id(path: Path) -> str:
    """An entry's usual id: its sanitised name, without `.zip` or `.ipynb` for a file."""
    return sanitise(path.name if path.is_dir() else path.stem)


def kind_of(path: Path) -> str:
    if path.is_dir():
        return "directory"
    # Only a regular file is a zip or a notebook: a pipe or a link to nothing named .zip would hang or
    # fail the read that keys it.
    if path.is_file() and path.suffix in (".zip", ".ipynb"):
        return "zip" if path.suffix == ".zip" else "notebook"
    return "other"


def discover(root: str | Path) -> list[Submission]:
    """Every entry of `root` as a Submission, sorted by id; anything else is kind "other"."""
    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"{root} is not a directory of submissions (one sub-directory, .zip or .ipynb each)")
    if unreadable(root):
        raise UsageError(unreadable(root))
    return distinct_ids([path for path in root.iterdir() if not path.name.startswith(".")])


def distinct_ids(paths: list[Path]) -> list[Submission]:
    """A Submission per entry, sorted by id, no two with one id (one would overwrite the other's result).

    An entry keeps its usual id (`submission_id`) unless another entry's is the same, or it is reserved;
    then each of those entries takes its whole sanitised name (`alice/` is alice, `alice.zip` is
    alice.zip), numbered where even that is taken (`alice_bob/` is alice_bob, `alice bob/` alice_bob-2),
    and its `note` says so. Ids are compared ignoring case: `Alice/` and `alice/` would write one result
    file on a case-insensitive disk (macOS, Windows, a USB stick). The ids follow from the entries' names
    alone, so every shard agrees.
    """
    groups: dict[str, list[Path]] = {}
    for path in sorted(paths):
        groups.setdefault(submission_id(path).lower(), []).append(path)
    clashing = {key for key, group in groups.items() if len(group) > 1 or key in RESERVED_IDS}
    taken = (set(groups) - clashing) | RESERVED_IDS
    found = []
    for key, group in groups.items():
        if key not in clashing:
            found.append(Submission(submission_id(group[0]), group[0], kind_of(group[0])))
            continue
        usual = submission_id(group[0])
        why = (f"the entries {', '.join(map(entry_name, group))} would all have the id {usual}"
               f"{'' if len({submission_id(p) for p in group}) == 1 else ' (ignoring case)'}" if len(group) > 1
               else f"the id {usual} is the class summary's (RESULTS/{key}.json)")
        # An entry whose name is an id as it is keeps it before one whose name had to be sanitised.
        for path in sorted(group, key=lambda p: (sanitise(p.name) != p.name, p.name)):
            unique = unused(sanitise(path.name), taken)
            taken.add(unique.lower())
            found.append(Submission(unique, path, kind_of(path), note=f"{why}: this entry's id is {unique}"))
    return sorted(found, key=lambda s: s.id)


def entry_name(path: Path) -> str:
    return f"{path.name}/" if path.is_dir() else path.name


def unused(wanted: str, taken: set[str]) -> str:
    """`wanted`, or the first of wanted-2, wanted-3, ... that is not `taken` (lower-case ids)."""
    number = 2
    candidate = wanted
    while candidate.lower() in taken:
        candidate, number = f"{wanted}-{number}", number + 1
    return candidate


def id_warning(submissions: list[Submission]) -> str:
    """One line naming every entry whose id is not its usual one and the id it got; "" if there is none."""
    renamed = [s for s in submissions if s.note]
    if not renamed:
        return ""
    return ("warning: entries whose names would share an id (or take the class summary's) got one each: "
            + ", ".join(f"{entry_name(s.path)} -> {s.id}" for s in renamed)
            + "; their gradebook rows say so (rename an entry to choose its id)")


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
    # The note is part of the row: an entry whose id clash appears or goes is graded again, so its row
    # says so. An empty note leaves every other key as it was.
    digest = hashlib.sha256(grading.encode() + submission.note.encode())
    try:
        if submission.path.is_dir():
            hash_tree(digest, submission.path)
        elif submission.path.is_file():  # a pipe would hang the read, a link to nothing fail it
            digest.update(submission.path.read_bytes())
    except OSError:  # what cannot be read cannot be known unchanged: graded again, and its row says why
        return f"unreadable-{os.urandom(8).hex()}"
    return digest.hexdigest()[:32]


def unpack(submission: Submission, into: Path) -> Path:
    """Return a directory `grade` can grade for `submission`, or raise ValueError saying why not."""
    if submission.path.exists() and unreadable(submission.path):
        raise ValueError(f"not a submission: {unreadable(submission.path)}")
    if submission.kind == "directory":
        return submission.path
    if submission.kind == "notebook":
        # One notebook holding every exercise: the same source stands for each module.
        for exercise in exercises():
            shutil.copyfile(submission.path, into / f"{exercise}.ipynb")
        return into
    if submission.kind == "zip":
        return safe_extract(submission.path, into)
    if submission.path.suffix in (".zip", ".ipynb"):
        raise ValueError(f"not a submission: {submission.path.name} is not a regular file (a pipe, a device or a "
                         f"link to nothing): put the {submission.path.suffix} file itself in the submissions directory")
    raise ValueError(f"not a submission: {submission.path.name} is neither a directory, a .zip nor an .ipynb")
