"""The line of checks: a few at once, the rest served in order and told their place, a full line says so."""

import threading
import time

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
