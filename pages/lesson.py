"""The guided lesson: narrated steps, each showing the debugger in the state it talks about (?lesson=3)."""

from dataclasses import replace

import numpy as np
import streamlit as st

from bptt.figures import heatmap, norm_chart, timeline
from bptt.figures.flow import flow_chart
from bptt.figures.itemize import fractions_chart
from bptt.figures.notation_view import axes, label, shown, words
from bptt.lessons import LESSON, lesson_step
from bptt.notation import cs231n_title
from bptt.scenarios import CELLS
from bptt.ui.cache import cached_run, cached_summary
from bptt.ui.entry import through_app
from bptt.ui.state import parse
from bptt.ui.teaching import (
    cached_flows,
    cached_itemized,
    chart,
    keep,
    notation_switch,
    page_state,
    presenter,
    show_messages,
)

through_app()

PAGE_NAMES = {"stepper": "step-through debugger", "gradient_flow": "Gradient flow page", "itemized": "Itemized "
              "gradients page", "gallery": "Bug gallery"}

state, own, messages = page_state(own=("lesson",))
presenter(state)
state = notation_switch(state)
notation = state.notation
raw = own.get("lesson", "1")
try:
    number = int(raw)
    lesson_step(number)
except ValueError:
    messages.append(f"lesson={raw} is not a step of this lesson (1 to {len(LESSON)}); showing step 1.")
    number = 1
show_messages(messages)
step = lesson_step(number)


def go(to: int) -> None:
    st.query_params["lesson"] = str(to)


narrated, _ = parse(step.params)
config = narrated.config
st.caption(f"Lesson · step {number} of {len(LESSON)}")
st.title(words(step.title, config.cell, notation))
st.markdown(words(step.narration, config.cell, notation))
st.markdown(f"**Look at:** {words(step.look, config.cell, notation)}")

if step.page == "stepper":
    run = cached_run(config)
    t = narrated.t if narrated.t is not None else run.trace.order[0]
    moment = run.trace.step(t)
    summary = cached_summary(config)
    chart(timeline(config.T_x, run.trace.order, t, run.trace.norms("da_prevt"),
                   out=float(np.linalg.norm(run.trace.da0))), state, "lesson_timeline")
    keys = ["da_t", "da_prevt", "da_next"] + (["dc_next"] if config.cell == "lstm" else [])
    titles = {"da_t": f"da[:,:,{t}]: the loss's gradient at t = {t}", "da_prevt": f"da_prevt: carried from t = {t + 1}",
              "da_next": f"da_next at t = {t}: what the cell receives",
              "dc_next": f"dc_next at t = {t}: carried in the cell state"}
    if notation == "cs231n":
        came = t + 1 if t + 1 < config.T_x else None
        titles = {k: cs231n_title("inputs", k, t, came, t - 1 if t > 0 else None, run.trace.order[0], config.cell)
                  for k in keys}
    # the hidden state's three panels share one colour range, so da_next = da[:,:,t] + da_prevt reads off the
    # colours; the cell state's gradient has its own (over all steps), so it is not drawn white beside a large da
    # and shows what the narration says it shows
    zmax_a = max(summary.ranges.get(("inputs", k), 0.0) for k in keys if k != "dc_next")
    # two panels a row: four side by side beside the sidebar at 1024 px leave no room for a cell's value
    columns = [column for _ in range(0, len(keys), 2) for column in st.columns(2)]
    for column, key in zip(columns, keys):
        zmax = summary.ranges.get(("inputs", key), 0.0) if key == "dc_next" else zmax_a
        value = moment.inputs[key]  # (n_a, m)
        rows, cols = axes(value, "unit", "example", notation)
        with column:
            quantity = key if notation == "course" else label(key, config.cell, notation)
            chart(heatmap(shown(value, notation), title=titles[key], quantity=quantity,
                          scope="inputs", t=t, zmax=zmax, rows=rows, cols=cols), state, f"lesson_{key}", 1 / 2)
    if config.T_x > 8:
        norms = {f"‖{label('da_prevt', config.cell, notation)}‖": run.trace.norms("da_prevt")}
        if config.cell == "lstm":
            norms[f"‖{label('dc_prevt', config.cell, notation)}‖"] = run.trace.norms("dc_prevt")
        chart(norm_chart(norms, current_t=t, log=True), state, "lesson_norms")
    if config.bug:
        correct = cached_run(replace(config, bug=None))
        first = run.trace.first_divergence(correct.trace)
        if first is not None:
            where = "after the loop" if first.t is None else f"at t = {first.t}"
            st.markdown(f"Against the correct code, this run first departs {where}, in "
                        f"`{label(first.quantity, config.cell, notation)}`.")
elif step.page == "gradient_flow":
    flows = cached_flows(replace(config, cell="rnn"))
    titles = {"rnn": "RNN", "lstm": "LSTM, the same input and loss", "gru": "GRU, the same input and loss"}
    for column, cell in zip(st.columns(len(CELLS)), CELLS):
        with column:
            chart(flow_chart(flows[cell], title=titles[cell]), state, f"lesson_flow_{cell}", 1 / len(CELLS))
elif step.page == "itemized":
    itemized = cached_itemized(config)
    chart(fractions_chart(itemized, itemized.keys), state, "lesson_fractions")

st.page_link(f"pages/{step.page}.py", label=f"Open this in the {PAGE_NAMES[step.page]}",
             icon=":material/open_in_new:", query_params=keep(state, step.params))
back, _, forward = st.columns([1, 3, 1])
back.button("◀ Back", on_click=go, args=(number - 1,), disabled=number == 1, key="lesson_back", shortcut="Left",
            width="stretch")
forward.button("Next ▶", on_click=go, args=(number + 1,), disabled=number == len(LESSON), key="lesson_next", shortcut="Right",
               width="stretch", type="primary")
with st.expander("Every step of the lesson (each link opens that step)", expanded=not state.present):
    for k, each in enumerate(LESSON, start=1):
        st.page_link("pages/lesson.py", label=f"{k}. {each.title}", query_params=keep(state, {"lesson": str(k)}),
                     disabled=k == number)
