"""The learner's worker hides the grader from learner code, including an editable install's finder."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("worker", sys.argv[1])
worker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(worker)
# setuptools' editable installs put a finder *class* on sys.meta_path; some tools put an instance.
Finder = type("Finder", (), {"__module__": "__editable___demo_finder",
                             "find_spec": classmethod(lambda cls, *args: None)})
sys.meta_path[:0] = [Finder, Finder()]
worker.hide_grader_packages()
left = [f for f in sys.meta_path if getattr(f, "__module__", "").startswith("__editable__")]
try:
    import grader.core.config  # noqa: F401
    blocked = False
except ImportError:
    blocked = True
print(len(left), blocked)
"""


def test_hide_grader_packages_drops_editable_finders_and_blocks_the_grader():
    done = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "grader" / "untrusted" / "worker.py")],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "True"]
