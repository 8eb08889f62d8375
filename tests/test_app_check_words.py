"""The check page's sentences name the cell and the loop's length as the checked code's homework does."""

from types import SimpleNamespace

import pytest

from bptt.ui.check_words import blame_sentence, cell_of, first_difference, notation_of, sentences

PROBE = SimpleNamespace(name="course", sizes="n_x=3, n_a=5, m=10, T_x=4", T_x=4)


def finding(notation: str | None, scope: str = "input", quantity: str = "dnext_h") -> SimpleNamespace:
    detail = {"notation": notation} if notation else {}
    return SimpleNamespace(probe=PROBE, quantity=quantity, function="rnn_backward", t=2, scope=scope,
                           detail=detail, max_abs_error=1.5)


@pytest.mark.parametrize("function, notation, cell", [
    ("rnn_backward", "course", "rnn_cell_backward"),
    ("rnn_backward", "cs231n", "rnn_step_backward"),
    ("lstm_backward", "cs231n", "lstm_step_backward"),
    ("lstm_forward", "course", "lstm_cell_forward"),
    ("rnn_step_backward", "course", "rnn_step_backward"),
    ("rnn_cell_backward", "cs231n", "rnn_cell_backward"),
])
def test_the_cell_a_backward_calls_is_named_as_its_homework_names_it(function, notation, cell):
    assert cell_of(function, notation) == cell


def test_a_cs231n_finding_says_rnn_step_backward_and_T():
    text = first_difference(finding("cs231n"))
    assert "hands to rnn_step_backward as dnext_h" in text and "(T = 4;" in text and "T_x = 4;" not in text
    course = first_difference(finding(None, quantity="da_next"))
    assert "hands to rnn_cell_backward as da_next" in course and "(T_x = 4;" in course


def test_the_blame_in_the_verdict_follows_the_reports_notation():
    blame = {"part": "loop", "function": "rnn_backward", "t": 2, "term": "da_next"}
    report = SimpleNamespace(summary=["Your dWx is wrong."], error=None, blame=blame, divergence=finding("cs231n"))
    assert notation_of(report) == "cs231n"
    assert any("not in rnn_step_backward" in s for s in sentences(report))
    assert "not in rnn_cell_backward" in blame_sentence(blame)
    assert notation_of(SimpleNamespace(divergence=None)) == "course"
