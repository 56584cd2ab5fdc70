"""`grade submit [PATH] --out FILE.zip`: pack exactly what will be graded, then grade the pack.

The zip holds, at its top level (no enclosing folder), the file graded for each exercise (the
`.ipynb` itself where the notebook is what is graded, chosen by `sources.locate` as `grade` chooses)
and the helper modules and packages that `sources.prepare` would copy (`sources.list_helpers`: the
same rules, caps and links left out). An exercise file that is a link or over the size cap is refused
(exit 2). The pack is then graded as `grade FILE.zip` grades it, with the public checks only, and
what it holds, its public score and where it lies are printed. Gradescope, an LMS and `grade batch`
take that zip.

Exit status: 0 packed and graded; 1 packed but the pack could not be graded; 2 nothing packed.
"""

import argparse
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.core.course import exercises
from grader.core.errors import UsageError
from grader.core.exits import EXIT_BELOW, EXIT_OK
from grader.grading import sources as sources_mod
from grader.grading.pipeline import Job, grade
from grader.reports import report as report_mod


@dataclass(frozen=True)
class Member:
    """One file of the pack: where it lies, its name in the zip, and why it is in."""

    path: Path
    name: str
    why: str


def submit_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade submit", description="Pack what will be graded into one zip (to upload to Gradescope or "
                                         "your LMS), then grade the pack with the public checks.")
    parser.add_argument("path", nargs="?", default="exercises",
                        help="your exercise directory, or one exercise file to submit that one rather than "
                             "its .py/.ipynb twin; default: exercises/")
    parser.add_argument("--out", default="submission.zip", metavar="FILE.zip",
                        help="the zip to write (default: submission.zip)")
    parser.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    parser.add_argument("--only", nargs="+", choices=exercises(), metavar="EXERCISE",
                        help="check only these exercises after packing (the pack holds them all)")
    parser.add_argument("--json", metavar="FILE", help="write the pack's public report as JSON")
    return parser


def size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.1f} MiB"


def pack_members(path: Path) -> tuple[list[Member], list[tuple[Path, str]], list[str]]:
    """(members, left out as (file, why), missing exercises) of the submission at `path`.

    Raises UsageError naming each exercise file that cannot be packed, and the fix.
    """
    if path.suffix == ".zip" and path.is_file():
        raise UsageError(f"{path} is already a zip: give the directory that holds your exercise files")
    found, _ = sources_mod.locate(path)
    sources_mod.require_exercise_files(path, found)
    chosen = [source for source in found if source.path is not None]
    refused = []
    for source in chosen:
        assert source.path is not None
        if source.path.is_symlink():
            refused.append(f"{source.path} is a symbolic link: the grader reads only the files in the submission "
                           f"itself; replace it by the file it points at (cp --remove-destination "
                           f"\"$(readlink -f {source.path})\" {source.path})")
        elif not source.path.is_file():
            refused.append(f"{source.path} is not a regular file: replace it by your {source.exercise} file")
        elif source.path.stat().st_size > sources_mod.MAX_SOURCE_BYTES:
            refused.append(f"{source.path} is {size(source.path.stat().st_size)}, over the grader's cap of "
                           f"{size(sources_mod.MAX_SOURCE_BYTES)}: clear the notebook's outputs, or remove what "
                           "is not your code")
    if refused:
        raise UsageError("nothing was packed:\n  " + "\n  ".join(refused))
    members = [Member(s.path, s.path.name, f"{s.exercise}: {s.reason}") for s in chosen if s.path is not None]
    left_out: list[tuple[Path, str]] = []
    for source in chosen:  # the twin not graded (forward.py beside the forward.ipynb that is)
        assert source.path is not None
        for twin in (source.path.with_suffix(".py"), source.path.with_suffix(".ipynb")):
            if twin != source.path and sources_mod.present(twin):
                left_out.append((twin, f"not packed: {source.path.name} is the {source.exercise} file graded"))
    budget = sources_mod.HelperBudget()
    for directory in sources_mod.helper_directories(chosen):
        for helper in sources_mod.list_helpers(directory, budget):
            if helper.left_out is None:
                package = helper.relative.parts[0] if len(helper.relative.parts) > 1 else None
                why = f"in your package {package}/" if package else "a helper module the exercises may import"
                members.append(Member(helper.path, helper.relative.as_posix(), why))
            else:
                left_out.append((helper.path, helper.left_out))
    missing = [s.exercise for s in found if s.path is None]
    return members, left_out, missing


def write_zip(members: list[Member], out: Path) -> None:
    """Write the pack at `out` (through a temporary file, so a half-written zip is never left there)."""
    partial = out.with_name(f".{out.name}.partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for member in members:
                info = zipfile.ZipInfo.from_file(member.path, member.name, strict_timestamps=False)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                bundle.writestr(info, member.path.read_bytes())
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def main(argv: list[str], console: Console) -> int:
    args = submit_parser().parse_args(argv)
    path, out = Path(args.path), Path(args.out)
    if out.suffix != ".zip":
        raise UsageError(f"--out {out}: give a file name ending in .zip")
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory: give a file name ending in .zip")
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists: give another --out, or add --force to overwrite it")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: the directory {out.parent} does not exist")
    members, left_out, missing = pack_members(path)
    write_zip(members, out)

    table = Table(title=f"{out} holds (at its top level)", title_justify="left")
    for column in ("file", "size", "why it is in"):
        table.add_column(column, overflow="fold")
    for member in members:
        table.add_row(escape(member.name), size(member.path.stat().st_size), escape(member.why))
    console.print(table)
    for file, why in left_out:
        console.print(f"Left out: {escape(str(file))}: {escape(why)}", highlight=False)
    for exercise in missing:
        console.print(f"[magenta]Missing: no {exercise}.py or {exercise}.ipynb in {escape(str(path))}: that "
                      "exercise scores 0[/magenta]", highlight=False)

    console.print("Grading the pack with the public checks...")
    try:
        report = grade(Job(out, only=args.only, public_only=True))
        report_mod.validate(report)
        if args.json:
            report_mod.write_json(report, args.json)
    except Exception as exc:  # the zip is written: say why it could not be graded
        console.print(f"[red]The pack could not be graded ({type(exc).__name__}: {escape(str(exc))}); "
                      f"{escape(str(out))} was written, but check it before you upload it.[/red]", highlight=False)
        return EXIT_BELOW
    for exercise in report["exercises"]:
        console.print(f"  {exercise['name']}: {exercise['score']:g} / {exercise['max_score']:g}"
                      f"  ({escape(Path(exercise['file']).name if exercise['file'] else '-')})", highlight=False)
    console.print(f"[bold]Public score of the pack: {report['score']:g} / {report['max_score']:g}[/bold]")
    if report["internal_errors"]:
        console.print(f"[magenta]{report['internal_errors']} check(s) hit a grader error: the score may be "
                      "wrong. Please report it.[/magenta]")
        return EXIT_BELOW
    if report["score"] < report["max_score"]:
        console.print(f"For what to fix, run `grade {escape(str(path))}`.", highlight=False)
    console.print(f"Submission: [bold]{escape(str(out.resolve()))}[/bold] (upload this file to Gradescope or "
                  "your course's site)", highlight=False)
    return EXIT_OK
