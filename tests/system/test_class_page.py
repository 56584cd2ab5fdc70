"""The instructor's class page: RESULTS/summary.html after `grade batch`, self-contained, with the
distribution, the pass rates, the misconceptions and a link to each learner's own page; rendered in
headless Chromium (the screenshot stays in tests/artifacts/class-page.png for a person to look at)."""

import re
import shutil

import pytest

from grader.authoring.selfcheck import build


@pytest.fixture(scope="module")
def results(grade_cli, root, fixture_submissions, tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    klass = base / "submissions"
    shutil.copytree(root / "solutions", klass / "alice", ignore=shutil.ignore_patterns("__pycache__"))
    build(fixture_submissions["transposed-weights"], klass / "bob")
    (klass / "carol").mkdir()
    done = grade_cli("batch", klass, "--out", base / "results", "--jobs", "2", "--only", "forward")
    assert done.returncode == 0, done.stdout + done.stderr
    return base / "results"


def test_the_class_page_holds_what_an_instructor_looks_for(results):
    page = (results / "summary.html").read_text()
    for forbidden in ("http://", "https://", "<script", "<link", "src="):
        assert forbidden not in page
    assert "<svg" in page and "<rect" in page  # the distribution chart
    assert "transposed-weights" in page and re.search(r"transposed-weights</span></td><td>1</td>", page)
    assert "not a submission" in page
    for learner in ("alice", "bob"):
        assert f'<a href="{learner}.html">{learner}</a>' in page
        assert "What to fix" in (results / f"{learner}.html").read_text()
    assert not (results / "carol.html").exists() and "carol" in page


def test_the_class_page_renders_in_headless_chromium(results, chromium_screenshot):
    data = chromium_screenshot(results / "summary.html", "class-page.png", (1100, 1600))
    assert len(data) > 30_000  # a chart and tables, not a blank page
