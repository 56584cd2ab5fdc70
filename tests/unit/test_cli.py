"""grader/cli.py and grader/grading/command.py: what the command line alone decides (exit status 2)."""

import importlib.util

import pytest

from grader.cli import main


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main([str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "notes.py").write_text("")
    assert main([str(tmp_path / "notes.py")]) == 2
    with pytest.raises(SystemExit) as raised:
        main(["--only", "nonsense"])
    assert raised.value.code == 2


@pytest.mark.parametrize("command, package", [("build", "authoring"), ("release", "authoring"),
                                              ("selfcheck", "authoring"), ("batch", "batch"), ("merge", "batch"),
                                              ("merge-lms", "batch")])
def test_instructor_commands_in_a_learner_installation_say_where_to_run_them(monkeypatch, capsys, command, package):
    """A learner's release has no grader/batch/ or grader/authoring/: their commands are usage errors."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == f"grader.{package}" else find_spec(name, *args))
    assert main([command, "--help"]) == 2
    error = capsys.readouterr().err
    assert f"grade {command} is an instructor's command" in error and f"grader/{package}/" in error
    assert "instructor's repository" in error
