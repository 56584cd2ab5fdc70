"""grader/grading/sources.py: which file is graded for each exercise; notebooks as plain Python."""

import os
import shutil
import sys
from importlib.machinery import PathFinder

import nbformat
import pytest

from grader.authoring.build import build_notebook, grade_cells, split_cells
from grader.grading import sources


def test_notebook_magics_and_shell_lines_are_stripped(tmp_path):
    cells = split_cells("# %%\n%matplotlib inline\n!pip install numpy\nx = 1\n")
    nbformat.write(build_notebook(cells, "forward"), tmp_path / "forward.ipynb")
    source = sources.convert_notebook(tmp_path / "forward.ipynb").source
    compile(source, "forward.py", "exec")
    assert "removed by grade" in source and "x = 1" in source and "get_ipython" not in source.replace(
        "removed by grade (IPython only): get_ipython", "")


def test_a_malformed_notebook_names_the_file_and_the_fix(tmp_path):
    (tmp_path / "forward.ipynb").write_text("{ not json")
    with pytest.raises(ValueError, match="forward.ipynb is not a valid notebook.*submit forward.py"):
        sources.convert_notebook(tmp_path / "forward.ipynb")


def test_the_newer_notebook_is_chosen_and_the_reason_given(tmp_path):
    (tmp_path / "forward.py").write_text("")
    (tmp_path / "forward.ipynb").write_text("")
    os.utime(tmp_path / "forward.py", (1_000_000, 1_000_000))
    chosen = sources.choose(tmp_path, "forward")
    assert chosen.path.name == "forward.ipynb" and "newer" in chosen.reason
    missing = sources.choose(tmp_path, "encoding")
    assert missing.path is None and "no encoding.py or encoding.ipynb" in missing.problem


# -- which file: by content before time (a clone, an unzip or an upload gives both the same time) ------------
def solved_notebook(root, module, extra=""):
    """`module`'s reference solution as a notebook, as a learner who solved it in Jupyter saves it."""
    return build_notebook(split_cells((root / "solutions" / f"{module}.py").read_text() + extra)
                          + grade_cells(module), module)


def same_time(*paths, when=1_700_000_000):
    for path in paths:
        os.utime(path, (when, when))


def test_the_untouched_stub_is_never_graded_beside_a_solved_file_of_the_same_time(root, tmp_path):
    shutil.copyfile(root / "exercises" / "forward.py", tmp_path / "forward.py")
    nbformat.write(solved_notebook(root, "forward"), tmp_path / "forward.ipynb")
    same_time(tmp_path / "forward.py", tmp_path / "forward.ipynb")
    chosen = sources.choose(tmp_path, "forward")
    assert chosen.path.name == "forward.ipynb"
    assert "forward.py is still the stub" in chosen.reason
    os.utime(tmp_path / "forward.py", (1_800_000_000, 1_800_000_000))  # a newer stub is still a stub
    assert sources.choose(tmp_path, "forward").path.name == "forward.ipynb"
    # The other way round: a solved .py beside the generated notebook.
    shutil.copyfile(root / "solutions" / "encoding.py", tmp_path / "encoding.py")
    shutil.copyfile(root / "exercises" / "encoding.ipynb", tmp_path / "encoding.ipynb")
    same_time(tmp_path / "encoding.py", tmp_path / "encoding.ipynb")
    chosen = sources.choose(tmp_path, "encoding")
    assert chosen.path.name == "encoding.py" and "encoding.ipynb is still the stub" in chosen.reason


def test_a_stub_function_defined_again_below_counts_as_written(root, tmp_path):
    stub = (root / "exercises" / "forward.py").read_text()
    solution = (root / "solutions" / "forward.py").read_text()
    softmax = solution[solution.index("def softmax"):solution.index("def output_layer")]
    (tmp_path / "forward.py").write_text(stub)
    nbformat.write(build_notebook(split_cells(stub + "\n# %%\n" + softmax), "forward"), tmp_path / "forward.ipynb")
    same_time(tmp_path / "forward.py", tmp_path / "forward.ipynb")
    assert sources.stubs_left(tmp_path / "forward.py", "forward") == 4
    assert sources.stubs_left(tmp_path / "forward.ipynb", "forward") == 3
    assert sources.choose(tmp_path, "forward").path.name == "forward.ipynb"


