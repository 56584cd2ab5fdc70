"""The course is data: course.toml lists the exercises, each a solution with regions and two suites; `grade build`
derives the manifest the grader reads. Nothing is skipped without a word: a solution course.toml does not list,
or an exercise without its suites, stops the build with what to do."""

import json
import shutil

import pytest

from grader.authoring import course_file
from grader.authoring.new_exercise import EXERCISES_LIST, scaffold
from grader.core import course
from grader.core.errors import GraderError, UsageError

SOLUTION = '''# %% [markdown]
# # Exercise 4: a gated unit

# %%
def gate(x):
    """Returns x."""
    # BEGIN SOLUTION
    return x
    # END SOLUTION
'''


@pytest.fixture
def repository(root, tmp_path):
    """A copy of the repository's course: course.toml, solutions/ and the suites."""
    shutil.copyfile(root / "course.toml", tmp_path / "course.toml")
    shutil.copytree(root / "solutions", tmp_path / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(root / "grader" / "suites", tmp_path / "grader" / "suites",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_committed_manifest_is_what_build_derives(root):
    """grader/suites/course.json is generated: `grade build` writes it again after a change to course.toml or to
    a solution's regions."""
    derived = course_file.manifest_text(course_file.read(root))
    assert (root / "grader" / "suites" / "course.json").read_text() == derived, "run `grade build`"


def test_the_manifest_lists_each_exercise_its_title_and_fenced_functions(repository):
    manifest = course_file.manifest(course_file.read(repository))
    names = [entry["name"] for entry in manifest["exercises"]]
    assert tuple(names) == course_file.read(repository).exercises
    forward = manifest["exercises"][names.index("forward")]
    assert forward["functions"] == ["rnn_step", "rnn_forward", "softmax", "output_layer"]
    assert forward["title"] == "The forward pass of a simple RNN, in numpy"


def test_a_solution_the_course_does_not_list_is_an_error_not_skipped(repository):
    (repository / "solutions" / "gru.py").write_text(SOLUTION)
    with pytest.raises(UsageError, match=r"gru.py has solution regions.*add 'gru' to `exercises`"):
        course_file.read(repository)


def test_a_listed_exercise_needs_its_solution_and_both_suites(repository):
    text = (repository / "course.toml").read_text()
    (repository / "course.toml").write_text(text.replace('"next_letter"]', '"next_letter", "gru"]'))
    (repository / "solutions" / "gru.py").write_text(SOLUTION)
    with pytest.raises(UsageError, match=r"lists exercise 'gru', but .*public/test_gru.py does not exist: `grade new"):
        course_file.read(repository)
    (repository / "grader" / "suites" / "public" / "test_gru.py").write_text("")
    with pytest.raises(UsageError, match=r"hidden/test_hidden_gru.py does not exist"):
        course_file.read(repository)
    (repository / "grader" / "suites" / "hidden" / "test_hidden_gru.py").write_text("")
    assert course_file.read(repository).exercises[-1] == "gru"
    assert course_file.manifest(course_file.read(repository))["exercises"][-1] == {
        "name": "gru", "title": "a gated unit", "functions": ["gate"], "misconceptions": {}}


@pytest.mark.parametrize("exercises, problem", [
    ('[]', "must list the exercises"), ('["Forward"]', "must list the exercises"),
    ('["forward", "forward"]', "lists a name twice"),
])
def test_a_malformed_exercise_list_is_refused(repository, exercises, problem):
    text = (repository / "course.toml").read_text()
    (repository / "course.toml").write_text(EXERCISES_LIST.sub(f"exercises = {exercises}", text, count=1))
    with pytest.raises(UsageError, match=problem):
        course_file.read(repository)


def test_the_learners_readme_lists_the_course_in_order(repository):
    course = course_file.read(repository)
    readme = course_file.learner_readme(course)
    places = [readme.find(f"{number}. `{name}`: ") for number, name in enumerate(course.exercises, start=1)]
    assert -1 not in places and places == sorted(places)
    assert "`encoding`: Turning text into numbers an RNN can read" in readme
    assert f"exercises/{course.exercises[0]}.ipynb" in readme and "{" not in readme.split("```")[0]


def test_the_grader_reads_the_manifest_and_says_how_to_fix_a_broken_one(tmp_path):
    path = tmp_path / "course.json"
    path.write_text(json.dumps({"title": "t", "exercises": [{"name": "a", "title": "A", "functions": ["f"],
                                                             "misconceptions": {"off-by-one": "Count from 0."}}]}))
    loaded = course.load(path)
    assert loaded.names == ("a",) and loaded.functions("a") == ("f",) and loaded.functions("b") == ()
    assert loaded.hint("off-by-one") == "Count from 0." and loaded.hint("other") is None
    path.write_text(json.dumps({"title": "t", "exercises": [{"name": "a"}]}))
    with pytest.raises(GraderError, match="is not a course manifest.*run `grade build`"):
        course.load(path)
    with pytest.raises(GraderError, match="cannot read the course manifest.*run `grade build`"):
        course.load(tmp_path / "missing.json")


def test_grade_new_scaffolds_a_whole_exercise_where_it_is_asked(repository):
    before = course_file.read(repository).exercises
    written = scaffold(repository, "gated", after=before[0])
    assert {path.name for path in written} == {"gated.py", "gated.toml", "test_gated.py", "test_hidden_gated.py",
                                              "course.toml"}
    course = course_file.read(repository)
    assert course.exercises == (before[0], "gated", *before[1:])
    entry = course_file.manifest(course)["exercises"][1]
    assert entry["functions"] == ["reverse_time"] and set(entry["misconceptions"]) == {"reversed-batch"}
    assert "title = " in (repository / "course.toml").read_text()  # the rest of course.toml kept as it was


@pytest.mark.parametrize("name, after, problem", [
    ("Gated", None, "cannot name an exercise"), ("encoding", None, "already lists exercise 'encoding'"),
    ("gated", "nothing", "--after nothing: course.toml has no such exercise"),
])
def test_grade_new_refuses_what_it_cannot_do_and_writes_nothing(repository, name, after, problem):
    before = (repository / "course.toml").read_text()
    with pytest.raises(UsageError, match=problem):
        scaffold(repository, name, after)
    assert (repository / "course.toml").read_text() == before and not (repository / "solutions" / "gated.py").exists()


def test_grade_new_never_overwrites_a_file(repository):
    (repository / "solutions" / "gated.py").write_text("# mine\n")
    with pytest.raises(UsageError, match="gated.py already exist"):
        scaffold(repository, "gated")
    assert (repository / "solutions" / "gated.py").read_text() == "# mine\n"


def test_every_misconception_a_suite_names_is_declared_by_an_exercise(root):
    from grader.grading import feedback

    assert course_file.undeclared_misconceptions(course_file.read(root), set(feedback.GRADER_HINTS)) == []


def test_a_misconception_nobody_declares_is_found_before_grading(repository):
    suite = repository / "grader" / "suites" / "public" / "test_forward.py"
    suite.write_text(suite.read_text() + '\n\ndef test_new(learner):\n    raise Misconception("typo-id", "x")\n'
                     '\n\ndef test_other(learner):\n    expect_match(1, 2, "f", [Mistake("another-typo", "x", 1)])\n')
    assert course_file.undeclared_misconceptions(course_file.read(repository), set()) == [
        f"{suite}: another-typo", f"{suite}: typo-id"]
