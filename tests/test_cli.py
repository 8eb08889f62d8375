"""python -m bptt: help, the catalog listing, the gradient check."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gradcheck_passes_on_the_course_example(cell):
    out = bptt("gradcheck", "--cell", cell)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().splitlines()[-1].startswith("OK: every gradient agrees")


def test_the_bugs_listing_of_one_cell_keeps_every_id_whole_in_its_column():
    out = bptt("bugs", "--cell", "gru")
    rows = out.stdout.strip().splitlines()
    assert out.returncode == 0 and [r.split()[0] for r in rows] == [b.id for b in BUGS if b.cell == "gru"]
    assert len({r.index(" gru ") for r in rows}) == 1  # one column, however long the longest id


def test_unknown_subcommand_is_a_usage_error():
    out = bptt("frobnicate")
    assert out.returncode == 2 and "invalid choice" in out.stderr
