"""The line of checks: a few at once, the rest served in order and told their place, a full line says so."""

import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bptt.check import check, from_text
from bptt.check.queue import Full, Line, ordinal


@pytest.mark.parametrize("n, word", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"),
                                     (13, "13th"), (21, "21st"), (22, "22nd"), (103, "103rd")])
def test_ordinal(n, word):
    assert ordinal(n) == word


def test_waiting_checks_are_served_in_order_and_told_their_place():
    line, order, places = Line(workers=1, size=5), [], {}
    with line.turn():
        threads = []
        for i in range(3):
            def wait(i=i):
                with line.turn(lambda place: places.setdefault(i, []).append(place)):
                    order.append(i)
            threads.append(threading.Thread(target=wait))
            threads[-1].start()
            while i not in places:  # each arrives after the one before: the order is known
                time.sleep(0.01)
        assert order == [] and places == {0: [1], 1: [2], 2: [3]}
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2]
    for i, heard in places.items():  # each heard where it arrived, then only moves up (a turn may come before "1st")
        assert heard[0] == i + 1 and heard == sorted(set(heard), reverse=True)


def test_at_most_workers_hold_a_turn_at_once():
    line, inside, most, lock = Line(workers=2, size=10), [0], [0], threading.Lock()

    def work():
        with line.turn():
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.05)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert most[0] == 2


def test_a_full_line_refuses_at_once():
    line = Line(workers=1, size=0)
    with line.turn():
        with pytest.raises(Full):
            with line.turn():
                pass


def test_a_check_refused_by_a_full_line_is_a_clear_busy_error(monkeypatch):
    from bptt.check import engine

    monkeypatch.setattr(engine, "LINE", Line(workers=1, size=0))
    with engine.LINE.turn():
        report = check(from_text("def rnn_backward(da, caches):\n    return {}\n"))
    assert report.exit_code == 2 and report.error["kind"] == "busy"
    assert "try again" in report.error["message"].lower() and report.summary


BUGGY = """
import numpy as np

def rnn_cell_backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    Wax, Waa = parameters["Wax"], parameters["Waa"]
    dtanh = (1 - a_next ** 2) * da_next
    return {"dxt": np.dot(Wax.T, dtanh), "da_prev": np.dot(Waa.T, dtanh), "dWax": np.dot(dtanh, xt.T),
            "dWaa": np.dot(dtanh, a_prev.T), "dba": np.sum(dtanh, axis=1, keepdims=True)}

def rnn_backward(da, caches):
    (caches, x) = caches
    (a1, a0, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x))
    dWax, dWaa, dba = np.zeros((n_a, n_x)), np.zeros((n_a, n_a)), np.zeros((n_a, 1))
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        gradients = rnn_cell_backward(da[:, :, t], caches[t])  # the carried da_prevt is dropped
        dx[:, :, t] = gradients["dxt"]
        da_prevt = gradients["da_prev"]
        dWax += gradients["dWax"]
        dWaa += gradients["dWaa"]
        dba += gradients["dba"]
    return {"dx": dx, "da0": da_prevt, "dWax": dWax, "dWaa": dWaa, "dba": dba}
"""


@pytest.mark.parametrize("value, size", [("5", 5), ("0", 1), ("-3", 1), ("many", 30), ("", 30)])
def test_the_lines_size_is_a_setting(monkeypatch, value, size):
    from bptt.check.queue import _setting

    monkeypatch.setenv("BPTT_CHECK_QUEUE", value)
    assert _setting("BPTT_CHECK_QUEUE", 30) == size


def test_a_line_of_two_holds_two_and_refuses_the_third():
    line, places, refused = Line(workers=1, size=2), [], []
    with line.turn():
        threads = [threading.Thread(target=lambda: line.turn(places.append).__enter__()) for _ in range(2)]
        for thread in threads:
            thread.start()
        while len(places) < 2:
            time.sleep(0.01)
        try:
            with line.turn():
                pass
        except Full:
            refused.append(True)
        assert refused == [True] and sorted(places) == [1, 2]
    for thread in threads:
        thread.join(timeout=10)


def test_a_waiting_check_is_told_its_place_in_words(monkeypatch):
    from bptt.check import queue

    monkeypatch.setattr(queue, "LINE", Line(workers=1, size=5))
    said, reports = [], []
    with queue.LINE.turn():
        waiter = threading.Thread(target=lambda: reports.append(queue.check_elsewhere(
            from_text(BUGGY), progress=lambda message, fraction: said.append(message))))
        waiter.start()
        while not said:
            time.sleep(0.01)
        assert said == ["You are 1st in line: other students' code is being checked first…"]
    waiter.join(timeout=120)
    assert reports[0].exit_code == 1 and len(said) > 1


