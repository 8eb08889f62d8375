"""Itemized gradients: how much of dWaa (dWax, dba; the LSTM's and GRU's dW*, db*) came from each timestep's loss."""

import numpy as np
import streamlit as st

from bptt.catalog import get_bug
from bptt.figures import heatmap
from bptt.figures.itemize import fractions_chart, reach_chart, shares_chart
from bptt.figures.notation_view import axes, label, shown, sizes, split, words
from bptt.itemize import KEYS
from bptt.notation import FUNCTIONS
from bptt.ui.cache import cached_run
from bptt.ui.entry import through_app
from bptt.ui.teaching import (
    between,
    cached_itemized,
    chart,
    debugger_link,
    keep_readable,
    notation_switch,
    page_state,
    presenter,
    show_messages,
    stepper_params,
)

through_app()

state, own, messages = page_state(own=("grad",))
presenter(state)
state = notation_switch(state)
notation = state.notation
st.title("Itemized gradients")
show_messages(messages)
config = state.config
cell = config.cell
keys = KEYS[cell]
key = own.get("grad", {"rnn": "dWaa", "lstm": "dWf", "gru": "dWh"}[cell])
if key not in keys:
    show_messages([f"grad={key} is not a weight gradient of the {cell.upper()}; use one of "
                   f"{', '.join(keys)}. Showing {keys[0]}."])
    key = keys[0]


def named(k: str) -> str:
    """A gradient's name in the page's notation (the URL's grad= keeps the course's)."""
    return label(k, cell, notation)


backward = FUNCTIONS[f"{cell}_backward"] if notation == "cs231n" else f"{cell}_backward"
st.markdown(words(
    "The same weights are used at every step, and the loss is a sum over timesteps, so every weight gradient is a "
    "sum too. Running the backward with only the loss at step s (`da` zero everywhere but at step s) gives that loss's "
    f"**share**; the shares add up exactly to the gradient `{backward}` returns. A loss at step s reaches steps "
    "s, s-1, …, 0 only, and less of it arrives the further back it has to flow.", cell, notation,
))
run_line = f"{cell.upper()}, scenario **{config.scenario}**, {sizes(config, notation)}"
if config.bug:
    run_line += f", with the bug **{get_bug(config.bug).title}**"
st.caption(f"This run: {run_line}. Change it in the step-through debugger, which links back here.")
try:
    itemized = cached_itemized(config)
except ValueError as e:
    st.error(f"Cannot itemize this run: {e}.", icon=":material/error:")
    st.stop()

chart(fractions_chart(itemized, keys, {k: named(k) for k in keys}), state, "fractions")
keep_readable("itemized_grad", lambda v: v in keys, key)
choice = st.selectbox("Gradient", keys, index=keys.index(key), key="itemized_grad", format_func=named,
                      help="The gradient shown per source and per step below.")
if choice != key:
    st.query_params["grad"] = choice
    key = choice
left, right = st.columns(2)
with left:
    chart(shares_chart(itemized, key, named(key)), state, "shares", 1 / 2)
with right:
    chart(reach_chart(itemized, key, named(key)), state, "reach", 1 / 2)

T_x = itemized.T_x
keep_readable("itemized_source", between(0, T_x - 1, whole=True), T_x - 1)
source = st.slider("Source: the loss at t =", 0, T_x - 1, T_x - 1, key="itemized_source") if T_x > 1 else 0
share, total = itemized.shares[key][source], cached_run(config).trace.gradients()[key]
zmax = float(np.max(np.abs(total[np.isfinite(total)]), initial=0.0)) or None
columns = "sum over examples" if key.startswith("db") else {"dWax": "input", "dWaa": "unit of a_prev"}.get(
    key, "[a_prev; xt] column")
rows, cols = axes(total, "unit", columns, notation)
divider = split(total, config.n_a if cell != "rnn" and key.startswith("dW") else None, notation)
a, b = st.columns(2)
with a:
    chart(heatmap(shown(share, notation), title=f"{named(key)} from the loss at t = {source}", quantity=named(key),
                  scope="share", zmax=zmax, rows=rows, cols=cols, **divider), state, "share", 1 / 2)
with b:
    chart(heatmap(shown(total, notation), title=f"{named(key)}, as {backward} returns it", quantity=named(key),
                  scope="total", zmax=zmax, rows=rows, cols=cols, **divider), state, "total", 1 / 2)
with np.errstate(all="ignore"):
    gap = float(np.max(np.abs(total - itemized.total(key)), initial=0.0))
st.caption(f"The {T_x} shares of {named(key)} add up to what the backward returns (largest difference {gap:.1e}); both "
           "heatmaps use the same colour scale, so the share's colours compare with the whole.")
debugger_link("Open this run in the step-through debugger", stepper_params(config, state.t), state)
