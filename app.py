"""The BPTT visual debugger: streamlit run app.py

One line per page below; the first one is the page a visitor lands on.
"""

from pathlib import Path

import streamlit as st

from bptt.ui.memory import collect_at_most_every, freeze_once
from bptt.ui.network import disable_nagle_once
from bptt.ui.widget_values import forgive_odd_widget_values_once

disable_nagle_once()  # every click's messages leave at once, not 40 ms apart (bptt/ui/network.py)
forgive_odd_widget_values_once()  # a widget value no browser would send reads as none, on every page

# The favicon travels inside the page as an SVG data URL: a Material icon would be fetched from Google's font
# server, which an offline classroom (and the browser tests' no-outside-requests check) does not have, and an
# emoji made streamlit compile its emoji regex (0.2 s) on the first visit.
st.set_page_config(page_title="BPTT debugger", page_icon=Path(__file__).parent / "bptt" / "ui" / "favicon.svg",
                   layout="wide")

pages = [
    st.Page("pages/stepper.py", title="Step through", icon=":material/footprint:", default=True),
    st.Page("pages/gradient_flow.py", title="Gradient flow", icon=":material/trending_down:"),
    st.Page("pages/gallery.py", title="Bug gallery", icon=":material/bug_report:"),
    st.Page("pages/itemized.py", title="Itemized gradients", icon=":material/stacked_bar_chart:"),
    st.Page("pages/lesson.py", title="Lesson", icon=":material/school:"),
    st.Page("pages/check.py", title="Check your code", icon=":material/fact_check:"),
]

st.navigation(pages).run()
freeze_once()  # the first run has imported what every run needs: the collector need not walk it again
collect_at_most_every(20.0)  # cyclic garbage from the runs since (bptt/ui/memory.py)
