"""The instructor's commands, run in the instructor's repository: never shipped to learners.

    build.py      `grade build`: solutions/ -> exercises/ stubs and notebooks
    release.py    `grade release`: the learners' package and the Gradescope bundle, scanned for leaks
    selfcheck.py  `grade selfcheck`: every check against the known-wrong variants
    templates/    Gradescope and GitHub Classroom files
"""
