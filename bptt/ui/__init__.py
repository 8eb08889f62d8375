"""Streamlit helpers for the pages: the URL contract, caching, sidebar controls and panels.

Pages import from here; `import bptt` never does, so the numeric core stays free of streamlit.
"""
