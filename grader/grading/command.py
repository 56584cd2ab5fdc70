"""`grade [PATH]`: grade one submission and write its report in the formats asked for.

This is what a batch's grade server forks into for each submission (`grader/batch/grade_server.py`),
so it imports nothing of the batch or authoring commands.
"""

import argparse
from pathlib import Path

from rich.console import Console

from grader.core.config import Limits
from grader.core.course import exercises
from grader.core.exits import EXIT_BELOW, EXIT_GRADER, EXIT_OK
from grader.grading.pipeline import Job, grade
from grader.reports import formats, strict_json
from grader.reports import report as report_mod
from grader.reports.formats import gradescope


def grade_parser(epilog: str | None = None) -> argparse.ArgumentParser:
    """The options of `grade [PATH]`; `epilog` (the other subcommands) is shown by --help."""
    parser = argparse.ArgumentParser(prog="grade", description="Grade RNN exercises.", epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", default="exercises",
                        help="submission directory or one exercise file (.py or .ipynb); default: exercises/")
    parser.add_argument("--only", nargs="+", choices=exercises(), metavar="EXERCISE",
                        help=f"grade only these exercises ({', '.join(exercises())})")
    parser.add_argument("--json", metavar="FILE",
                        help="write the report as JSON (see grader/reports/report.schema.json)")
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
    parser.add_argument("--verbose", action="store_true",
                        help="a row for every check (by default, passing checks are counted and functions "
                             "not written yet are listed once)")
    return parser


def limits_of(args: argparse.Namespace) -> Limits:
    """The per-worker limits that `grade`'s options (parsed by `grade_parser`) ask for."""
    return Limits(call_s=args.call_timeout, import_s=args.import_timeout, train_s=args.train_timeout,
                  memory_bytes=args.memory_mb << 20, processes=args.max_processes, cpu_s=args.cpu_seconds,
                  file_bytes=args.max_file_mb << 20, open_files=args.max_open_files)


def grade_limits(grade_args: list[str]) -> Limits:
    """The limits of a batch's `grade` options (`grade batch ... --memory-mb 512`), for the processes the
    batch itself starts: the preloaded device server and learner slots."""
    return limits_of(grade_parser().parse_args(["exercises", *grade_args]))


def run_grade(argv: list[str], console: Console, epilog: str | None = None) -> int:
    """Grade the submission `argv` names, print the report, write the files asked for."""
    args = grade_parser(epilog).parse_args(argv)
    limits = limits_of(args)
    job = Job(Path(args.path), only=args.only, seed=args.seed, limits=limits, isolation=args.isolation)
    try:
        report = grade(job)
        report_mod.validate(report)
    except Exception as exc:
        if args.gradescope:  # Gradescope must always get a results.json, also when grading fails
            formats.write(strict_json.dumps(gradescope.failure(str(exc))), args.gradescope)
        raise
    if args.json:
        report_mod.write_json(report, args.json)
    for name, render in formats.RENDERERS.items():
        if getattr(args, name):
            formats.write(render(report), getattr(args, name))
    if args.quiet:
        console.print(f"Score: {report['score']:g} / {report['max_score']:g}")
    else:
        report_mod.render(report, console, verbose=args.verbose)
    if report["internal_errors"]:
        console.print(f"[magenta]{report['internal_errors']} check(s) hit a grader error; the score may be "
                      "wrong. Please report it with the JSON report.[/magenta]")
        return EXIT_GRADER
    if args.fail_under is not None and report["score"] < args.fail_under / 100 * report["max_score"]:
        return EXIT_BELOW
    return EXIT_OK
