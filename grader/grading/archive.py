"""Unpack a submitted `.zip` without trusting it: `grade SUBMISSION.zip` and every zip of a batch.

No absolute or `..` paths, no links, no password, no file and folder of one name, at most
MAX_ZIP_MEMBERS members and MAX_ZIP_BYTES unpacked; a zip of one folder is graded from inside that
folder. Whatever is wrong with a zip is a ValueError naming the zip, the member and the fix: the
learner's to mend (a batch row `not a submission`), never a grader error.
"""

import errno
import zipfile
import zlib
from pathlib import Path

MAX_ZIP_BYTES = 64 << 20
MAX_ZIP_MEMBERS = 2000
ENCRYPTED = 0x1  # bit 0 of a member's general purpose flags


def safe_extract(archive: Path, into: Path) -> Path:
    """Extract a zip refusing what `check_members` refuses; return the directory to grade."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            check_members(archive.name, members, into)
            for member in members:
                extract_member(bundle, member, archive.name, into)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{archive.name} is not a valid zip file ({exc})") from None
    entries = [p for p in into.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    # A zip of a folder holds that folder: grade what is inside it.
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else into


def check_members(name: str, members: list[zipfile.ZipInfo], into: Path) -> None:
    """Raise ValueError, before anything is written, if the zip `name` is too large, or holds an unsafe
    path, a link, a password-protected member, or a file and a folder of one name."""
    if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
        raise ValueError(f"{name} is too large to grade (over {MAX_ZIP_BYTES >> 20} MiB unpacked)")
    for member in members:
        target = (into / member.filename).resolve()
        if not target.is_relative_to(into.resolve()) or (member.external_attr >> 28) == 0o12:
            raise ValueError(f"{name} holds an unsafe path or link: {member.filename}")
        if member.flag_bits & ENCRYPTED:
            raise ValueError(f"{name} holds a password-protected file, {member.filename}: zip your files again "
                             "without a password")
    clash = file_and_folder(members)
    if clash:
        raise ValueError(f"{name} holds both a file and a folder named {clash}: keep one of them and zip again")


def file_and_folder(members: list[zipfile.ZipInfo]) -> str | None:
    """The first path that the zip holds both as a file and as a folder (one a file's parent), or None."""
    files: set[tuple[str, ...]] = set()
    folders: set[tuple[str, ...]] = set()
    for member in members:
        # The parts zipfile itself writes: it drops empty, "." and ".." parts.
        parts = tuple(p for p in member.filename.split("/") if p not in ("", ".", ".."))
        (folders if member.is_dir() else files).add(parts)
        folders.update(parts[:end] for end in range(1, len(parts)))
    clashes = sorted(files & folders)
    return "/".join(clashes[0]) if clashes else None


def extract_member(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, into: Path) -> None:
    """Extract one member; what the learner's zip gets wrong becomes a ValueError naming the member."""
    try:
        bundle.extract(member, into)
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG:
            raise  # the grader's disk, not the learner's zip: a grader error
        shown = member.filename if len(member.filename) <= 80 else member.filename[:80] + "..."
        raise ValueError(f"{name} holds a file whose name is too long to unpack ({len(member.filename.encode())} "
                         f"bytes): {shown}; give it a shorter name and zip again") from None
    except (NotImplementedError, zlib.error, EOFError) as exc:
        raise ValueError(f"{name}: its member {member.filename} cannot be unpacked ({exc}); zip your files "
                         "again with a standard zip tool") from None
