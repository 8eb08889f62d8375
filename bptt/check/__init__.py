"""Check a student's own rnn_backward / lstm_backward (and cells, forwards): where and why it goes wrong.

The student's code runs in a separate, limited process (sandbox.py, harness.py, probe_runs.py).
The parent judges from what the functions returned on every probe (compare.py); the recorded
steps of their loop say where a difference starts, substitution says whether the cell or the
loop is wrong (blame.py), catalog bugs and generated mutants are recognised by behaviour
(diagnose.py, mutants.py), and texts.py says the obvious first.

    from bptt.check import check, from_file
    report = check(from_file("homework.py", open("homework.py", "rb").read()))
    report.exit_code, report.to_json()["bugs"]
"""

from .engine import check
from .report import MatchedBug, Report, explain
from .sandbox import Limits
from .source import Problem, Source, from_file, from_notebook, from_text

__all__ = ["check", "Report", "MatchedBug", "explain", "Limits", "Source", "Problem",
           "from_file", "from_notebook", "from_text"]
