"""exercises/ is generated from solutions/ (`grade build`) and stays in step; the stubs teach and raise."""

import inspect

import nbformat
import pytest

from grader.authoring.build import build_all
from grader.core.course import course, exercises


def functions(module):
    """The functions the learner writes in `module` (the course manifest's, from the solution's regions)."""
    return course().functions(module)


def call_with_anything(function):
    """Call `function` with None for every parameter without a default: a stub raises before it looks."""
    required = [p for p in inspect.signature(function).parameters.values() if p.default is inspect.Parameter.empty]
    return function(*[None] * len(required))


def test_exercises_match_what_the_builder_writes(root, tmp_path):
    """Nobody edits exercises/ by hand: regenerating gives the committed bytes (run `grade build`)."""
    written = build_all(root / "solutions", tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in (root / "exercises").iterdir())
    for path in written:
        assert path.read_bytes() == (root / "exercises" / path.name).read_bytes(), (
            f"exercises/{path.name} differs from what `grade build` generates"
        )


@pytest.mark.parametrize("module", exercises())
def test_every_stub_raises_not_implemented(root, load_module, module):
    stub = load_module(root / "exercises" / f"{module}.py", f"stub_{module}")
    assert functions(module)
    for name in functions(module):
        with pytest.raises(NotImplementedError, match=f"{name}\\(\\) in {module}.py"):
            call_with_anything(getattr(stub, name))


@pytest.mark.parametrize("module", exercises())
def test_stub_docstrings_give_shapes_and_a_hint(root, load_module, module):
    stub = load_module(root / "exercises" / f"{module}.py", f"stub_doc_{module}")
    for name in functions(module):
        doc = inspect.getdoc(getattr(stub, name))
        assert "Hint:" in doc and ("shape" in doc or "string" in doc), f"{module}.{name} needs shapes and a hint"


@pytest.mark.parametrize("module", exercises())
def test_notebook_has_narrative_stubs_and_grade_cell(root, module):
    notebook = nbformat.read(root / "exercises" / f"{module}.ipynb", as_version=4)
    nbformat.validate(notebook)
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds[0] == "markdown" and "code" in kinds
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "BEGIN SOLUTION" not in code and "NotImplementedError" in code
    # Grades from the kernel's own Python: `!grade` needs the venv on PATH and passes quietly when it is not.
    assert notebook.cells[-1].source == (
        f'from grader.grading.notebook import grade_here\n\ngrade_here("{module}.ipynb")')