def test_the_analysis_runs_in_another_process_and_says_what_the_same_check_here_says(monkeypatch):
    from bptt.check import engine, queue

    here = check(from_text(BUGGY))
    analysed_here = []
    monkeypatch.setattr(engine, "_analyse", lambda *args: analysed_here.append(os.getpid()))
    there = queue.check_elsewhere(from_text(BUGGY))
    assert analysed_here == [] and there.worker_pid not in (None, os.getpid())
    assert [m.bug.id for m in there.bugs] == [m.bug.id for m in here.bugs] == ["missing-da-prev"]
    verdicts = lambda report: {f: {k: v["ok"] for k, v in r["outputs"].items()} for f, r in report.functions.items()}
    assert verdicts(there) == verdicts(here) and there.summary == here.summary and there.exit_code == 1
    assert there.divergence.function == here.divergence.function and there.divergence.t == here.divergence.t
    for (probe, run, reference), (probe2, run2, _) in zip(there.runs["rnn_backward"], here.runs["rnn_backward"]):
        if probe.name != "drawn for this check":  # drawn afresh by each check
            assert np.array_equal(probe.x, probe2.x) and reference.order == tuple(range(probe.T_x))[::-1]
            assert [s.t for s in run.steps] == [s.t for s in run2.steps]
            assert all(np.array_equal(s.outputs[k], s2.outputs[k])
                       for s, s2 in zip(run.steps, run2.steps) for k in s2.outputs)


CS231N = Path(__file__).resolve().parent / "corpus_cs231n"


@pytest.mark.parametrize("code", [BUGGY, (CS231N / "bug_dwh_transposed_skeleton.py").read_text()],
                         ids=["course", "cs231n"])
def test_a_report_survives_its_crossing_intact(code):
    from bptt.check.worker import decode_report, encode_report

    source = from_text(code)
    report = check(source)
    back = decode_report(json.loads(json.dumps(encode_report(report))), source)
    assert back.to_json() == report.to_json() and back.to_text() == report.to_text()
    assert report.bugs and back.bugs[0].bug is report.bugs[0].bug
    d, d2 = back.divergence, report.divergence
    assert type(d.probe) is type(d2.probe) and d.probe.name == d2.probe.name and d.probe.sizes == d2.probe.sizes
    assert all(np.array_equal(getattr(d.probe, k), getattr(d2.probe, k)) for k in ("x", "dc"))
    for (probe, run, reference), (probe2, run2, reference2) in zip(back.runs.get("rnn_backward", ()),
                                                                     report.runs.get("rnn_backward", ())):
        assert np.array_equal(probe.da, probe2.da) and reference.order == reference2.order
        assert all(np.array_equal(s.inputs[k], s2.inputs[k]) for s, s2 in zip(run.steps, run2.steps)
                   for k in s2.inputs)


FORGED_PASS = ('import json; print(json.dumps({"report": {"functions": {}, "error": None, "stdout": "", "seconds": 0, '
               '"notes": [], "summary": [], "blame": None, "divergence": None, "bugs": [], "runs": {}, "probes": []}}))')


@pytest.mark.parametrize("command, seconds, why", [
    ("import sys; sys.exit(3)", 60, "stopped without a report (exit status 3)"),
    ("print('Traceback (most recent call last):')", 60, "stopped without a report"),
    ("print('{\"progress\": [\"Done.\", 1.0]}')", 60, "stopped without a report"),
    ("import sys; sys.stdout.write('{\"report\": ')", 60, "stopped without a report"),
    (FORGED_PASS, 60, "judges no function"),
    (FORGED_PASS.replace('"functions": {}', '"functions": {"rnn_backward": {"ok": "yes", "outputs": {}}}'), 60,
     "not each a yes or no"),
    (FORGED_PASS.replace('"notes": []', '"notes": "all fine"'), 60, "not lists of sentences"),
    (FORGED_PASS + "; import sys; sys.exit(1)", 60, "exited with status 1"),
    ("import time; time.sleep(30)", 1, "took more than 1 s"),
    ("import time; print('not json', flush=True); time.sleep(30)", 1, "took more than 1 s"),
])
def test_a_failing_worker_is_a_clear_error_never_a_pass(command, seconds, why):
    from bptt.check import queue

    report = queue.check_elsewhere(from_text(BUGGY), worker=(sys.executable, "-c", command), seconds=seconds)
    assert report.exit_code == 2 and not report.ok and report.error["kind"] == "checker"
    assert why in report.error["message"] and "not judged" in report.error["message"]
    assert report.summary == ["The checker itself failed: your code was not judged."]


def test_a_worker_that_cannot_start_is_a_clear_error():
    from bptt.check import queue

    report = queue.check_elsewhere(from_text(BUGGY), worker=("/nonexistent/python",))
    assert report.exit_code == 2 and report.error["kind"] == "checker" and "could not start" in report.error["message"]


def test_a_full_line_refuses_a_check_before_any_worker_starts(monkeypatch):
    from bptt.check import queue

    monkeypatch.setattr(queue, "LINE", Line(workers=1, size=0))
    with queue.LINE.turn():
        report = queue.check_elsewhere(from_text(BUGGY), worker=("/nonexistent/python",))
    assert report.exit_code == 2 and report.error["kind"] == "busy" and "try again" in report.error["message"].lower()


def test_a_check_stopped_by_the_page_ends_its_worker():
    """A rerun stops the page's thread with an exception inside the progress callback: the worker goes with it."""
    from bptt.check import queue

    command = ("import json, os, time; print(json.dumps({'progress': [str(os.getpid()), 0.1]}), flush=True); "
               "time.sleep(30)")
    seen = []

    def stopped(message, fraction):
        seen.append(int(message))
        raise RuntimeError("the page reran")

    with pytest.raises(RuntimeError):
        queue.check_elsewhere(from_text(BUGGY), progress=stopped, worker=(sys.executable, "-c", command))
    assert seen and not Path(f"/proc/{seen[0]}").exists()
