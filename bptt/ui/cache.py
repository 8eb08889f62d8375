"""Runs and their summaries, cached per RunConfig with a bound, shared by every session.

A Run is never mutated after it is made, so sessions share one object (cache_resource) instead of
unpickling a copy per rerun (cache_data); that is what makes changing the step free. The bound
keeps memory in check: the largest allowed run holds several hundred MB.
"""

from dataclasses import replace

import streamlit as st

from ..runs import Run, run
from ..scenarios import RunConfig
from ..trace import Divergence
from .summary import Summary, difference_ranges, summarize

MAX_RUNS = 8


@st.cache_resource(max_entries=MAX_RUNS, show_spinner="Running the forward and the traced backward…")
def cached_run(config: RunConfig) -> Run:
    """run(config), once per config."""
    return run(config)


@st.cache_resource(max_entries=MAX_RUNS, show_spinner=False)
def cached_summary(config: RunConfig) -> Summary:
    """The run's colour ranges, norms and NaN/Inf, from one pass over its trace."""
    return summarize(cached_run(config).trace)


@st.cache_resource(max_entries=MAX_RUNS, show_spinner=False)
def cached_difference_ranges(config: RunConfig) -> dict:
    """Colour ranges of the buggy run minus the correct run on the same input."""
    return difference_ranges(cached_run(config).trace, cached_run(replace(config, bug=None)).trace)


@st.cache_resource(max_entries=MAX_RUNS, show_spinner=False)
def cached_divergence(config: RunConfig) -> Divergence | None:
    """Where the buggy run first departs from the correct run on the same input."""
    return cached_run(config).trace.first_divergence(cached_run(replace(config, bug=None)).trace)
