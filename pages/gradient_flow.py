"""Gradient flow: watch the carried gradient vanish or explode, RNN and LSTM side by side, and see why."""

from dataclasses import replace

import streamlit as st

from bptt.figures.flow import flow_chart
from bptt.flow import telling_step
from bptt.scenarios import SCENARIOS
from bptt.ui.entry import through_app
from bptt.ui.teaching import (
    between,
    cached_flows,
    chart,
    debugger_link,
    keep_readable,
    page_state,
    presenter,
    show_messages,
    stepper_params,
)

through_app()

PRESETS = {"vanishing": "Vanishing (ρ = 0.5)", "exploding": "Exploding (ρ = 1.5)"}
SCALE = (0.1, 3.0)  # slider range of the spectral radius
T_RANGE = (2, 100)

state, _, messages = page_state(defaults={"scenario": "vanishing"})
presenter(state)
st.title("Gradient flow")
show_messages(messages)
config = state.config
if config.scenario not in PRESETS:
    st.warning(f"This page compares the cells on the vanishing and exploding scenarios; scenario={config.scenario} "
               "does not apply here, so it shows scenario=vanishing.", icon=":material/warning:")
    config = SCENARIOS["vanishing"].defaults
config = replace(config, cell="rnn", bug=None, scale=min(max(config.scale, SCALE[0]), SCALE[1]),
                 T_x=min(max(config.T_x, T_RANGE[0]), T_RANGE[1]))

# widgets own their values between reruns; a URL that brings new values (a preset link) re-seeds them
for key, value in (("flow_scenario", config.scenario), ("flow_scale", float(config.scale)), ("flow_T_x", config.T_x)):
    if st.session_state.get(f"{key}_from_url") != value:
        st.session_state[key] = st.session_state[f"{key}_from_url"] = value

keep_readable("flow_scenario", lambda v: v in PRESETS, config.scenario)
keep_readable("flow_scale", between(*SCALE), float(config.scale))
keep_readable("flow_T_x", between(*T_RANGE, whole=True), config.T_x)


def on_preset() -> None:
    chosen = st.session_state.get("flow_scenario")
    if chosen in PRESETS:  # anything else is put back by keep_readable before it is read
        st.session_state.flow_scale = SCENARIOS[chosen].defaults.scale


controls = st.columns([2, 3, 3])
with controls[0]:
    scenario = config.scenario if state.hidden("scenario") else st.radio(
        "Preset", list(PRESETS), format_func=PRESETS.get, key="flow_scenario", disabled=state.locked("scenario"),
        on_change=on_preset,
    )
with controls[1]:
    scale = config.scale if state.hidden("scale") else st.slider(
        "Spectral radius ρ of Waa (the weight scale)", *SCALE, step=0.05, key="flow_scale",
        disabled=state.locked("scale"))
with controls[2]:
    T_x = config.T_x if state.hidden("T_x") else st.slider(
        "Sequence length T_x", *T_RANGE, key="flow_T_x", disabled=state.locked("T_x"))
config = replace(config, scenario=scenario, scale=float(scale), T_x=int(T_x))
url = stepper_params(config)
for key, value in (("flow_scenario", scenario), ("flow_scale", float(scale)), ("flow_T_x", int(T_x))):
    st.session_state[f"{key}_from_url"] = value
st.query_params.from_dict({**url, **({"present": "1"} if state.present else {})})

try:
    flows = cached_flows(config)
except ValueError as error:  # sizes whose Jacobian products would take too long: say so, keep serving
    st.error(f"{error}. Lower n_a or m in the link, or open a preset above.", icon=":material/error:")
    st.stop()
rnn, lstm = flows["rnn"], flows["lstm"]
t = telling_step(rnn)
st.markdown(
    f"**One loss at the last step, t = {T_x - 1}, and nothing else.** Going back one step, the RNN's gradient is "
    f"multiplied by `Waa.T` and by `1 - a²` (tanh's slope, at most 1), so after k steps it has been through a product "
    f"of k such matrices: it shrinks or grows like ρ(Waa)^k, with ρ = {rnn.radius:.2f} here. The dashed line is the "
    "norm of that product; the gradient follows it. The LSTM also carries `dc_prevt` through its cell state, where "
    "each step multiplies only by the forget gate `f`: no matrix, no `tanh'`, so it can carry the gradient far back."
)
left, right = st.columns(2)
with left:
    st.metric("Spectral radius ρ(Waa)", f"{rnn.radius:.3f}",
              help="Largest |eigenvalue| of Waa. Below 1 the gradient vanishes, above 1 it can explode.")
    chart(flow_chart(rnn, title="RNN"), state, "flow_rnn")
    debugger_link(f"Open the RNN at t = {t} in the step-through debugger", {**url, "t": str(t)}, state)
with right:
    st.metric("Cell-state path ∏ f back to t = 0", f"{lstm.path[0]:.3g}",
              help="The largest product of the forget gates from the last step back to the first: what is left of "
                   "the cell-state gradient along its own path.")
    chart(flow_chart(lstm, title="LSTM, the same input and loss"), state, "flow_lstm")
    lstm_url = stepper_params(replace(config, cell="lstm"))
    debugger_link(f"Open the LSTM at t = {t} in the step-through debugger", {**lstm_url, "t": str(t)}, state)
st.caption(
    f"Both cells read the same x and the same da (the RNN scenario's draws, seed {config.seed}); each has its own "
    "weights. In the debugger the LSTM opens with its own draws of the same scenario, so its numbers differ a little. "
    "The LSTM's ρ is that of the forget gate's recurrent block. Zeros (nothing carried into the last step) cannot "
    "be drawn on a log scale and are left out."
)
