"""Gradient flow: watch the carried gradient vanish or explode, RNN, LSTM and GRU side by side, and see why;
then cut it every k steps (truncated BPTT) and see what that costs and what it saves."""

from dataclasses import replace

import streamlit as st

from bptt.figures.flow import flow_chart
from bptt.figures.notation_view import label, words
from bptt.figures.truncation import carried_label, truncation_chart
from bptt.flow import telling_step
from bptt.scenarios import CELLS, SCENARIOS
from bptt.truncation import compare
from bptt.ui.cache import cached_run
from bptt.ui.entry import through_app
from bptt.ui.teaching import (
    between,
    cached_flows,
    chart,
    debugger_link,
    keep,
    keep_readable,
    notation_switch,
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
state = notation_switch(state)
notation = state.notation
st.title("Gradient flow")
show_messages(messages)
config = state.config
if config.scenario not in PRESETS:
    st.warning(f"This page compares the cells on the vanishing and exploding scenarios; scenario={config.scenario} "
               "does not apply here, so it shows scenario=vanishing.", icon=":material/warning:")
    config = SCENARIOS["vanishing"].defaults
T_x = min(max(config.T_x, T_RANGE[0]), T_RANGE[1])
config = replace(config, cell="rnn", bug=None, scale=min(max(config.scale, SCALE[0]), SCALE[1]), T_x=T_x,
                 truncate=min(config.truncate, T_x), randomized=config.randomized and config.truncate >= 2)
SEEDED = (("flow_scenario", config.scenario), ("flow_scale", float(config.scale)), ("flow_T_x", config.T_x),
          ("flow_truncate", config.truncate), ("flow_randomized", config.randomized))

# widgets own their values between reruns; a URL that brings new values (a preset link) re-seeds them
for key, value in SEEDED:
    if st.session_state.get(f"{key}_from_url") != value:
        st.session_state[key] = st.session_state[f"{key}_from_url"] = value

keep_readable("flow_scenario", lambda v: v in PRESETS, config.scenario)
keep_readable("flow_scale", between(*SCALE), float(config.scale))
keep_readable("flow_T_x", between(*T_RANGE, whole=True), config.T_x)
keep_readable("flow_truncate", between(0, T_RANGE[1], whole=True), config.truncate)
keep_readable("flow_randomized", lambda v: isinstance(v, bool), config.randomized)


def steps_text(steps: tuple) -> str:
    """'19, 14, 9' or, for a long run of steps, '24 … 0 (25 steps)': the backward's order, latest first."""
    return ", ".join(map(str, steps)) if len(steps) <= 6 else f"{steps[0]} … {steps[-1]} ({len(steps)} steps)"


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
        f"Spectral radius ρ of {label('Waa', 'rnn', notation)} (the weight scale)", *SCALE, step=0.05,
        key="flow_scale",
        disabled=state.locked("scale"))
with controls[2]:
    T_x = config.T_x if state.hidden("T_x") else st.slider(
        f"Sequence length {'T' if notation == 'cs231n' else 'T_x'}", *T_RANGE, key="flow_T_x",
        disabled=state.locked("T_x"))
T_x = int(T_x)
if st.session_state.get("flow_truncate", 0) > T_x:  # a shorter sequence cannot be cut every k > T_x steps
    st.session_state.flow_truncate = T_x
truncation = st.columns([5, 3])
with truncation[0]:
    truncate = config.truncate if state.hidden("truncate") else st.slider(
        "Truncated BPTT: cut the carried gradient every k steps (0: full BPTT)", 0, T_x, key="flow_truncate",
        disabled=state.locked("truncate"), help="d2l.ai's truncated BPTT: the gradient is detached every k steps.")
with truncation[1]:
    randomized = config.randomized if state.hidden("truncate") else st.toggle(
        "Randomized, k the mean length (Tallec & Ollivier)", key="flow_randomized",
        disabled=state.locked("truncate") or truncate < 2,
        help="Each link is cut with probability 1/k and every kept one scaled by 1/(1 - 1/k): unbiased on average. "
             "The draws come from the run's seed. Needs k ≥ 2.")
config = replace(config, scenario=scenario, scale=float(scale), T_x=T_x, truncate=int(truncate),
                 randomized=bool(randomized) and truncate >= 2)
url = stepper_params(config)
for key, value in (("flow_scenario", scenario), ("flow_scale", float(scale)), ("flow_T_x", T_x),
                   ("flow_truncate", config.truncate), ("flow_randomized", config.randomized)):
    st.session_state[f"{key}_from_url"] = value
st.query_params.from_dict(keep(state, url))
full = replace(config, truncate=0, randomized=False)

try:
    flows = cached_flows(full)
except ValueError as error:  # sizes whose Jacobian products would take too long: say so, keep serving
    st.error(f"{error}. Lower n_a or m in the link, or open a preset above.", icon=":material/error:")
    st.stop()
