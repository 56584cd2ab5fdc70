"""The unit layer's promise, checked for every test in it: no process started, no TensorFlow imported.

A unit test that needs either belongs in tests/integration/; the error says so.
"""

import os
import subprocess
import sys
import zipfile

import pytest


class NoProcesses:
    def __init__(self, *args, **kwargs):
        raise AssertionError("a unit test started a process (importing TensorFlow does too): "
                             "a test that needs one belongs in tests/integration/ or tests/system/")


@pytest.fixture(autouse=True)
def unit_layer(monkeypatch):
    monkeypatch.setattr(subprocess, "Popen", NoProcesses)
    monkeypatch.setattr(os, "fork", NoProcesses)
    imported_before = {"tensorflow", "keras"} & set(sys.modules)
    yield
    imported = ({"tensorflow", "keras"} & set(sys.modules)) - imported_before
    assert not imported, f"a unit test imported {sorted(imported)}: move it to tests/integration/"


@pytest.fixture
def sample_report():
    """A small report as `grade --json` writes it (it follows grader/reports/report.schema.json): one
    exercise, a public check passed, a public one failed with a misconception, a hidden one failed."""

    def test(name, status, score, visibility="public", misconception=None, hint=None, message=""):
        return {"name": f"{visibility}/forward/{name}", "exercise": "forward", "description": name.replace("_", " "),
                "score": score, "max_score": 2, "status": status, "message": message, "visibility": visibility,
                "misconception": misconception, "hint": hint, "duration_s": 0.25, "details": {},
                "file": f"grader/suites/{visibility}/test_forward.py", "line": 10, "internal_error": False}

    tests = [test("test_softmax", "passed", 2),
             test("test_rnn_step", "failed", 0, misconception="transposed-weights", hint="Do not transpose W_hh.",
                  message="rnn_step() returned what transposed-weights would give | for h_prev"),
             test("test_hidden_step", "failed", 0, visibility="hidden", message="A hidden check failed.")]
    return {
        "score": 2, "max_score": 6, "submission": "/submissions/student-7", "seed": 0, "hash_seed": 0,
        "hidden_suites": True, "duration_s": 3.5, "internal_errors": 0, "limits": {"call_s": 20.0},
        "model_feedback": None,
        "exercises": [{"name": "forward", "score": 2, "max_score": 6, "file": "/submissions/student-7/forward.py",
                       "why_this_file": "the only forward file"}],
        "tests": tests,
        "environment": {"python": "3.11", "platform": "Linux", "numpy": "2.0", "tensorflow": None, "keras": None,
                        "isolation": "bubblewrap", "devices": [], "gpu_present": None,
                        "device_note": "the device check did not run",
                        "fallbacks": [{"kind": "no-cgroup", "message": "rlimits alone"}]},
    }


@pytest.fixture(scope="session")
def make_zip():
    """Write a zip archive at `path` holding {name: content}; return `path`."""

    def make(path, members):
        with zipfile.ZipFile(path, "w") as bundle:
            for name, content in members.items():
                bundle.writestr(name, content)
        return path

    return make
