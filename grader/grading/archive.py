"""Unpack a submitted `.zip` without trusting it: `grade SUBMISSION.zip` and every zip of a batch.

No absolute or `..` paths, no links, at most MAX_ZIP_MEMBERS members and MAX_ZIP_BYTES unpacked; a
zip of one folder is graded from inside that folder.
"""

import zipfile
from pathlib import Path

MAX_ZIP_BYTES = 64 << 20
MAX_ZIP_MEMBERS = 2000


def safe_extract(archive: Path, into: Path) -> Path:
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
