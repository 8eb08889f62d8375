"""python -m bptt: help, the catalog listing, the gradient check."""

import json
import subprocess
import sys
from pathlib import Path

from bptt import BUGS

ROOT = Path(__file__).resolve().parent.parent


def bptt(*args):
    return subprocess.run([sys.executable, "-m", "bptt", *args], cwd=ROOT, capture_output=True, text=True)


def test_help_names_the_subcommands():
    out = bptt("--help")
    assert out.returncode == 0
    for word in ("bugs", "gradcheck", "streamlit run app.py"):
        assert word in out.stdout


def test_bugs_json_lists_the_whole_catalog():
    out = bptt("bugs", "--json")
    assert out.returncode == 0
    assert [row["id"] for row in json.loads(out.stdout)] == [bug.id for bug in BUGS]


def test_gradcheck_passes_on_the_course_example():
    out = bptt("gradcheck", "--cell", "lstm")
    assert out.returncode == 0
    assert out.stdout.strip().splitlines()[-1].startswith("OK: every gradient agrees")


def test_unknown_subcommand_is_a_usage_error():
    out = bptt("frobnicate")
    assert out.returncode == 2 and "invalid choice" in out.stderr
