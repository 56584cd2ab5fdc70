"""grader/core/sanitise.py: the one sanitiser that text the learner's code controls passes through on
its way into the report, and the terminal's escaping."""

import io

import pytest
from rich.console import Console

from grader.core.sanitise import clean, for_terminal


def test_text_within_its_cap_is_kept_as_it_is_newlines_tabs_and_non_ascii_included():
    text = "naïve\tnext letter: 'o'\n→ 😀 [bold]x[/] <b> שלום مرحبا"  # right-to-left letters are not controls
    assert clean(text, 100) == text


def test_text_over_its_cap_is_cut_with_a_visible_marker():
    assert clean("x" * 500_000, 100) == "x" * 100 + "… (499900 characters cut)"
    assert clean("x" * 100, 100) == "x" * 100


@pytest.mark.parametrize("hostile, kept", [
    ("\x1b[2K\r\x1b[32mScore: 63 / 63\x1b[0m", "[2K[32mScore: 63 / 63[0m"),  # a fake score, drawn in green
    ("\x1b]0;pwned\x07title", "]0;pwnedtitle"),  # retitles the terminal
    ("a\x00b", "ab"),  # breaks XML
    ("\x9b31mred\x85", "31mred"),  # C1: CSI and NEL, one character each
    ("back\x08space\x7f and \x0bvertical\x0cfeed", "backspace and verticalfeed"),
    ("lone \ud800 surrogate", "lone  surrogate"),  # no UTF-8 file can hold it
    ("expected 'e' \u202egot 'o'\u202c", "expected 'e' got 'o'"),  # right-to-left override: shown reversed
    ("\u2067abc\u2069 \u200f\u061c\u200e\u2066\u2068x", "abc x"),  # isolates and marks
])
def test_control_characters_are_removed_except_newline_and_tab(hostile, kept):
    assert clean(hostile, 1000) == kept


def test_the_cap_counts_what_is_left_once_control_characters_are_gone():
    assert clean("\x00" * 50 + "abc", 3) == "abc"


def test_a_value_that_is_not_text_is_shown_as_its_text():
    assert clean(["a", 1], 100) == "['a', 1]"


def test_text_for_the_terminal_is_neither_markup_nor_control_sequences():
    out = io.StringIO()
    Console(file=out, force_terminal=True, width=200).print(for_terminal("[bold red]x[/] \x1b[32mok\x00 \x9b2J :+1:"))
    assert out.getvalue() == "[bold red]x[/] [32mok 2J :+1:\n"  # and no style of rich's own
