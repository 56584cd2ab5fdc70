"""A forward check names a mistake only when it is the mistake that was made (issue 15).

Each known-wrong forward.py, built as `grade` builds a fixture submission, runs through every forward
check in this process with scripted workers (tests/unit/test_returned_values.py: the real plugin,
wire and classification, no process started): a fixture's misconception must be the only id any
check names, and a mistake no candidate explains gets no id at all.
"""

import importlib.util

import pytest

from grader.authoring.selfcheck import Fixture, build, load_fixtures
from grader.core.config import SUITES
from tests.unit.test_returned_values import (  # suites_alone: autouse, the suites run as `grade` runs them
    REFERENCES,
    Right,
    grade_scripted,
    suites_alone,  # noqa: F401
)

FORWARD_SUITES = [str(SUITES / "public" / "test_forward.py"), str(SUITES / "hidden" / "test_hidden_forward.py")]
DIAGNOSED = [f for f in load_fixtures() if f.misconception and f.only == ["forward"]]


def graded(fixture: Fixture, tmp_path, monkeypatch) -> dict:
    """The forward checks' report on `fixture`'s forward.py, answered by that module in this process."""
    path = build(fixture, tmp_path / fixture.name) / "forward.py"
    spec = importlib.util.spec_from_file_location(f"forward_{fixture.name.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(REFERENCES, "forward", module)
    report, crashes = grade_scripted([Right()], FORWARD_SUITES)
    assert crashes == {} and report["internal_errors"] == 0
    return report


def named(report: dict) -> set[str]:
    return {t["misconception"] for t in report["tests"] if t["misconception"]}


def test_the_reference_passes_every_forward_check(tmp_path, monkeypatch):
    report = graded(Fixture(name="reference", only=["forward"]), tmp_path, monkeypatch)
    assert [t["name"] for t in report["tests"] if t["status"] != "passed"] == []


@pytest.mark.parametrize("fixture", DIAGNOSED, ids=[f.name for f in DIAGNOSED])
def test_a_known_mistake_is_the_only_one_named(fixture, tmp_path, monkeypatch):
    """missing-tanh was also told missing-bias; an aliased state array was told state-not-carried and h0-ignored;
    and the learner's own `grade` (the public checks) names it too: transposed-weights passed every public check."""
    report = graded(fixture, tmp_path, monkeypatch)
    assert named(report) == {fixture.misconception}
    assert any(t["visibility"] == "public" and t["misconception"] == fixture.misconception for t in report["tests"]), \
        "the learner's own `grade` does not show it"


def edit(old: str, new: str) -> dict[str, str]:
    return {"module": "forward", "old": old, "new": new}


STEP = "return np.tanh(x_t @ W_xh + h_prev @ W_hh + b)"
LOOP = "        h_t = rnn_step(x[:, t], h_t, W_xh, W_hh, b)\n"
UNEXPLAINED = {  # mistakes no candidate explains, or two explain alike: (edits, what a public check says instead)
    "step-ignores-h-prev": ([edit(STEP, "return np.tanh(x_t @ W_xh + b)")], "leaves out h_prev W_hh"),
    "time-reversed": ([edit("    for t in range(T):\n", "    for t in reversed(range(T)):\n")], "first at step 0"),
    "output-returns-logits": ([edit("return softmax(h @ W_hy + b_y)", "return h @ W_hy + b_y")],
                              "softmax is not applied"),
    "softmax-exp-only": ([edit("return shifted / shifted.sum(axis=-1, keepdims=True)", "return shifted")],
                         "not to 1"),
}
# Two mistakes at once: each check names one of them or none, never a third.
COMBINED = {
    "missing-bias-and-state-not-carried": ([edit(STEP, "return np.tanh(x_t @ W_xh + h_prev @ W_hh)"),
                                            edit(LOOP + "        h[:, t] = h_t\n",
                                                 "        h[:, t] = rnn_step(x[:, t], h_t, W_xh, W_hh, b)\n")],
                                           {"missing-bias", "state-not-carried"}),
    "sigmoid-and-h0-ignored": ([edit(STEP, "return 1 / (1 + np.exp(-(x_t @ W_xh + h_prev @ W_hh + b)))"),
                                edit(" if h0 is None else h0", "")], {"wrong-activation", "h0-ignored"}),
}


@pytest.mark.parametrize("name", UNEXPLAINED)
def test_a_mistake_without_evidence_is_described_not_named(name, tmp_path, monkeypatch):
    edits, says = UNEXPLAINED[name]
    report = graded(Fixture(name=name, only=["forward"], replace=edits), tmp_path, monkeypatch)
    assert named(report) == set() and report["score"] < report["max_score"]
    assert any(says in t["message"] for t in report["tests"] if t["visibility"] == "public")


@pytest.mark.parametrize("name", COMBINED)
def test_two_mistakes_are_named_only_as_themselves(name, tmp_path, monkeypatch):
    edits, made = COMBINED[name]
    report = graded(Fixture(name=name, only=["forward"], replace=edits), tmp_path, monkeypatch)
    assert named(report) and named(report) <= made
