"""Streamlit helpers shared by the teaching pages: their URL parameters, presenter layout, cached results.

The pages (gradient flow, bug gallery, itemized gradients, lesson) read the same URL contract
as the stepper (bptt.ui.state) plus a few names of their own, and link into the stepper with it.
"""

from dataclasses import replace

import plotly.graph_objects as go
import streamlit as st

from ..catalog import BUGS
from ..figures.spec import fit_titles, fit_values, with_larger_text
from ..flow import side_by_side
from ..itemize import Itemized, itemize
from ..notation import NOTATIONS
from ..runs import code_for, run
from ..scenarios import RunConfig
from ..symptoms import measure
from .cache import cached_run
from .controls import notation_radio
from .panels import presenter_css
from .state import PageState, parse, to_params
from .widget_values import dropped_values

STEPPER = "pages/stepper.py"  # the step-through debugger, the app's default page ("/")
PRESENT_FONT = 18  # plotly font size in the presenter layout
# the width charts get at the narrowest screen a class uses (1024 px): beside the sidebar, and presenting without it
PAGE_WIDTH = {False: 540, True: 960}


def page_state(own: tuple = (), defaults: dict | None = None) -> tuple:
    """(PageState, {own name: value}, [message]) from the URL: the contract's parameters plus the page's own.

    defaults fill contract parameters the URL leaves out (e.g. the gradient flow opens on scenario=vanishing).
    """
    params = st.query_params.to_dict()
    mine = {name: params.pop(name) for name in own if name in params}
    params = {**(defaults or {}), **params}
    state, messages = parse(params)
    return state, mine, [m.text for m in messages]


def show_messages(messages: list) -> None:
    """Every problem with the URL or a widget's value, in words, above the page: what was wrong and what the page
    did instead."""
    for text in messages + odd_values():
        st.warning(text, icon=":material/warning:")


def odd_values() -> list:
    """A sentence per widget whose value this session sent could not be read (a client that is not a browser)."""
    return [f"The control `{key.split(':')[-1]}` received a value it could not read; it was reset to its default."
            for key in dict.fromkeys(dropped_values())]


def keep_readable(key: str, readable, fallback) -> None:
    """Before a widget is drawn: a value it cannot hold (sent by a client that is not a browser) becomes `fallback`,
    and the page says so, instead of an exception deep in the page."""
    ss = st.session_state
    if key in ss and not readable(ss[key]):
        ss[key] = fallback
        st.warning(f"The control `{key}` received a value it cannot hold; it was reset.", icon=":material/warning:")


def between(low: float, high: float, whole: bool = False):
    """A test for keep_readable: a number from low to high (a whole one if asked); NaN, text and lists fail."""
    def readable(value) -> bool:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return number and low <= value <= high and (not whole or value == int(value))
    return readable


def presenter(state: PageState) -> None:
    """The presenter layout (?present=1): larger fonts, no sidebar, figures across the whole width."""
    if state.present:
        presenter_css()


def chart(fig: go.Figure, state: PageState, key: str, share: float = 1.0) -> None:
    """A plotly figure across its column, `share` of the page's width; no text under PRESENT_FONT px when presenting.

    Its titles wrap to the column's width at 1024 px (plotly cuts a line it cannot fit, it never wraps), and its
    heatmaps print their values only where they fit their cells.
    chart(heatmap(...), state, "share", share=1 / 2)  # in one of st.columns(2)
    """
    spec = fig.to_dict()
    if state.present:
        spec["layout"] |= dict(font=dict(size=PRESENT_FONT), height=int((fig.layout.height or 400) * 1.3))
        spec = with_larger_text(spec, PRESENT_FONT)
    width = PAGE_WIDTH[state.present] * share - (16 if share < 1 else 0)
    spec = fit_values(fit_titles(spec, width), width)
    st.plotly_chart(go.Figure(spec, skip_invalid=True), key=key, config={"displaylogo": False})


def keep(state: PageState, params: dict) -> dict:
    """Link parameters that carry the presenter layout and the notation along, so a class never drops out of them."""
    return {**params, **({"notation": state.notation} if state.notation != "course" else {}),
            **({"present": "1"} if state.present else {})}


def notation_switch(state: PageState) -> PageState:
    """The sidebar's notation switch, seeded from the URL and written back to it; the state in that notation.

    state = notation_switch(state)  # state.notation: 'course' or 'cs231n'
    """
    ss = st.session_state
    if ss.get("notation_from_url") != state.notation:  # a link brought a notation: it wins over the widget
        ss["notation"] = ss["notation_from_url"] = state.notation
    keep_readable("notation", lambda v: isinstance(v, str) and v in NOTATIONS, state.notation)
    if not state.hidden("notation"):
        with st.sidebar:
            notation_radio("notation", state.locked("notation"))
    chosen = ss.get("notation", state.notation)
    ss["notation_from_url"] = chosen
    if chosen != "course":
        st.query_params["notation"] = chosen
    elif "notation" in st.query_params:
        del st.query_params["notation"]
    return replace(state, notation=chosen)


def debugger_link(label: str, params: dict, state: PageState) -> None:
    """A link into the step-through debugger in the state `params` describes (the URL contract)."""
    st.page_link(STEPPER, label=label, icon=":material/open_in_new:", query_params=keep(state, params))


def stepper_params(config: RunConfig, t: int | None = None) -> dict:
    """The contract's parameters that open the stepper on `config` at step t."""
    return to_params(PageState(config, t))


@st.cache_resource(max_entries=16, show_spinner="Running both cells…")
def cached_flows(config: RunConfig) -> dict:
    """side_by_side(config), once per config."""
    return side_by_side(config)


@st.cache_resource(max_entries=8, show_spinner="Itemizing: one backward per timestep…")
def cached_itemized(config: RunConfig) -> Itemized:
    """The run's weight gradients split by source timestep; ValueError (not cached) for sizes or raising code."""
    shown = cached_run(config)
    return itemize(shown.da, shown.caches, config.cell, code_for(config))


@st.cache_resource(max_entries=8, show_spinner="Running every bug on this input…")
def cached_symptoms(config: RunConfig) -> tuple:
    """Every catalog bug measured on the input `config` describes, in catalog order; the correct runs once per cell."""
    correct = {cell: run(replace(config, cell=cell, bug=None)) for cell in {bug.cell for bug in BUGS}}
    return tuple(measure(bug, replace(config, cell=bug.cell, bug=None), correct[bug.cell]) for bug in BUGS)
