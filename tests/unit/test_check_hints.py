"""Every failing hidden check gives the learner something to act on: the hint of the misconception it named,
or else its own `@pytest.mark.hint` (a hidden check shows no message)."""

import ast
from types import SimpleNamespace

import pytest

from grader.core.config import SUITES
from grader.core.status import Status
from grader.grading import feedback
from grader.grading.plugin import hint_for


def decorators(function: ast.FunctionDef) -> list[str]:
    return [ast.unparse(decorator.func if isinstance(decorator, ast.Call) else decorator)
            for decorator in function.decorator_list]


HIDDEN_CHECKS = [(path.name, node) for path in sorted((SUITES / "hidden").glob("test_*.py"))
                 for node in ast.parse(path.read_text()).body
                 if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]


def test_there_are_hidden_checks():
    assert len(HIDDEN_CHECKS) >= 10


@pytest.mark.parametrize("where, check", HIDDEN_CHECKS, ids=[f"{w}::{c.name}" for w, c in HIDDEN_CHECKS])
def test_every_hidden_check_has_a_hint(where, check):
    assert "pytest.mark.hint" in decorators(check), f"{where}: {check.name} needs @pytest.mark.hint(...)"


class Item:
    def __init__(self, hint=None):
        self.marker = SimpleNamespace(name="hint", args=(hint,)) if hint else None

    def get_closest_marker(self, name):
        return self.marker if name == "hint" else None


def test_a_failed_check_without_a_misconception_shows_its_own_hint():
    assert hint_for(Item("Look at the axis."), Status.FAILED, None) == "Look at the axis."


def test_a_named_misconception_keeps_its_hint():
    assert hint_for(Item("Look at the axis."), Status.FAILED, "missing-tanh") == feedback.hint("missing-tanh")


def test_a_passed_or_crashed_check_shows_no_check_hint():
    assert hint_for(Item("Look at the axis."), Status.PASSED, None) is None
    assert hint_for(Item("Look at the axis."), Status.ERROR, None) is None
