"""Shared helpers for the project's own tests (not the grader's suites), and their layers.

Every test lives in one layer, a directory of its own, and gets that layer's marker from here, so a
failure says which layer broke and `pytest -m unit` runs the fast one alone:

    unit/         pure logic: no subprocess, no sandbox, no TensorFlow (checked: see unit/conftest.py)
    integration/  one part with the processes it starts: workers, sandbox, zygotes, servers, device
                  checker, one `grade` run
    system/       whole commands: grade, batch, release, build's output, the fixture submissions

Within a run the layers go in that order, so `-x` stops at the cheapest layer that fails.
"""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
LAYERS = {
    "unit": "pure logic: no subprocess, no sandbox, no TensorFlow (tests/unit/)",
    "integration": "one part with the processes it starts: workers, sandbox, zygotes, servers, device checker, "
                   "one grade run (tests/integration/)",
    "system": "whole commands: grade, batch, release, the generated exercises, fixture submissions (tests/system/)",
}


def pytest_configure(config):
    for layer, what in LAYERS.items():
        config.addinivalue_line("markers", f"{layer}: {what}")


def layer_of(path):
    """The layer of a test file: the directory under tests/ it lives in, or None."""
    try:
        parts = Path(path).resolve().relative_to(TESTS).parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 and parts[0] in LAYERS else None


@pytest.hookimpl(tryfirst=True)  # before -m selects by marker
def pytest_collection_modifyitems(config, items):
    """Mark each test with its directory's layer (and no other), refuse a test outside the layers, and
    run the layers in order."""
    outside = sorted({item.nodeid.split("::")[0] for item in items if layer_of(item.path) is None})
    if outside:
        raise pytest.UsageError(f"tests outside tests/{{{','.join(LAYERS)}}}/ have no layer: {', '.join(outside)}; "
                                "move each into the directory of its layer")
    for item in items:
        layer = layer_of(item.path)
        marked = {mark.name for mark in item.iter_markers() if mark.name in LAYERS} - {layer}
        if marked:
            raise pytest.UsageError(f"{item.nodeid} is in tests/{layer}/ but marked {', '.join(sorted(marked))}: "
                                    "a test's layer is its directory; move it instead")
        item.add_marker(layer)
    order = list(LAYERS)
    items.sort(key=lambda item: order.index(layer_of(item.path)))  # stable: files keep their order


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def load_module():
    """Import a file under a unique module name, so stubs and solutions can be loaded side by side."""

    def load(path, name):
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def grade_cli():
    """Run `grade ARGS` (python -m grader.cli) in the repository as a separate process; the finished
    `subprocess.CompletedProcess`, its output as text (keyword arguments go to subprocess.run)."""

    def run(*args, **kwargs):
        return subprocess.run([sys.executable, "-m", "grader.cli", *map(str, args)], capture_output=True, text=True,
                              cwd=ROOT, **kwargs)

    return run


@pytest.fixture(scope="session")
def fixture_submissions():
    """The fixture submissions of tests/fixtures/submissions.toml, by name (`selfcheck.build` writes one)."""
    from grader.authoring.selfcheck import load_fixtures

    return {fixture.name: fixture for fixture in load_fixtures()}


@pytest.fixture
def chromium_screenshot(tmp_path):
    """Render a page with headless Chromium into tests/artifacts/NAME (kept for a person to look at);
    the PNG's bytes."""

    def shoot(page: Path, name: str, size: tuple[int, int]) -> bytes:
        assert shutil.which("chromium"), "install Debian's chromium (.ci/run does) to render HTML pages"
        artifacts = TESTS / "artifacts"
        artifacts.mkdir(exist_ok=True)
        shot = artifacts / name
        shot.unlink(missing_ok=True)
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                        f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={size[0]},{size[1]}",
                        f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == size
        return data

    return shoot
