"""grader/authoring/mutate.py: the mutants of the reference solutions, generated and judged (not graded:
tests/system/test_mutate.py grades a few)."""

import ast
import re

import pytest

from grader.authoring import mutate
from grader.authoring.regions import solution_regions
from grader.cli import main
from grader.core.config import REPOSITORY

# One solution region that gives every operator something to mutate, between code that must stay as it is.
SAMPLE = '''import numpy as np

LIMIT = 3 + 4


def f(a, b, c, xs, flag):
    """Doc: a @ b + c."""
    # BEGIN SOLUTION
    total = np.tanh(a @ b + c)
    if flag and len(xs) > 0 and not flag:
        raise ValueError(f"bad {flag + 1}")
    for i in range(len(xs)):
        total = total * xs[i]
    return total.sum(axis=-1, keepdims=True)[1:-1] - xs[:, 0], -LIMIT
    # END SOLUTION


def g(a):
    return a @ a + 1
'''
SAMPLE_REGION = range(9, 15)  # the 1-based lines between the fences


@pytest.fixture(scope="module")
def sample_mutants():
    return mutate.mutants_of(SAMPLE, "sample")


@pytest.fixture(scope="module")
def reference():
    return mutate.reference_mutants()


def test_every_operator_mutates_the_sample(sample_mutants):
    assert {m.operator for m in sample_mutants} == set(mutate.OPERATORS)


@pytest.mark.parametrize("operator, mutated", [
    ("arithmetic", "total = np.tanh(a @ b - c)"),
    ("arithmetic", "total = np.tanh(a * b + c)"),
    ("drop-term", "total = np.tanh(a @ b)"),
    ("drop-term", "total = np.tanh(c)"),
    ("swap-operands", "total = np.tanh(b @ a + c)"),
    ("transpose", "total = np.tanh(a.T @ b + c)"),
    ("transpose", "total = np.tanh(a @ b.T + c)"),
    ("compare", "if flag and len(xs) >= 0 and not flag:"),
    ("boolean", "if flag or len(xs) > 0 or (not flag):"),
    ("boolean", "if flag and len(xs) > 0 and flag:"),
    ("sign", "return total.sum(axis=-1, keepdims=True)[1:-1] - xs[:, 0], LIMIT"),
    ("constant", "if flag and len(xs) > 1 and not flag:"),
    ("constant", "return total.sum(axis=-1, keepdims=False)[1:-1] - xs[:, 0], -LIMIT"),
    ("axis", "return total.sum(axis=0, keepdims=True)[1:-1] - xs[:, 0], -LIMIT"),
    ("axis", "return total.sum(axis=-1, keepdims=True)[1:-1] - xs[0, :], -LIMIT"),
    ("off-by-one", "for i in range(len(xs) - 1):"),
    ("off-by-one", "total = total * xs[i + 1]"),
    ("off-by-one", "return total.sum(axis=-1, keepdims=True)[1 + 1:-1] - xs[:, 0], -LIMIT"),
    ("drop-call", "total = a @ b + c"),
    ("drop-keyword", "return total.sum(keepdims=True)[1:-1] - xs[:, 0], -LIMIT"),
    ("swap-name", "return total.mean(axis=-1, keepdims=True)[1:-1] - xs[:, 0], -LIMIT"),
    ("drop-statement", "pass"),
])
def test_each_operator_writes_the_expected_line(sample_mutants, operator, mutated):
    assert mutated in {m.mutated for m in sample_mutants if m.operator == operator}


def test_a_statement_is_dropped_only_where_the_name_it_binds_was_bound_before(sample_mutants):
    dropped = {m.original for m in sample_mutants if m.operator == "drop-statement"}
    assert dropped == {'raise ValueError(f"bad {flag + 1}")', "total = total * xs[i]"}


def test_a_replacement_is_parenthesised_where_precedence_needs_it():
    source = "def f(a, b):\n    # BEGIN SOLUTION\n    return 2 * np.tanh(a + b)\n    # END SOLUTION\n"
    assert "return 2 * (a + b)" in {m.mutated for m in mutate.mutants_of(source, "s") if m.operator == "drop-call"}


def test_only_the_solution_region_changes_and_every_mutant_is_valid_python(sample_mutants):
    original = SAMPLE.splitlines()
    for mutant in sample_mutants:
        changed = mutant.source.splitlines()
        assert ast.dump(ast.parse(mutant.source)) != ast.dump(ast.parse(SAMPLE)), mutant.id
        assert changed[:SAMPLE_REGION.start - 1] == original[:SAMPLE_REGION.start - 1], mutant.id
        tail = len(original) - SAMPLE_REGION.stop + 1
        assert changed[-tail:] == original[-tail:], mutant.id
        assert mutant.line in SAMPLE_REGION
    messages = [m.mutated for m in sample_mutants if "bad {" in m.mutated]
    assert messages and all("bad {flag + 1}" in line for line in messages), "an f-string's parts were mutated"


def test_the_reference_mutants_change_only_their_function_s_region(reference):
    for exercise, mutants in reference.items():
        source = (REPOSITORY / "solutions" / f"{exercise}.py").read_text()
        regions = {func: (begin, end) for begin, end, func in solution_regions(source)}
        lines = source.splitlines()
        assert mutants, exercise
        for mutant in mutants:
            begin, end = regions[mutant.function]
            changed = mutant.source.splitlines()
            ast.parse(mutant.source)
            assert mutant.source != source
            assert changed[:begin + 1] == lines[:begin + 1], mutant.id
            assert changed[len(changed) - (len(lines) - end):] == lines[end:], mutant.id