rnn, lstm, gru = flows["rnn"], flows["lstm"], flows["gru"]
t = telling_step(rnn)
da_prevt, Waa = label("da_prevt", "rnn", notation), label("Waa", "rnn", notation)
st.markdown(words(
    f"**One loss at the last step, t = {T_x - 1}, and nothing else.** Going back one step, the RNN's gradient is "
    f"multiplied by `{Waa}` (transposed) and by `1 - a²` (tanh's slope, at most 1), so after k steps it has been "
    f"through a product of k such matrices: it shrinks or grows like ρ({Waa})^k, with ρ = {rnn.radius:.2f} here. The "
    f"dashed line is the norm of that product; the gradient follows it. The LSTM also carries "
    f"`{label('dc_prevt', 'lstm', notation)}` through its cell state, where each step multiplies only by the forget "
    "gate `f`: no matrix, no `tanh'`, so it can carry the gradient far back. **Why gating helps:** the GRU has the "
    f"same kind of path on its hidden state itself, `a_next = z * a_prev + (1 - z) * h̃`, so `{da_prevt}` keeps a "
    "share `z` of what arrives at every step, with no matrix on that share.", "rnn", notation
))
columns = st.columns(3)
metrics = {
    "rnn": (f"Spectral radius ρ({Waa})", f"{rnn.radius:.3f}",
            f"Largest |eigenvalue| of {Waa}. Below 1 the gradient vanishes, above 1 it can explode."),
    "lstm": ("Cell-state path ∏ f back to t = 0", f"{lstm.path[0]:.3g}",
             "The largest product of the forget gates from the last step back to the first: what is left of "
             "the cell-state gradient along its own path."),
    "gru": ("Direct path ∏ z back to t = 0", f"{gru.path[0]:.3g}",
            "The largest product of the update gates from the last step back to the first: what is left of the "
            "hidden state's gradient along its own path, a_next = z * a_prev + (1 - z) * h̃."),
}
titles = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}  # the same input and loss: the caption says so
for column, cell in zip(columns, CELLS):
    with column:
        st.metric(*metrics[cell][:2], help=metrics[cell][2])
        chart(flow_chart(flows[cell], title=titles[cell], notation=notation), state, f"flow_{cell}", 1 / len(CELLS))
        debugger_link(f"Step through the {cell.upper()} from t = {t}",
                      {**stepper_params(replace(full, cell=cell)), "t": str(t)}, state)
st.caption(
    f"The three cells read the same x and the same da (the RNN scenario's draws, seed {config.seed}); each has its own "
    "weights. In the debugger the LSTM and the GRU open with their own draws of the same scenario, so their numbers "
    "differ a little. The LSTM's ρ is that of the forget gate's recurrent block, the GRU's that of the candidate's "
    "block on a_prev. Zeros (nothing carried into the last step) cannot be drawn on a log scale and are left out."
)

st.subheader("Truncated BPTT: what is cut, what it costs, what it saves")
if config.truncate == 0:
    st.markdown("Full BPTT carries the gradient all the way back. Set k above to cut it every k steps, as d2l.ai's "
                "truncated BPTT detaches the hidden state, and see the bias that puts in the recurrent weights' "
                "gradient.")
else:
    how = (f"each link cut with probability 1/{config.truncate} (chunks {config.truncate} steps long on average), "
           f"every kept one scaled by {config.truncate / (config.truncate - 1):.3g}" if config.randomized
           else f"cut every {config.truncate} steps")
    st.markdown(
        f"Each cell runs its own draws of this scenario twice: full BPTT, and {how}. A cut sets the gradient carried "
        "into a step to zero: what the loss at later steps says about earlier steps is thrown away. Its price is a "
        "**bias** in the recurrent weights' gradient, the relative error below; its use is that an exploding gradient "
        "cannot grow across a cut."
    )
    recurrent = {"rnn": label("dWaa", "rnn", notation), "lstm": "the a_prev columns of dWf, dWi, dWc, dWo",
                 "gru": "the a_prev columns of dWr, dWz, dWh"}
    if notation == "cs231n":
        recurrent |= {"lstm": "dWh (all four gates)", "gru": "dWh (all three gates)"}
    short = {"rnn": recurrent["rnn"], "lstm": "dW[:, :n_a]", "gru": "dW[:, :n_a]"} if notation == "course" else {
        cell: "dWh" for cell in CELLS}
    for column, cell in zip(st.columns(3), CELLS):
        truncated_run = cached_run(replace(config, cell=cell))
        comparison = compare(truncated_run.trace, cached_run(replace(full, cell=cell)).trace)
        with column:
            st.metric(f"{cell.upper()}: bias in {short[cell]}", f"{comparison.recurrent_bias:.1%}",
                      help=f"The relative error of {recurrent[cell]}: |g_truncated − g_full| / |g_full| against full "
                           "BPTT on the same input (Frobenius norms).")
            cut = steps_text(comparison.cut) or "none"
            stopped = (f"it stops an explosion at t = {steps_text(comparison.stopped)}" if comparison.stopped
                       else "nothing to stop: the full run's gradient never grows past what the truncated one carries")
            st.markdown(f"**Cut:** `{carried_label(cell, notation)}` into t = {cut}. **Explosion:** {stopped}.")
            chart(truncation_chart(comparison, cell, notation=notation), state, f"truncation_{cell}", 1 / len(CELLS))
            debugger_link(f"Step through the truncated {cell.upper()}",
                          stepper_params(replace(config, cell=cell)), state)
