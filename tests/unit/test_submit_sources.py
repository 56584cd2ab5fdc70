"""sources.list_helpers: the helper files `prepare` copies (and `grade submit` packs), and why the
others are left out. (Fails before the change: list_helpers did not exist.)"""

from pathlib import Path

from grader.grading import sources


def test_list_helpers_says_what_is_copied_and_why_the_rest_is_not(tmp_path):
    sub = tmp_path / "sub"
    (sub / "pkg" / "inner").mkdir(parents=True)
    (sub / "forward.py").write_text("import helper\n")
    (sub / "helper.py").write_text("X = 1\n")
    (sub / "pkg" / "__init__.py").write_text("")
    (sub / "pkg" / "inner" / "deep.py").write_text("Y = 2\n")
    (sub / "notes.txt").write_text("not python\n")
    (sub / "nopkg").mkdir()
    (sub / "nopkg" / "stray.py").write_text("")
    (tmp_path / "outside.py").write_text("SECRET = 1\n")
    (sub / "linked.py").symlink_to(tmp_path / "outside.py")
    (sub / "big.py").write_text("#" * (sources.MAX_SOURCE_BYTES + 1))
    helpers = {h.relative.as_posix(): h.left_out for h in sources.list_helpers(sub)}
    assert helpers == {"helper.py": None, "pkg/__init__.py": None, "pkg/inner/deep.py": None,
                       "linked.py": helpers["linked.py"], "big.py": helpers["big.py"]}
    assert "symbolic link" in helpers["linked.py"] and "larger than" in helpers["big.py"]

    # prepare copies exactly the helpers listed as copied
    src = tmp_path / "src"
    sources.prepare(sources.locate(sub)[0], src)
    copied = sorted(p.relative_to(src).as_posix() for p in src.rglob("*.py"))
    assert copied == ["forward.py", "helper.py", "pkg/__init__.py", "pkg/inner/deep.py"]


def test_list_helpers_shares_the_caps_with_prepare(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_HELPER_FILES", 2)
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.py").write_text("")
    listed = sources.list_helpers(Path(tmp_path))
    assert [h.left_out is None for h in listed] == [True, True, False] and "cap" in (listed[2].left_out or "")