def test_when_both_hold_work_the_newer_is_graded_and_a_tie_says_how_to_grade_the_other(root, tmp_path):
    stub = (root / "exercises" / "forward.py").read_text()
    solution = (root / "solutions" / "forward.py").read_text()
    softmax = solution[solution.index("def softmax"):solution.index("def output_layer")]
    py, nb = tmp_path / "forward.py", tmp_path / "forward.ipynb"
    py.write_text(stub + "\n\n" + softmax)  # one function written
    nbformat.write(solved_notebook(root, "forward"), nb)  # all four
    same_time(py, nb)
    tie = sources.choose(tmp_path, "forward")
    assert tie.path == nb and "same modification time" in tie.reason and "more functions written" in tie.reason
    assert f"run `grade {py}`" in tie.reason
    same_time(py, when=1_700_000_100)
    newer = sources.choose(tmp_path, "forward")
    assert newer.path == py and "forward.py is newer" in newer.reason and f"`grade {nb}`" in newer.reason
    py.write_text(solution)
    same_time(py, nb)
    even = sources.choose(tmp_path, "forward")
    assert even.path == nb and "neither has more functions written" in even.reason and f"`grade {py}`" in even.reason


def test_two_untouched_stubs_grade_the_py_and_say_nothing_is_written(root, tmp_path):
    for name in ("forward.py", "forward.ipynb"):
        shutil.copyfile(root / "exercises" / name, tmp_path / name)
    chosen = sources.choose(tmp_path, "forward")
    assert chosen.path.name == "forward.py" and "neither forward.py nor forward.ipynb" in chosen.reason


# -- notebooks: what IPython gives every notebook, and where an error is --------------------------------------
IPYTHON_CELLS = """# %%
import numpy as np
x = np.arange(3)
display(x)
shell = get_ipython()
shell.run_line_magic("matplotlib", "inline")
if get_ipython() is not None:
    display(x, x)
# %%
def twice(v):
    display(v)
    return 2 * v
get_ipython().system("ls")
"""


def run_converted(path):
    namespace = {}
    exec(compile(sources.convert_notebook(path).source, str(path.with_suffix(".py")), "exec"), namespace)
    return namespace


def test_display_and_get_ipython_are_inert_in_a_graded_notebook(tmp_path):
    nbformat.write(build_notebook(split_cells(IPYTHON_CELLS), "forward"), tmp_path / "forward.ipynb")
    namespace = run_converted(tmp_path / "forward.ipynb")
    assert list(namespace["twice"](namespace["x"])) == [0, 2, 4]


def test_ipython_imports_work_where_the_grading_environment_has_no_ipython(tmp_path, monkeypatch):
    cells = "# %%\nfrom IPython.display import HTML, display\nfrom IPython import get_ipython\n"
    cells += "display(HTML('<b>hi</b>'))\nget_ipython().run_line_magic('load_ext', 'autoreload')\nvalue = 3\n"
    nbformat.write(build_notebook(split_cells(cells), "forward"), tmp_path / "forward.ipynb")

    class NoIPython:  # the path finder, blind to IPython: as in a sandbox without it
        @staticmethod
        def find_spec(name, path=None, target=None):
            return None if name.split(".")[0] == "IPython" else PathFinder.find_spec(name, path, target)

    def ipython_modules():
        return {name: module for name, module in sys.modules.items() if name.split(".")[0] == "IPython"}

    real = ipython_modules()
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if f is not PathFinder] + [NoIPython])
    for name in real:
        del sys.modules[name]
    try:
        assert run_converted(tmp_path / "forward.ipynb")["value"] == 3
        assert type(sys.modules["IPython.display"]).__name__ == "_GradeInertModule"
    finally:  # the stand-ins must not outlive the test, nor the real modules stay away
        for name in ipython_modules():
            del sys.modules[name]
        sys.modules.update(real)


