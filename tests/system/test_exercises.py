"""exercises/ is generated from solutions/ (`grade build`) and stays in step; the stubs teach and raise."""

import inspect

import nbformat
import numpy as np
import pytest

from grader.authoring.build import build_all
from grader.core.course import exercises

FUNCTIONS = {
    "encoding": ["build_alphabet", "encode", "decode", "make_dataset"],
    "forward": ["rnn_step", "rnn_forward", "softmax", "output_layer"],
    "next_letter": ["build_model", "train", "predict_next"],
}
ARGUMENTS = {
    "build_alphabet": ("ab",), "encode": (["a"], ["a"], 1), "decode": (["a"], np.ones((1, 1, 1))),
    "make_dataset": ("ab", 1, 1, 0), "rnn_step": (None,) * 5, "rnn_forward": (None,) * 4,
    "softmax": (None,), "output_layer": (None,) * 3, "build_model": (3,), "train": (None,) * 3,
    "predict_next": (None, ["a"], "a"),
}


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
    for name in FUNCTIONS[module]:
        with pytest.raises(NotImplementedError, match=f"{name}\\(\\) in {module}.py"):
            getattr(stub, name)(*ARGUMENTS[name])


@pytest.mark.parametrize("module", exercises())
def test_stub_docstrings_give_shapes_and_a_hint(root, load_module, module):
    stub = load_module(root / "exercises" / f"{module}.py", f"stub_doc_{module}")
    for name in FUNCTIONS[module]:
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
