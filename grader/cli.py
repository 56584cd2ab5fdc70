"""The `grade` command.

    grade [PATH] [--only EXERCISE ...] [--json FILE] [--fail-under PERCENT]   grade a submission
    grade build                                                             regenerate exercises/
    grade release OUTDIR [--force] [--no-validate]                          build the learner release
    grade selfcheck                                                         mutation check of the suites

Exit status: 0 graded; 1 graded but below --fail-under; 2 usage error; 3 grader error.
"""

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from grader import report as report_mod
from grader.exercise_builder import EXERCISES
from grader.pipeline import GraderError, Job, grade
from grader.sandbox import Limits
from grader.sources import UsageError

EXIT_OK, EXIT_BELOW, EXIT_USAGE, EXIT_GRADER = 0, 1, 2, 3
COMMANDS = ("build", "release", "selfcheck")


def grade_parser():
    parser = argparse.ArgumentParser(
        prog="grade", description="Grade RNN exercises. Other commands: grade build | release | selfcheck.")
    parser.add_argument("path", nargs="?", default="exercises",
                        help="submission directory or one exercise file (.py or .ipynb); default: exercises/")
    parser.add_argument("--only", nargs="+", choices=EXERCISES, metavar="EXERCISE",
                        help=f"grade only these exercises ({', '.join(EXERCISES)})")
    parser.add_argument("--json", metavar="FILE", help="write the report as JSON (see grader/report.schema.json)")
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
    parser.add_argument("--quiet", action="store_true", help="print only the total")
    return parser


def run_grade(argv, console):
    args = grade_parser().parse_args(argv)
    limits = Limits(call_s=args.call_timeout, import_s=args.import_timeout, train_s=args.train_timeout,
                    memory_bytes=args.memory_mb << 20, processes=args.max_processes, cpu_s=args.cpu_seconds,
                    file_bytes=args.max_file_mb << 20)
    job = Job(Path(args.path), only=args.only, seed=args.seed, limits=limits, isolation=args.isolation)
    report = grade(job)
    report_mod.validate(report)
    if args.json:
        report_mod.write_json(report, args.json)
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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    console = Console()
    errors = Console(stderr=True, soft_wrap=True)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    runner = {"build": run_build, "release": run_release, "selfcheck": run_selfcheck}.get(command, run_grade)
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
