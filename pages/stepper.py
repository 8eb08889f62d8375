"""Step through: the backward loop one step at a time, from t = T_x-1 down to 0 (the default page).

The run is computed once per configuration (cached); the stepping panel is a fragment, so moving
between steps reruns only the panel and never the backward.
"""

from dataclasses import replace

import streamlit as st

from bptt.catalog import get_bug
from bptt.ui import controls, panels, stepping
from bptt.ui.browser_stepper import asked_t, browser_step_panel, norms_panel, timeline_panel
from bptt.ui.cache import (
    cached_difference_ranges,
    cached_divergence,
    cached_run,
    cached_summary,
)
from bptt.ui.controls import P
from bptt.ui.entry import through_app
from bptt.ui.teaching import odd_values

through_app()

def in_browser(state, run) -> bool:
    """A run that raised nowhere steps in the browser (a large one a few steps at a time); stepping=server on the server."""
    return (state.stepping == "browser" and not state.hidden("heatmaps") and not state.hidden("step")
            and run.trace.error is None)


def step_options(state, config):
    """The autoscale and bug-minus-correct toggles: (autoscale, the correct run to subtract or None)."""
    options = st.columns(2)
    autoscale = options[0].toggle("Autoscale each panel", key=P + "autoscale",
                                  help="Off: one colour range per quantity over all steps, so colours compare "
                                       "between steps. On: each panel uses its own range.")
    correct = None
    if config.bug is not None and not state.hidden("compare"):
        if options[1].toggle("Show bug minus correct code", key=P + "diff",
                             help="Difference from the correct code's run on the same input, at this step"):
            correct = cached_run(replace(config, bug=None))
    return autoscale, correct


def step_panel(state, config, playing: bool, speed: float) -> None:
    ss = st.session_state
    run, summary = cached_run(config), cached_summary(config)
    trace = run.trace
    browser = in_browser(state, run)
    if not browser and (ss.get(P + "play", False) != playing or (playing and ss.get(P + "speed") != speed)):
        st.rerun(scope="app")  # play was switched or its speed changed: the panel's timer must follow
    if not browser and playing and stepping.due(speed) and not stepping.advance(trace):
        ss[P + "play"] = False
        st.rerun(scope="app")
    if browser and asked_t() is not None:
        ss[P + "t"] = ss.pop(P + "browser-t")  # the step the browser shows now
    t = stepping.current(trace)
    steps = stepping.steps_of(trace)
    controls.commit(ss[P + "state"], config, None if t == steps[0] else t)
    step_label = stepping.label(trace, t)
    if browser:
        panels.marks_panel(run, t, step_label)  # for the server's own record; the browser's marks replace it
        mount = st.container()  # the step first, its options under it: the first screen is the step
        autoscale, correct = step_options(state, config)
        ranges = (None if autoscale else cached_difference_ranges(config)) if correct is not None else (
            None if autoscale else summary.ranges)
        note = f"Bug on: {get_bug(config.bug).title}" if config.bug else ""
        with mount:
            browser_step_panel(run, ranges, state, t, reference=correct, note=note)
        step = trace.step(t)
    else:
        st.subheader(f"◀ {step_label}")
        panels.marks_panel(run, t, step_label)
        stepping.navigation(trace, state, t)
        stepping.play_controls(state, trace)
        at_error = trace.error is not None and t == trace.error.t
        step = None if at_error else trace.step(t)
        if at_error:
            st.info(f"This step raised before it produced anything, so there is nothing to draw: {trace.error.kind} "
                    f"at `{trace.error.quantity}`. The code below shows the wrong line with numpy's message.")
        elif not state.hidden("heatmaps"):
            autoscale, correct = step_options(state, config)
            reference = correct.trace.step(t) if correct is not None and t in correct.trace.position else None
            panels.step_heatmaps(run, step, summary, reference=reference,
                                 diff_ranges=cached_difference_ranges(config) if reference is not None else None,
                                 autoscale=autoscale, columns=2 if state.present else 3, notation=state.notation)
    if not state.hidden("export"):
        with st.expander(f"Export (step t = {t})" if browser else "Export"):
            panels.export_panel(run, step)


state, messages = controls.resolve()
if state.present:
    panels.presenter_css()
panels.layout_css(state.present)
odd = controls.odd_widgets(state)
config = controls.sidebar(state)
with st.container(key="bptt-messages"):  # stays above the step in the projector layout
    for message in messages:
        st.warning(f"URL parameter `{message.param}`: {message.text}", icon=":material/warning:")
    for text in odd_values() + [f"The control `{name}` received a value it cannot hold; it keeps the run's value."
                                for name in odd]:
        st.warning(text, icon=":material/warning:")
st.title("Step through backprop through time")
controls.famous_toggle(state)
try:
    run = cached_run(config)
except Exception as error:  # the page explains, the server keeps serving everyone else
    st.error(f"This run could not start: {error}. Change the sizes or the scenario in the sidebar.")
    st.stop()
trace = run.trace
keep = state.t if state.t in stepping.steps_of(trace) else None
if config != state.config or P + "t" not in st.session_state:
    st.session_state[P + "t"] = stepping.snap(trace, keep)
state = controls.commit(state, config, keep)

summary = cached_summary(config)
if trace.error is not None:
    panels.error_banner(run, stepping.label(trace, trace.error.t))
panels.bug_banners(run, summary, cached_divergence(config) if config.bug else None,
                   lambda t: stepping.label(trace, t))
if config.scenario == "course" and not state.hidden("notebook"):
    with st.expander("The values your notebook prints", expanded=config.bug is None):
        panels.notebook_panel(run, cached_run(replace(config, bug=None)) if config.bug else None)


if not state.hidden("timeline"):  # drawn once per run, above the panel: a step only restyles it (marks_panel)
    st.caption("Time runs to the right, t = 0 … T_x-1. The backward runs to the left: step 1 is the last time "
               "step, and each step hands the cell before it the gradient it carries (da_prevt).")
    timeline_panel(run, summary, state.present)
playing = bool(st.session_state.get(P + "play", False)) and not in_browser(state, run)
speed = float(st.session_state.get(P + "speed", 1.0))
with st.container(key="bptt-step"):  # the projector layout moves this container to the top (panels.layout_css)
    st.fragment(step_panel, run_every=1.0 / speed if playing else None)(state, config, playing, speed)
# the same at every step, so below the panel: marks_panel's stylesheet says which step runs in the code
if not state.hidden("code"):
    st.markdown("#### The code")
    panels.code_panel(run, state.notation)
if not state.hidden("norms") and trace.order:
    st.markdown("#### Gradient norm over time")
    log = st.toggle("Log scale", key=P + "log", value=config.scenario in ("vanishing", "exploding"))
    norms_panel(run, summary, log, state.present)
    st.markdown(panels.spectral_note(run))
st.page_link(
    "pages/itemized.py", label="Itemized gradients: which timestep's loss each part of dWaa came from",
    icon=":material/stacked_bar_chart:", query_params={k: v for k, v in st.query_params.to_dict().items() if k != "t"},
)
