#!/usr/bin/env bash
# Set up the app's packages in .venv and start it: streamlit run app.py (extra arguments go to streamlit).
# bubblewrap (Debian package) gives every check of a student's code its own sandbox; without it the
# checker falls back to weaker layers and says so on the check page (docs/CHECK.md).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq bubblewrap >/dev/null; } ||
    echo "scripts/app.sh: could not install bubblewrap; checks run without their sandbox (docs/CHECK.md)" >&2
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
# pip byte-compiles the packages it installs; this does the same for the app's own modules, which a machine
# with PYTHONDONTWRITEBYTECODE set would otherwise compile from source at every start (docs/PERFORMANCE.md)
.venv/bin/python -m compileall -q bptt >/dev/null
.venv/bin/python -c "from bptt.check import sandbox; print('Checking students\' code:', sandbox.isolation().description)"
exec .venv/bin/python -m streamlit run app.py "$@"
