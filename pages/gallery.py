"""Bug gallery: every catalog bug as a card, its symptom measured live against the correct code."""

import streamlit as st

from bptt.figures.gallery import diff_text, difference_chart
from bptt.figures.notation_view import sizes, words
from bptt.notation import FUNCTIONS, bug_lines
from bptt.symptoms import size_problem
from bptt.ui.entry import through_app
from bptt.ui.teaching import (
    cached_symptoms,
    chart,
    debugger_link,
    notation_switch,
    page_state,
    presenter,
    show_messages,
    stepper_params,
)

through_app()

CELLS = {"rnn": ("RNN", ("rnn_backward", "rnn_cell_backward")),
         "lstm": ("LSTM", ("lstm_forward", "lstm_backward", "lstm_cell_backward")),
         "gru": ("GRU", ("gru_backward", "gru_cell_backward"))}


def heading(cell: str, notation: str) -> str:
    """'RNN: rnn_backward and rnn_cell_backward', with the functions named as the notation's homework names them."""
    title, functions = CELLS[cell]
    names = [FUNCTIONS[f] if notation == "cs231n" else f for f in functions]
    return f"{title}: {', '.join(names[:-1])} and {names[-1]}"


def lines_of(bug, notation: str):
    """(the bug's lines in the notation, a note when the notation has none and the course's are shown)."""
    try:
        return bug_lines(bug.id, notation), None
    except KeyError:
        return bug_lines(bug.id, "course"), "CS231n's homework has no counterpart of this line: the course's code."


state, _, messages = page_state()
presenter(state)
state = notation_switch(state)
notation = state.notation
st.title("Bug gallery")
show_messages(messages)
config = state.config
if config.bug is not None:
    st.info(f"bug={config.bug} is ignored here: the gallery shows every bug.", icon=":material/info:")
cells = [config.cell] if "cell" in st.query_params else list(CELLS)
st.markdown(
    "Every mistake in the catalog, run on the same input as the correct code "
    f"(scenario **{config.scenario}**, {sizes(config, notation)}). "
    "Each card shows the wrong line against the right one, what the bug does to the returned gradients, where the "
    "buggy loop first departs from the correct one, and the difference it makes."
)
if config.T_x < 2 or config.n_a == 1 or config.n_x == config.n_a or config.scenario in ("vanishing", "exploding"):
    st.info("The catalog documents its symptoms for T_x ≥ 2, n_a ≥ 2, n_x ≠ n_a and a loss at every step; here some "
            "bugs look different (a missing transpose no longer raises when n_x = n_a, a loop that runs forward first "
            "departs later when only the last step has a loss).", icon=":material/info:")
problem = size_problem(config)
if problem:
    st.error(f"{problem}.", icon=":material/error:")
    st.stop()

symptoms = [s for s in cached_symptoms(config) if s.bug.cell in cells]
with st.container(border=True, key="gallery-index"):
    st.markdown("**The bugs on this page** (each link jumps to its card)")
    for cell in cells:
        st.markdown(f"{heading(cell, notation)}\n\n" + "\n".join(
            f"- [{lines_of(s.bug, notation)[0].title}](#{s.bug.id})" for s in symptoms if s.bug.cell == cell))
for symptom in symptoms:
    bug = symptom.bug
    lines, note = lines_of(bug, notation)
    with st.container(border=True, key=f"card-{bug.id}"):
        st.subheader(lines.title, anchor=bug.id)
        st.caption(f"`{bug.id}` · {bug.cell.upper()} · in `{lines.function}`" + (f" · {note}" if note else ""))
        st.code(diff_text(lines), language="diff")
        text, picture = st.columns([3, 2])
        with text:
            st.markdown("**Measured on this input:** " + words(" ".join(symptom.describe()), bug.cell, notation))
            st.markdown(f"**The catalog says:** {lines.symptom}")
            problems = symptom.disagreements()
            if problems:
                st.warning("At this input the measurement differs from the catalog: " + "; ".join(problems) + ".")
            st.markdown(f"**Why:** {lines.why}")
            first_t = symptom.first.t if symptom.first is not None else None
            debugger_link("Open in the step-through debugger",
                          stepper_params(symptom.config, first_t if first_t is not None else 0), state)
        with picture:
            fig = difference_chart(symptom, notation)
            if symptom.error is not None:  # the bug raises: what numpy says is the symptom
                st.markdown(f"**What the student sees at t = {symptom.error.t}:**")
                st.code(f"{symptom.error.kind}: {symptom.error.message}", language="text", wrap_lines=True)
            elif fig is None:
                st.caption("On this input the bug changes no returned gradient, so there is no difference to draw.")
            else:
                chart(fig, state, f"diff-{bug.id}", 2 / 5)
