"""grader/authoring/build.py: stubs and notebook cells from the solutions' marked regions."""

import pytest

from grader.authoring.build import check_learner_functions, solution_regions, split_cells, stub_source
from grader.core.errors import UsageError


def test_stub_source_replaces_only_the_marked_region():
    source = "def f(x):\n    '''Doc.'''\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION\n"
    stub = stub_source(source, "m")
    assert "return x" not in stub and "'''Doc.'''" in stub and 'raise NotImplementedError("f() in m.py' in stub


@pytest.mark.parametrize("source, problem", [
    ("def f():\n    # BEGIN SOLUTION\n    pass\n", "never closed"),
    ("# END SOLUTION\n", "without a"),
])
def test_unbalanced_markers_are_reported_with_the_line(source, problem):
    with pytest.raises(ValueError, match=problem):
        list(solution_regions(source))


def test_split_cells_strips_comment_markers():
    cells = split_cells("# %% [markdown]\n# # Title\n# text\n\n# %%\nx = 1\n")
    assert [(c.kind, c.source) for c in cells] == [("markdown", "# Title\ntext"), ("code", "x = 1")]


def test_a_fenced_function_the_grader_does_not_know_stops_the_build(root):
    source = (root / "solutions" / "forward.py").read_text()
    check_learner_functions(source, "forward")
    extra = source + "\n\ndef tanh(z):\n    # BEGIN SOLUTION\n    return z\n    # END SOLUTION\n"
    with pytest.raises(UsageError, match=r"fences rnn_step, .*tanh, but grader/grading/sources.py LEARNER_FUNCTIONS"):
        check_learner_functions(extra, "forward")
