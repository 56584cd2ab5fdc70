"""The `grade` command: a thin table of subcommands, each living in the package of its process role.

    grade [PATH] [--only EXERCISE ...] [--json FILE] [--fail-under PERCENT]   grade a submission
    grade submit [PATH] [--out FILE.zip] [--force]                          pack what is graded, grade the pack
    grade new NAME                                                          scaffold a new exercise
    grade build                                                             regenerate exercises/, the manifest
    grade release OUTDIR [--force] [--no-validate]                          build the learner release
    grade selfcheck [--mutate] [--only EXERCISE ...]                        mutation check of the suites
    grade batch SUBMISSIONS --out RESULTS [--jobs N] [--dask ADDR] [--shard I/N]  grade a class
    grade merge RESULTS... --out RESULTS                                    merge shards
    grade merge-lms GRADEBOOK CANVAS --assignment NAME --out FILE           fill a Canvas export

Exit status: 0 graded; 1 graded but below --fail-under; 2 usage error; 3 grader error.

Each subcommand's module is imported when it is asked for (a function-level import): a learner's
release ships `grading/` but not `batch/` or `authoring/`, and there the instructor's commands say
so instead of failing at start-up. `grade submit` is a learner's command: it lives in `grading/`.
"""

import importlib.util
import sys
from collections.abc import Sequence
from functools import partial

from grader.core.errors import UsageError
from grader.core.exits import Runner, run_command
from grader.grading.command import run_grade

# A learner's release has these (grading/).
LEARNER_COMMANDS = {
    "submit": "pack what will be graded into a zip to upload, and grade the pack",
}
# The instructor's: grader/authoring/ and grader/batch/, not in a learner's release.
COMMANDS = {
    "new": "scaffold a new exercise (solution, suites, a known-wrong variant)",
    "build": "regenerate exercises/ and the course manifest from course.toml and solutions/",
    "release": "build the learners' release (and the Gradescope bundle)",
    "selfcheck": "grade the known-wrong variants: every check must catch one",
    "batch": "grade a whole class",
    "merge": "merge the results of sharded batches",
    "merge-lms": "fill a Canvas gradebook export",
}
EPILOG = "other commands (each has --help):\n" + "\n".join(f"  grade {name:<10} {what}"
                                                           for name, what in {**LEARNER_COMMANDS, **COMMANDS}.items())


def instructor_runner(name: str) -> Runner:
    """The runner of an instructor's subcommand, or a UsageError where this installation lacks it."""
    package = "authoring" if name in ("new", "build", "release", "selfcheck") else "batch"
    if importlib.util.find_spec(f"grader.{package}") is None:
        raise UsageError(f"grade {name} is an instructor's command, and this installation has no "
                         f"grader/{package}/: run it in the instructor's repository")
    if package == "authoring":
        from grader.authoring import build, new_exercise, release, selfcheck

        return {"new": new_exercise.main, "build": build.main, "release": release.main,
                "selfcheck": selfcheck.main}[name]
    from grader.batch import command

    return {"batch": command.main_batch, "merge": command.main_merge, "merge-lms": command.main_merge_lms}[name]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in LEARNER_COMMANDS:
        argv.pop(0)
        from grader.grading import submit

        return run_command(submit.main, argv)
    if argv and argv[0] in COMMANDS:
        name = argv.pop(0)
        return run_command(lambda args, console: instructor_runner(name)(args, console), argv)
    return run_command(partial(run_grade, epilog=EPILOG), argv)


if __name__ == "__main__":
    sys.exit(main())
