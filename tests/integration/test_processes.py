"""grader/isolation/processes.py against a real process of the worker's uid: cleaning up what it left."""

import os
import shutil
import tempfile
from pathlib import Path

from grader.core.config import NOBODY
from grader.isolation.processes import remove_tree


def test_remove_tree_deletes_what_a_worker_locked_and_follows_no_link():
    """A worker may chmod 000 its own directories (then shutil.rmtree fails for any user but root)
    and leave a link to a file outside. The tree still goes, removed as the worker's uid when we are
    root, and the file outside keeps its mode."""
    base = Path(tempfile.mkdtemp())
    tree, outside = base / "tree", base / "outside.txt"
    (tree / "locked" / "inner").mkdir(parents=True)
    (tree / "locked" / "inner" / "file").write_text("x")
    outside.write_text("keep")
    outside.chmod(0o600)
    (tree / "locked" / "link").symlink_to(outside)
    if os.geteuid() == 0:
        for path in (base, outside, *tree.rglob("*"), tree):
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    for path in (tree / "locked" / "inner", tree / "locked"):
        path.chmod(0)
    pid = os.fork()
    if pid == 0:  # the child drops to the worker's uid, so the permissions apply as they would to a user
        try:
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            remove_tree(tree)
            os._exit(0)
        except BaseException:
            os._exit(1)
    try:
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        assert not tree.exists() and outside.stat().st_mode & 0o777 == 0o600
    finally:
        shutil.rmtree(base, ignore_errors=True)
