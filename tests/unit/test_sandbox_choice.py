"""grader/isolation/sandbox.py: which isolation a grading gets, and that a weaker one is never silent."""

import pytest

from grader.core import fallbacks
from grader.core.config import Limits
from grader.core.errors import SandboxUnavailable
from grader.isolation import sandbox


@pytest.fixture
def no_bubblewrap(monkeypatch):
    monkeypatch.setattr(sandbox, "bubblewrap_problem", lambda: sandbox.INSTALL_HINT)
    fallbacks.forget()
    yield
    fallbacks.forget()


def test_auto_without_bubblewrap_grades_in_a_plain_process_and_records_it(no_bubblewrap):
    chosen = sandbox.choose("auto", Limits())
    assert type(chosen) is sandbox.PlainProcess
    assert [f["kind"] for f in fallbacks.taken()] == ["no-sandbox"]


def test_strict_without_bubblewrap_refuses_and_says_what_to_install(no_bubblewrap):
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        sandbox.choose("strict", Limits())
    assert fallbacks.taken() == []


def test_off_is_asked_for_not_a_fallback(no_bubblewrap):
    assert type(sandbox.choose("off", Limits())) is sandbox.PlainProcess
    assert fallbacks.taken() == []
