"""A small class at once against a real `streamlit run app.py`: the CI-sized load test (benchmarks/load.py).

Five sessions step for ten seconds while three "Check your code" submissions arrive together,
one of them an infinite loop. Nothing may fail: every click redraws the step it asked for, every
submission gets its verdict, the loop gets its timeout, and the server is still serving with no
traceback in its log. Latency targets are measured by the full benchmark, not asserted here.
"""

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import load  # noqa: E402


def test_a_small_class_steps_and_checks_at_once_without_a_single_error():
    # In its own thread: the browser tests' Playwright keeps an asyncio loop running on this one,
    # and load.run starts its own with asyncio.run.
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(load.run, sessions=5, duration=10, think=1.0, checks=3).result()
    assert result["errors"] == []
    assert result["open"]["n"] == 5
    assert min(result["clicks_per_session"]) >= 2, result["clicks_per_session"]  # every student got to step
    assert result["clicks_during_checks"]["n"] > 0  # stepping went on while the checks ran
    verdicts = {row["file"]: row["got"] for row in result["checks"]}
    assert verdicts == {"hostile/infinite_loop.py": "timeout", "correct/rnn_course_style.py": "ok",
                        "bugs/missing-da-t.py": "missing-da-t"}
    server = result["server"]
    assert server["alive"] and server["tracebacks"] == 0, server["log_tail"]
