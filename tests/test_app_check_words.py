"""The check page's sentences name the cell and the loop's length as the checked code's homework does."""

from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from bptt.notation import bug_lines
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


def test_a_cs231n_homework_checked_on_the_page_is_told_in_its_own_names():
    """A real check of a CS231n file that forgets dprev_h: the page names the bug, the function and the cell as
    rnn_layers.py does (the catalog's CS231n lines), never the course's rnn_cell_backward."""
    root = Path(__file__).resolve().parent
    at = AppTest.from_file(str(root.parent / "app.py"), default_timeout=180)
    at.switch_page("pages/check.py")
    at.run()
    at.text_area(key="check:text").set_value((root / "corpus_cs231n" / "bug_no_dprev_h_skeleton.py").read_text())
    at.button(key="check:run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    report = at.session_state["check:report"]
    assert notation_of(report) == "cs231n" and report.bugs[0].bug.id == "missing-da-prev"
    lines = bug_lines("missing-da-prev", "cs231n")
    text = "\n".join(m.value for m in at.markdown)
    assert f"Likely bug: **{lines.title}** (in {lines.function}" in text
    assert f"#### Likely bug: {lines.title}" in text and lines.hint in text
    assert "rnn_cell_backward" not in text + "\n".join(str(a.value) for a in at.warning)
