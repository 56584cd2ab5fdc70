"""The grader, laid out by the process each part runs in.

    cli.py        the `grade` command: a thin table of subcommands
    untrusted/    runs in the LEARNER's sandboxed process: the worker script, stdlib + numpy only,
                  run by path and mounted alone; it imports nothing of `grader`
    isolation/    trusted, in the grade process and the batch: how a worker is launched and
                  contained (sandbox, rlimits, cgroups, zygotes, wire format, safe reading,
                  limit diagnosis) and the trusted fork servers
    grading/      the trusted GRADE process: pipeline, sources, pytest plugin, and the API the
                  suites are written with (checks, feedback, evaluation, model rules)
    device/       the trusted DEVICE CHECKER process (loads a checked saved model, never learner
                  code) and the grade process's client for it
    reports/      the report: schema, validation, terminal and file formats (any trusted process)
    batch/        the BATCH coordinator: submissions, the pool of preloaded slots, the grade server,
                  the class report (`grade batch`, `grade merge`, `grade merge-lms`)
    authoring/    the instructor's commands: build, release, selfcheck
    core/         configuration, errors, statuses, fallbacks: shared by every trusted process
    suites/       the checks (pytest files, data): public ones ship to learners, hidden ones never

Which package may import which is a rule, checked by import-linter (`tox -e lint`, contracts in
pyproject.toml): layers from cli down to core, the worker importing nothing of the grader.
docs/design.md draws the processes and what crosses between them.
"""
