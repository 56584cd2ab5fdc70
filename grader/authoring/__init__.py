"""The instructor's commands, run in the instructor's repository: never shipped to learners.

    build.py      `grade build`: solutions/ -> exercises/ stubs and notebooks
    release.py    `grade release`: the learners' package and the Gradescope bundle, scanned for leaks
    selfcheck.py  `grade selfcheck`: every check against the known-wrong variants (and, with --mutate, mutants)
    mutate.py     the mutants of the reference's solution regions, and how the suites did against them
    templates/    Gradescope and GitHub Classroom files
"""
