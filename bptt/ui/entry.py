"""Every page runs through app.py, even when a visitor's first link goes straight to it."""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def through_app() -> None:
    """Rerun through app.py if Streamlit started this page file on its own.

    Streamlit keeps a process-wide flag saying the app uses the old `pages/` folder
    convention, set because the folder exists, and cleared only once app.py has called
    st.navigation. Until then a deep link such as /lesson?lesson=3 runs pages/lesson.py
    alone: no page config, a file-name sidebar. Clearing the flag and rerunning makes
    this run, and every later one, start from app.py, which keeps the URL's page and query.
    The rerun happens only on a visit's first run, where it cannot swallow a button click.
    (AppTest resets the flag before every run, so later runs there go on as they are.)
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if len(st.session_state) == 0:
            st.rerun()
