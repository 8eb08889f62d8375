#!/usr/bin/env bash
# Set up the app's packages in .venv and start it: streamlit run app.py (extra arguments go to streamlit).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m streamlit run app.py "$@"
