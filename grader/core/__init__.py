"""Shared by every trusted process: configuration, errors, statuses, the record of fallbacks and the
sanitiser of learner text.

Nothing here starts a process or touches learner code; everything else in `grader` may import it,
and it imports nothing else of `grader` (the lowest layer of the import-linter contract). The
untrusted worker (`grader/untrusted/`) does not import it either: it is mounted alone.
"""
