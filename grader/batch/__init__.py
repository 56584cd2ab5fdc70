"""The batch coordinator (`grade batch`): a trusted process that grades a class, and its servers.

    command.py       `grade batch`, `grade merge`, `grade merge-lms`; the local pool or Dask
    submissions.py   discover, shard, key by content, unpack zips safely
    runner.py        one submission in a grade process of its own, within its budget
    pool.py          the preloaded slots (learner zygotes) and the servers they share
    grade_server.py  a trusted server that forks each grade process with the grader imported
    class_report.py  the gradebook and the class summary

Learner code runs only in the workers of each submission's grade process, never here.
"""
