"""The trusted grade process: find the learner's files, run the suites, score, report.

    command.py      `grade [PATH]`: options, report files, exit status
    pipeline.py     locate_sources -> prepare_sources -> run_suites -> score -> describe_environment
    sources.py      which file is graded for each exercise (by content); notebooks converted to Python,
                    each line mapped back to its cell; helper modules and packages
    plugin.py       the pytest plugin: fixtures and hooks
    learner.py      the `learner` fixture: a worker per learner module
    outcomes.py     a check's outcome as a report entry, with the hidden-message policy
    notebook.py     `grade_here`: the generated notebooks' grade cell, run in the learner's own kernel
                    (it starts `grade` with the kernel's Python; imports nothing of the above)

The API the suites are written with (the suite author's side):

    checks.py       validating what a learner returned (`as_array`, `as_data`, `expect_value_error`, ...)
    diagnose.py     naming a mistake on evidence: `expect_match` against a table of candidate mistakes
    feedback.py     the misconception ids the course declares, and their hints
    evaluation.py   next-letter accuracy on grader-made prefixes
    model_rules.py  a Keras model's config and weights against the exercise's architecture

Learner code never runs here: only in the workers `learner.py` starts.
"""
