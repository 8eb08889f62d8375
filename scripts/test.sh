#!/usr/bin/env bash
# Set up everything the tests need on a fresh Debian machine, then run the whole suite,
# browser tests included. Extra arguments go to pytest: scripts/test.sh -k trace
set -euo pipefail
cd "$(dirname "$0")/.."

missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"  # the checker's sandbox, tested at every layer
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing="$missing nginx"  # replicas behind a proxy
if [ -n "$missing" ]; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq $missing >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt

status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" = 5 ]; then
  echo "scripts/test.sh: pytest collected no tests; that is a failure, not a pass" >&2
fi
exit "$status"
