"""The `grade` command.

    grade [PATH] [--only EXERCISE ...] [--json FILE] [--fail-under PERCENT]   grade a submission
    grade build                                                             regenerate exercises/
    grade release OUTDIR [--force] [--no-validate]                          build the learner release
    grade selfcheck                                                         mutation check of the suites
    grade merge-lms GRADEBOOK CANVAS --assignment NAME --out FILE           fill a Canvas export
    grade batch SUBMISSIONS --out RESULTS [--jobs N] [--dask ADDR] [--shard I/N]  grade a class
    grade merge RESULTS... --out RESULTS                                    merge shards

Exit status: 0 graded; 1 graded but below --fail-under; 2 usage error; 3 grader error.
"""

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from grader import formats
from grader import report as report_mod
from grader.exercise_builder import EXERCISES
from grader.formats import gradescope
from grader.pipeline import GraderError, Job, grade
from grader.sandbox import Limits
from grader.sources import UsageError

EXIT_OK, EXIT_BELOW, EXIT_USAGE, EXIT_GRADER = 0, 1, 2, 3
COMMANDS = ("build", "release", "selfcheck", "merge-lms", "batch", "merge")


def grade_parser():
    parser = argparse.ArgumentParser(
        prog="grade", description="Grade RNN exercises. Other commands: grade build | release | selfcheck.")
    parser.add_argument("path", nargs="?", default="exercises",
                        help="submission directory or one exercise file (.py or .ipynb); default: exercises/")
    parser.add_argument("--only", nargs="+", choices=EXERCISES, metavar="EXERCISE",
                        help=f"grade only these exercises ({', '.join(EXERCISES)})")
    parser.add_argument("--json", metavar="FILE", help="write the report as JSON (see grader/report.schema.json)")
    parser.add_argument("--gradescope", metavar="FILE", help="write Gradescope's results.json (also on failure)")
    parser.add_argument("--junit", metavar="FILE", help="write JUnit XML (file and line per check)")
    parser.add_argument("--markdown", metavar="FILE", help="write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)")
    parser.add_argument("--html", metavar="FILE", help="write a self-contained HTML feedback page")
    parser.add_argument("--csv", metavar="FILE", help="write a gradebook row (see grade merge-lms)")
    parser.add_argument("--fail-under", type=float, metavar="PERCENT",
                        help="exit with status 1 if the score is below PERCENT of the maximum")
    parser.add_argument("--seed", type=int, default=0, help="seed for the checks' random inputs (default 0)")
    parser.add_argument("--call-timeout", type=float, default=Limits.call_s, metavar="S",
                        help=f"time limit for one call into your code (default {Limits.call_s:g} s)")
    parser.add_argument("--import-timeout", type=float, default=Limits.import_s, metavar="S",
                        help=f"time limit for importing one of your modules (default {Limits.import_s:g} s)")
    parser.add_argument("--train-timeout", type=float, default=Limits.train_s, metavar="S",
                        help=f"time limit for one training call (default {Limits.train_s:g} s)")
    parser.add_argument("--isolation", choices=("auto", "strict", "off"), default="auto",
                        help="strict: refuse to grade without the bubblewrap sandbox (use in CI); auto: the "
                             "sandbox where it works, else a plain process; off: a plain process")
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_bytes >> 20, metavar="MB",
                        help=f"memory limit per worker (default {Limits.memory_bytes >> 20} MiB)")
    parser.add_argument("--max-processes", type=int, default=Limits.processes, metavar="N",
                        help=f"processes and threads per worker (default {Limits.processes})")
    parser.add_argument("--cpu-seconds", type=int, default=Limits.cpu_s, metavar="S",
                        help=f"CPU time per worker (default {Limits.cpu_s} s)")
    parser.add_argument("--max-file-mb", type=int, default=Limits.file_bytes >> 20, metavar="MB",
                        help=f"largest file or printed output per worker (default {Limits.file_bytes >> 20} MiB)")
    parser.add_argument("--max-open-files", type=int, default=Limits.open_files, metavar="N",
                        help=f"open files per worker (default {Limits.open_files})")
    parser.add_argument("--quiet", action="store_true", help="print only the total")
    return parser


