"""The command-line interface: one subcommand per job, each a small function."""

import argparse
import json
import sys
from dataclasses import replace

import numpy as np

from .catalog import BUGS
from .gradcheck import gradient_check
from .scenarios import SCENARIOS, make_inputs

CELLS = ("rnn", "lstm", "gru")


def _bugs(args: argparse.Namespace) -> int:
    """List the bug catalog."""
    rows = [b for b in BUGS if args.cell in (None, b.cell)]
    if args.json:
        print(json.dumps([{"id": b.id, "cell": b.cell, "title": b.title, "function": b.function,
                           "wrong": b.wrong, "right": b.right, "symptom": b.symptom} for b in rows]))
        return 0
    width = max((len(b.id) for b in rows), default=0)
    for b in rows:
        print(f"{b.id:{width}} {b.cell:5} {b.title}")
    return 0


def _gradcheck(args: argparse.Namespace) -> int:
    """Check the course's backward against central differences on a scenario."""
    config = replace(SCENARIOS[args.scenario].defaults, cell=args.cell)
    inputs = make_inputs(config)
    if inputs.da is None:
        print(f"scenario {args.scenario!r} takes da from a loss; choose one with a given da")
        return 2
    check = gradient_check(config.cell, inputs.x, inputs.a0, inputs.parameters, inputs.da)
    for name, error in check.per_parameter.items():
        print(f"{name:5} relative error {error:.1e}")
    print(check.verdict)
    return 0 if check.verdict.startswith("OK") else 1


def _check(args: argparse.Namespace) -> int:
    """Check a student's own functions; 0 all match, 1 a difference, 2 could not run."""
    from .check import check, from_file, sandbox  # the sandbox machinery loads only for this subcommand

    try:
        with open(args.file, "rb") as f:
            data = f.read(4_000_000)
    except OSError as e:
        message = f"cannot read {args.file}: {e.strerror}. Check the file's name and that you may read it."
        print(json.dumps({"ok": False, "functions": {}, "first_divergence": None, "bugs": [],
                          "error": {"kind": "file", "message": message, "line": None}, "notes": [],
                          "summary": [message], "blame": None})
              if args.json else message)
        return 2
    if not args.json:  # --json prints exactly one object; the text report says first what keeps the check apart
        print(f"Isolation: {sandbox.isolation().description}", file=sys.stderr)
    report = check(from_file(args.file, data))
    print(json.dumps(report.to_json()) if args.json else report.to_text())
    return report.exit_code


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bptt",
        description="A visual debugger for backpropagation through time.",
        epilog="The app itself: streamlit run app.py",
    )
    sub = p.add_subparsers(dest="command", required=True)
    bugs = sub.add_parser("bugs", help="list the catalog of classic BPTT bugs")
    bugs.add_argument("--cell", choices=CELLS, help="only this cell's bugs")
    bugs.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bugs.set_defaults(func=_bugs)
    check = sub.add_parser("gradcheck", help="check the reference backward against finite differences")
    check.add_argument("--cell", choices=CELLS, default="rnn")
    check.add_argument("--scenario", choices=[s for s in SCENARIOS if s != "echo"], default="course")
    check.set_defaults(func=_gradcheck)
    student = sub.add_parser("check", help="check a student's rnn_backward / lstm_backward (.py, .ipynb, .txt), "
                             "the course's or CS231n's rnn_layers.py (told by the signatures)")
    student.add_argument("file", help="a .py file (the course's functions or CS231n's rnn_layers.py), a course "
                         ".ipynb notebook, or a .txt file of pasted code")
    student.add_argument("--json", action="store_true", help="print exactly one JSON object")
    student.set_defaults(func=_check)
    return p


def main(argv: list | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = parser().parse_args(argv)
    with np.errstate(all="ignore"):
        return args.func(args)
