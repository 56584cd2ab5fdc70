"""grader/batch/command.py: the plain progress lines a batch prints when its output is not a terminal, and
what `grade merge-lms` prints."""

import io

from rich.console import Console

from grader.batch.command import ProgressDisplay, main_merge_lms


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


def test_hostile_text_reaches_the_log_neither_as_markup_nor_as_control_sequences():
    line = lines_for([{**row("forward: raised ValueError: [bold red]x[/] \x1b[32mScore: 63 / 63\x00"),
                       "id": "alice\x1b]0;pwned\x07"}])[0]
    assert "[bold red]x[/] [32mScore: 63 / 63" in line and "alice]0;pwned" in line
    assert not set(line) & {"\x1b", "\x00", "\x07"}


def test_merge_lms_names_an_unmatched_id_as_it_is(root, tmp_path):
    ours = tmp_path / "ours.csv"
    ours.write_text("id,total,max_score,encoding,forward,next_letter,status,reason\n[/]x\x1b[2J,1,6,,,,graded,\n")
    out = io.StringIO()
    code = main_merge_lms([str(ours), str(root / "tests/fixtures/canvas_export.csv"), "--assignment", "RNN",
                           "--out", str(tmp_path / "merged.csv")], Console(file=out, force_terminal=False, width=200))
    assert code == 0 and "no Canvas student has SIS Login ID '[/]x" in out.getvalue()
    assert "\x1b" not in out.getvalue()