def run_grade(argv, console):
    args = grade_parser().parse_args(argv)
    limits = Limits(call_s=args.call_timeout, import_s=args.import_timeout, train_s=args.train_timeout,
                    memory_bytes=args.memory_mb << 20, processes=args.max_processes, cpu_s=args.cpu_seconds,
                    file_bytes=args.max_file_mb << 20, open_files=args.max_open_files)
    job = Job(Path(args.path), only=args.only, seed=args.seed, limits=limits, isolation=args.isolation)
    try:
        report = grade(job)
        report_mod.validate(report)
    except Exception as exc:
        if args.gradescope:  # Gradescope must always get a results.json, also when grading fails
            formats.write(json.dumps(gradescope.failure(str(exc)), indent=2), args.gradescope)
        raise
    if args.json:
        report_mod.write_json(report, args.json)
    for name, render in formats.RENDERERS.items():
        if getattr(args, name):
            formats.write(render(report), getattr(args, name))
    if args.quiet:
        console.print(f"Score: {report['score']:g} / {report['max_score']:g}")
    else:
        report_mod.render(report, console)
    if report["internal_errors"]:
        console.print(f"[magenta]{report['internal_errors']} check(s) hit a grader error; the score may be "
                      "wrong. Please report it with the JSON report.[/magenta]")
        return EXIT_GRADER
    if args.fail_under is not None and report["score"] < args.fail_under / 100 * report["max_score"]:
        return EXIT_BELOW
    return EXIT_OK


def run_build(argv, console):
    from grader.exercise_builder import build_all

    parser = argparse.ArgumentParser(prog="grade build", description="Regenerate exercises/ from solutions/.")
    parser.add_argument("--solutions", default="solutions")
    parser.add_argument("--out", default="exercises")
    args = parser.parse_args(argv)
    if not Path(args.solutions).is_dir():
        raise UsageError(f"{args.solutions}/ not found: run grade build from the instructor's repository")
    for path in build_all(Path(args.solutions), Path(args.out)):
        console.print(f"wrote {path}")
    return EXIT_OK


def run_release(argv, console):
    from grader.release import release_parser
    from grader.release import run_release as release

    return release(release_parser().parse_args(argv), console)


def run_selfcheck(argv, console):
    from grader.selfcheck import run_selfcheck as selfcheck
    from grader.selfcheck import selfcheck_parser

    return selfcheck(selfcheck_parser().parse_args(argv), console)


def run_batch(argv, console):
    from grader.batch_run import batch_parser
    from grader.batch_run import run_batch as batch

    args, grade_args = batch_parser().parse_known_args(argv)
    extra = grade_parser().parse_args(["exercises", *grade_args])  # refuse unknown options before starting
    for flag in ("json", "gradescope", "junit", "markdown", "html", "csv"):
        if getattr(extra, flag):
            raise UsageError(f"--{flag} is per submission: grade batch writes one JSON per submission in --out")
    return batch(args, grade_args, console)


def run_merge(argv, console):
    from grader.batch_run import merge_parser
    from grader.batch_run import run_merge as merge

    return merge(merge_parser().parse_args(argv), console)


def run_merge_lms(argv, console):
    from grader.formats.gradebook import merge_canvas

    parser = argparse.ArgumentParser(prog="grade merge-lms",
                                     description="Merge a grade gradebook CSV into a Canvas gradebook export.")
    parser.add_argument("gradebook", help="our gradebook CSV (grade --csv, or grade batch's gradebook.csv)")
    parser.add_argument("canvas", help="the gradebook exported from Canvas (CSV)")
    parser.add_argument("--assignment", required=True, help='the Canvas column, e.g. "RNN exercises (1234)"')
    parser.add_argument("--id-column", default="SIS Login ID", help="Canvas column matching our ids")
    parser.add_argument("--out", required=True, help="where to write the merged CSV to import into Canvas")
    args = parser.parse_args(argv)
    try:
        merged, unmatched = merge_canvas(Path(args.gradebook).read_text(), Path(args.canvas).read_text(),
                                         args.assignment, args.id_column)
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    formats.write(merged, args.out)
    console.print(f"wrote {args.out}")
    for submission in unmatched:
        console.print(f"[yellow]no Canvas student has {args.id_column} {submission!r}[/yellow]")
    return EXIT_OK


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    console = Console()
    errors = Console(stderr=True, soft_wrap=True)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    runner = {"build": run_build, "release": run_release, "selfcheck": run_selfcheck, "merge-lms": run_merge_lms,
              "batch": run_batch, "merge": run_merge}.get(command, run_grade)
    try:
        return runner(argv[1:] if command else argv, console)
    except UsageError as exc:
        errors.print(f"[red]grade: {escape(str(exc))}[/red]", highlight=False)
        return EXIT_USAGE
    except GraderError as exc:
        errors.print(f"[red]grade: grader error: {escape(str(exc))}[/red]", highlight=False)
        return EXIT_GRADER
    except KeyboardInterrupt:
        errors.print("[red]grade: interrupted[/red]")
        return EXIT_GRADER
    except Exception as exc:  # the grader never shows a traceback to a learner
        errors.print(f"[red]grade: grader error ({type(exc).__name__}: {escape(str(exc))}). Please report it.[/red]",
                     highlight=False)
        return EXIT_GRADER


if __name__ == "__main__":
    sys.exit(main())
