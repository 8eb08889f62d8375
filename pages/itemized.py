"""Itemized gradients: how much of dWaa (dWax, dba; the LSTM's dW*, db*) came from each timestep's loss."""

import numpy as np
import streamlit as st

from bptt.catalog import get_bug
from bptt.figures import heatmap
from bptt.figures.itemize import fractions_chart, reach_chart, shares_chart
from bptt.itemize import LSTM_KEYS, RNN_KEYS
from bptt.ui.cache import cached_run
from bptt.ui.entry import through_app
from bptt.ui.teaching import (
    between,
    cached_itemized,
    chart,
    debugger_link,
    keep_readable,
    page_state,
    presenter,
    show_messages,
    stepper_params,
)

through_app()

state, own, messages = page_state(own=("grad",))
presenter(state)
st.title("Itemized gradients")
show_messages(messages)
config = state.config
keys = RNN_KEYS if config.cell == "rnn" else LSTM_KEYS
key = own.get("grad", "dWaa" if config.cell == "rnn" else "dWf")
if key not in keys:
    show_messages([f"grad={key} is not a weight gradient of the {config.cell.upper()}; use one of "
                   f"{', '.join(keys)}. Showing {keys[0]}."])
    key = keys[0]
st.markdown(
    "The same weights are used at every step, and the loss is a sum over timesteps, so every weight gradient is a "
    "sum too. Running the backward with only the loss at step s (da zero everywhere but column s) gives that loss's "
    "**share**; the shares add up exactly to the gradient `rnn_backward` returns. A loss at step s reaches steps "
    "s, s-1, …, 0 only, and less of it arrives the further back it has to flow."
)
run_line = (f"{config.cell.upper()}, scenario **{config.scenario}**, n_x = {config.n_x}, n_a = {config.n_a}, "
            f"m = {config.m}, T_x = {config.T_x}")
if config.bug:
    run_line += f", with the bug **{get_bug(config.bug).title}**"
st.caption(f"This run: {run_line}. Change it in the step-through debugger, which links back here.")
try:
    itemized = cached_itemized(config)
except ValueError as e:
    st.error(f"Cannot itemize this run: {e}.", icon=":material/error:")
    st.stop()

chart(fractions_chart(itemized, keys), state, "fractions")
keep_readable("itemized_grad", lambda v: v in keys, key)
choice = st.selectbox("Gradient", keys, index=keys.index(key), key="itemized_grad",
                      help="The gradient shown per source and per step below.")
if choice != key:
    st.query_params["grad"] = choice
    key = choice
left, right = st.columns(2)
with left:
    chart(shares_chart(itemized, key), state, "shares")
with right:
    chart(reach_chart(itemized, key), state, "reach")

T_x = itemized.T_x
keep_readable("itemized_source", between(0, T_x - 1, whole=True), T_x - 1)
source = st.slider("Source: the loss at t =", 0, T_x - 1, T_x - 1, key="itemized_source") if T_x > 1 else 0
share, total = itemized.shares[key][source], cached_run(config).trace.gradients()[key]
zmax = float(np.max(np.abs(total[np.isfinite(total)]), initial=0.0)) or None
a, b = st.columns(2)
with a:
    chart(heatmap(share, title=f"{key} from the loss at t = {source}", quantity=key, scope="share", zmax=zmax,
                  cols="column", rows="row"), state, "share")
with b:
    chart(heatmap(total, title=f"{key}, as the backward returns it", quantity=key, scope="total", zmax=zmax,
                  cols="column", rows="row"), state, "total")
with np.errstate(all="ignore"):
    gap = float(np.max(np.abs(total - itemized.total(key)), initial=0.0))
st.caption(f"The {T_x} shares of {key} add up to what the backward returns (largest difference {gap:.1e}); both "
           "heatmaps use the same colour scale, so the share's colours compare with the whole.")
debugger_link("Open this run in the step-through debugger", stepper_params(config, state.t), state)
