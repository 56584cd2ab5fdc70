"""grader/authoring/build.py: stubs and notebook cells from the solutions' marked regions."""

import shutil

import pytest

from grader.authoring.build import build_all, split_cells, stub_source
from grader.authoring.regions import solution_regions
from grader.core.course import exercises
from grader.core.errors import UsageError

EXERCISES = exercises()  # solutions/ copied without course.toml


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


def test_build_refuses_to_overwrite_a_hand_edit_unless_forced(root, tmp_path):
    out = tmp_path / "exercises"
    build_all(root / "solutions", out)
    (out / "forward.py").write_text((out / "forward.py").read_text() + "# my note\n")
    solutions = tmp_path / "solutions"
    shutil.copytree(root / "solutions", solutions, ignore=shutil.ignore_patterns("__pycache__"))
    changed = (solutions / "forward.py").read_text().replace('"""', '"""Changed. ', 1)
    (solutions / "forward.py").write_text(changed)
    with pytest.raises(UsageError, match=r"exercises/forward\.py changed since `grade build` wrote it.*--force"):
        build_all(solutions, out, exercises=EXERCISES)
    assert (out / "forward.py").read_text().endswith("# my note\n")  # nothing written
    build_all(solutions, out, force=True, exercises=EXERCISES)
    assert not (out / "forward.py").read_text().endswith("# my note\n")


def test_build_overwrites_what_it_wrote_itself(root, tmp_path):
    out = tmp_path / "exercises"
    build_all(root / "solutions", out)
    solutions = tmp_path / "solutions"
    shutil.copytree(root / "solutions", solutions, ignore=shutil.ignore_patterns("__pycache__"))
    (solutions / "encoding.py").write_text((solutions / "encoding.py").read_text().replace('"""', '"""New. ', 1))
    build_all(solutions, out, exercises=EXERCISES)  # the old stub is the last build's own output: no complaint
    assert "New. " in (out / "encoding.py").read_text()


def test_build_without_a_record_refuses_a_file_that_differs(root, tmp_path):
    out = tmp_path / "exercises"
    out.mkdir()
    (out / "encoding.py").write_text("# someone's own version\n")
    with pytest.raises(UsageError, match="encoding.py changed"):
        build_all(root / "solutions", out)
