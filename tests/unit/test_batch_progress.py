"""grader/batch/command.py: the plain progress lines a batch prints when its output is not a terminal."""

import io

from rich.console import Console

from grader.batch.command import ProgressDisplay


def lines_for(rows):
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    with ProgressDisplay(console, len(rows)) as update:
        for i, row in enumerate(rows):
            update(row, i)
    return out.getvalue().splitlines()


def row(reason, status="graded", report=None):
    return {"id": "alice", "status": status, "reason": reason, "duration_s": 1.0,
            "report": report or {"score": 3, "max_score": 63}}


def test_a_long_reason_is_shortened_at_a_word_not_inside_one():
    reason = "forward: " + " ".join(["importing forward.py raised SyntaxError"] * 10)
    line = lines_for([row(reason)])[0]
    shown = line.split(" - ", 1)[1].split("; ", 1)[0]
    assert shown.endswith(" ...") and reason.startswith(shown[: -len(" ...")])
    assert shown[: -len(" ...")].split()[-1] in reason.split()


def test_learner_text_with_markup_is_printed_as_it_is():
    line = lines_for([row("forward: raised ValueError: [/] [bold]x[/bold]")])[0]
    assert "[/] [bold]x[/bold]" in line


def test_the_count_is_of_submissions_not_graded_not_of_low_scores():
    lines = lines_for([row(""), row("grade exited 3", status="crash", report=None)])
    assert "0 not graded" in lines[0] and "1 not graded" in lines[1] and "failed" not in " ".join(lines)
