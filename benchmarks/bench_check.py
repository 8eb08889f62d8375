"""Time of one "Check your code" run at course size, all probes, against the issue's 2 s target (issue 4).

    python benchmarks/bench_check.py                 # a readable table
    python benchmarks/bench_check.py --json          # one JSON object
    python benchmarks/bench_check.py --write-docs    # also rewrite the check section of docs/PERFORMANCE.md

Each submission is the course notebook's own functions (cell and loop), checked end to end as
the page and the CLI do: child process start, all four probes, every step recorded, the
comparison with the reference traces and the matching against every catalog bug. The median
of several rounds is reported with the slowest round, and the child's share of the time.
"""

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from docs_section import write_section  # noqa: E402

from bptt.check import check, from_file  # noqa: E402

SUBMISSIONS = ROOT / "tests" / "fixtures" / "submissions"
CASES = {
    "RNN, correct (cell + loop)": SUBMISSIONS / "correct" / "rnn_course_style.py",
    "RNN, missing-da-t": SUBMISSIONS / "bugs" / "missing-da-t.py",
    "LSTM, correct (forward + cell + loop)": SUBMISSIONS / "correct" / "lstm_course_style.py",
    "LSTM, lstm-c-view": SUBMISSIONS / "bugs" / "lstm-c-view.py",
}
TARGET_S = 2.0
START, END = "<!-- check:start -->", "<!-- check:end -->"


def measure(rounds: int) -> dict:
    check(from_file("warm.py", CASES["RNN, correct (cell + loop)"].read_bytes()))  # imports and probe caches
    rows = {}
    for name, path in CASES.items():
        totals, children = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            report = check(from_file(path.name, path.read_bytes()))
            totals.append(time.perf_counter() - started)
            children.append(report.seconds)
        rows[name] = {"median_s": statistics.median(totals), "max_s": max(totals),
                      "child_s": statistics.median(children), "exit": report.exit_code}
    return rows


def table(rows: dict) -> str:
    out = ["| submission | median | slowest | of which the child process | verdict |", "|---|---|---|---|---|"]
    for name, r in rows.items():
        out.append(f"| {name} | {r['median_s']:.2f} s | {r['max_s']:.2f} s | {r['child_s']:.2f} s | exit {r['exit']} |")
    worst = max(r["max_s"] for r in rows.values())
    out.append("")
    out.append(f"Target: one course-size check, all probes, at most {TARGET_S:g} s. Slowest round measured: "
               f"{worst:.2f} s ({'met' if worst <= TARGET_S else 'NOT met'}).")
    return "\n".join(out)


def write_docs(rows: dict, rounds: int) -> None:
    section = (f"{START}\n## Check your code (benchmarks/bench_check.py)\n\n"
               f"{rounds} rounds per submission on {platform.machine()} / Python {platform.python_version()}, "
               "measured end to end (process start, 4 probes, comparison, catalog matching).\n\n"
               f"{table(rows)}\n{END}")
    write_section(START, END, section)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = measure(args.rounds)
    print(json.dumps(rows) if args.json else table(rows))
    if args.write_docs:
        write_docs(rows, args.rounds)
    return 0 if max(r["max_s"] for r in rows.values()) <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