def test_ids_are_unique_deterministic_and_name_exercise_function_operator(reference):
    again = mutate.reference_mutants()
    for exercise, mutants in reference.items():
        ids = [m.id for m in mutants]
        assert ids == [m.id for m in again[exercise]]
        assert len(set(ids)) == len(ids)
        for mutant in mutants:
            assert re.fullmatch(rf"{exercise}:{mutant.function}:{mutant.operator}:[0-9a-f]{{8}}(-[0-9]+)?", mutant.id)


def test_the_same_change_to_two_identical_lines_gets_two_ids():
    source = "def f(a, b):\n    # BEGIN SOLUTION\n    a = a + b\n    a = a + b\n    return a\n    # END SOLUTION\n"
    ids = [m.id for m in mutate.mutants_of(source, "s") if m.mutated == "a = a - b"]
    assert len(ids) == 2 and ids[1] == f"{ids[0]}-2"


def test_an_id_does_not_move_with_the_lines_above_it():
    moved = SAMPLE.replace('"""Doc: a @ b + c."""', '"""Doc.\n\n    More doc.\n    """')
    assert [m.id for m in mutate.mutants_of(moved, "sample")] == [m.id for m in mutate.mutants_of(SAMPLE, "sample")]


def test_exercises_that_train_a_model_come_last():
    assert list(mutate.reference_mutants(["next_letter", "forward", "encoding"])) == ["encoding", "forward",
                                                                                     "next_letter"]
    assert mutate.trains("import keras\n") and not mutate.trains("import numpy as np\n")


def test_a_sample_spreads_over_the_mutants(reference):
    mutants = reference["forward"]
    chosen = mutate.sample(mutants, 8)
    assert len(chosen) == 8 and len(set(chosen)) == 8
    assert {m.function for m in chosen} == {m.function for m in mutants}
    assert mutate.sample(mutants, None) == mutants


def test_the_recorded_equivalents_are_mutants_of_today_s_reference(reference):
    """Each entry names a mutant the generator still makes, writing the recorded line, and says why."""
    equivalents = mutate.load_equivalents()
    assert equivalents
    generated = [m for mutants in reference.values() for m in mutants]
    assert mutate.stale_equivalents(equivalents, generated, reference) == []


def test_a_malformed_or_stale_equivalent_is_refused(tmp_path, reference):
    path = tmp_path / "equivalent.toml"
    path.write_text('[[equivalent]]\nid = "forward:rnn_step:constant:00000000"\nreason = "x"\n')
    with pytest.raises(ValueError, match="equivalent entry 1"):
        mutate.load_equivalents(path)
    some = reference["forward"][0]
    other = mutate.Equivalent("y", "z")
    stale = {some.id: mutate.Equivalent("an old line", "x"), "forward:softmax:axis:00000000": other,
             "encoding:decode:axis:00000000": other}  # not in scope: not judged
    assert len(mutate.stale_equivalents(stale, reference["forward"], ["forward"])) == 2


def report(score, max_score=10):
    return {"score": score, "max_score": max_score, "tests": []}


def test_classify_counts_killed_survived_and_equivalent(reference):
    a, b, c, d, e = reference["forward"][:5]
    reports = {a.id: report(4), b.id: report(10), c.id: report(10), d.id: {"error": "grade exited 3"}, e.id: report(9)}
    equivalents = {c.id: mutate.Equivalent(c.mutated, "why"), e.id: mutate.Equivalent(e.mutated, "wrongly")}
    outcome, problems = mutate.classify("forward", [a, b, c, d, e], reports, equivalents)
    assert (outcome.generated, outcome.killed, outcome.equivalent) == (5, 3, 1)
    assert outcome.survivors == [b] and outcome.errors == [f"{d.id}: grade exited 3"]
    assert outcome.score == pytest.approx(75.0)
    assert problems == [f"{e.id} is marked equivalent but a check kills it: remove it from the equivalents' file"]
    assert mutate.Outcome("forward", generated=2, equivalent=2).score == 100.0


def test_the_report_shows_each_survivor_s_line_before_and_after(reference):
    survivor = reference["forward"][0]
    outcome = mutate.Outcome("forward", generated=1, survivors=[survivor])
    text = mutate.survivor_text(survivor).plain
    assert survivor.id in text and f"forward.py:{survivor.line}" in text
    assert f"- {survivor.original}" in text and f"+ {survivor.mutated}" in text
    data = mutate.as_json([outcome], [], 95.0)["exercises"][0]
    assert data["score"] == 0 and data["survivors"][0]["mutated"] == survivor.mutated
    assert "source" not in data["survivors"][0]


@pytest.mark.parametrize("argv, says", [(["--mutant", "forward:*"], "--mutant only go(es) with --mutate"),
                                        (["--mutate", "--only", "nonsense"], "no such exercise"),
                                        (["--mutate", "--mutant", "forward:nothing:*"], "matches no mutant")])
def test_mutate_options_are_checked(capsys, argv, says):
    assert main(["selfcheck", *argv]) == 2
    assert says in capsys.readouterr().err