def test_an_error_in_a_notebook_names_its_cell_and_line(tmp_path):
    notebook = build_notebook(split_cells("# %%\nimport math\n\n# %%\ndef f(v):\n    w = v + 1\n    return w / 0\n"),
                              "forward")
    notebook.cells[1].execution_count = 12
    nbformat.write(notebook, tmp_path / "forward.ipynb")
    converted = sources.convert_notebook(tmp_path / "forward.ipynb")
    namespace = {}
    exec(compile(converted.source, "/src/forward.py", "exec"), namespace)
    with pytest.raises(ZeroDivisionError) as raised:
        namespace["f"](1)
    line = raised.traceback[-1].lineno + 1
    source = sources.Source("forward", tmp_path / "forward.ipynb", "", line_map=converted.lines)
    where = f"forward.f() raised ZeroDivisionError at forward.py line {line}, in f"
    assert sources.in_notebooks(where, [source]) == (
        "forward.f() raised ZeroDivisionError at forward.ipynb code cell 2 (In [12]), line 3, in f")
    first = converted.lines.index(sources.CellLine(2, 12, 1)) + 1
    assert sources.in_notebooks(f"invalid syntax (forward.py, line {first})", [source]) == (
        "invalid syntax (forward.ipynb code cell 2 (In [12]), line 1)")
    assert sources.in_notebooks(f"at forward.py line {first - 3} and my_forward.py line 3", [source]) == (
        "at forward.ipynb code cell 1, line 1 and my_forward.py line 3")
    plain = sources.Source("forward", tmp_path / "forward.py", "")
    assert sources.in_notebooks(where, [plain]) == where


def test_the_notebooks_own_grade_cell_is_left_out_when_graded(root, tmp_path):
    source = sources.convert_notebook(root / "exercises" / "forward.ipynb").source
    live = [line for line in source.splitlines() if not line.lstrip().startswith(("#", "pass  #"))]
    assert not any("grader" in line or "grade_here" in line for line in live)
    assert "removed by grade (the grading cell)" in source
    compile(source, "forward.py", "exec")


# -- helper modules and packages --------------------------------------------------------------------------------
def test_helper_packages_are_copied_without_links_and_within_the_caps(tmp_path, monkeypatch):
    sub = tmp_path / "sub"
    (sub / "mypkg" / "inner").mkdir(parents=True)
    (sub / "forward.py").write_text("from mypkg.inner.maths import twice\n")
    (sub / "helper.py").write_text("X = 1\n")
    (sub / "mypkg" / "__init__.py").write_text("")
    (sub / "mypkg" / "inner" / "maths.py").write_text("def twice(v):\n    return 2 * v\n")
    (sub / "mypkg" / "notes.txt").write_text("not Python")
    (sub / "mypkg" / "secret.py").symlink_to("/etc/passwd")
    (sub / "mypkg" / "elsewhere").symlink_to(tmp_path)
    (sub / "mypkg" / "big.py").write_text("#" * (sources.MAX_SOURCE_BYTES + 1))
    (sub / "not_a_package").mkdir()
    (sub / "not_a_package" / "mod.py").write_text("")
    (sub / "linked_pkg").symlink_to(sub / "mypkg")
    src = tmp_path / "src"
    sources.prepare(sources.locate(sub / "forward.py")[0], src)
    copied = sorted(str(p.relative_to(src)) for p in src.rglob("*") if p.is_file())
    assert copied == ["forward.py", "helper.py", "mypkg/__init__.py", "mypkg/inner/maths.py"]
    # The total cap: what comes after it is left out.
    monkeypatch.setattr(sources, "MAX_HELPER_BYTES", 10)
    src = tmp_path / "src-capped"
    sources.prepare(sources.locate(sub / "forward.py")[0], src)
    assert sorted(str(p.relative_to(src)) for p in src.rglob("*") if p.is_file()) == [
        "forward.py", "helper.py", "mypkg/__init__.py"]
