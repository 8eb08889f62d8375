"""The "Check your code" page through AppTest: paste or upload, see the diagnosis and the side-by-side steps."""

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from bptt.check.compare import reference_trace
from bptt.check.probes import probes_for
from figure_spec import heatmaps

APP = str(Path(__file__).resolve().parent.parent / "app.py")
SUBMISSIONS = Path(__file__).parent / "fixtures" / "submissions"
K = "check:"


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/check.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def submit(at: AppTest, code: str) -> AppTest:
    at.text_area(key=K + "text").set_value(code).run()
    at.button(key=K + "run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def said(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "warning", "error", "info", "success", "code")
             for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


def test_pasting_the_forum_famous_bug_names_it_and_shows_both_runs_side_by_side():
    at = submit(open_page(), (SUBMISSIONS / "missing_da_t.py").read_text())
    text = said(at)
    assert "Likely bug: Forgot to add da[:,:,t]" in text
    assert "rnn_cell_backward(da_prevt, caches[t])  # ← here" in text
    assert "At t = 3 (T_x = 4" in text and "da_next" in text
    assert "Hint." in text
    maps = heatmaps(at)
    (mine_meta, mine), (ref_meta, ref) = maps["student input", "da_next"], maps["reference input", "da_next"]
    assert mine_meta["t"] == ref_meta["t"] == 3
    course = probes_for("rnn")[0]
    assert not mine.any()  # the student's loop hands the cell zeros
    np.testing.assert_allclose(ref, course.da[:, :, 3], rtol=1e-6)  # the reference hands it da[:,:,3]


def test_the_verdict_tables_list_each_function_and_each_quantity_of_the_step():
    at = submit(open_page(), (SUBMISSIONS / "missing_da_t.py").read_text())
    tables = [m.value for m in at.markdown if m.value.startswith("| ")]
    functions, quantities = tables
    assert functions.splitlines()[0] == "| function | verdict | wrong outputs |"
    assert "| rnn_backward | differs |" in functions
    # at t = 3 the student's loop hands the cell zeros instead of da[:,:,3], so da_next already differs
    assert quantities.splitlines()[0] == "| quantity | what | matches | max abs error |"
    assert "| da_next | handed to the cell | ❌ |" in quantities


def test_moving_the_step_slider_redraws_that_step():
    at = submit(open_page(), (SUBMISSIONS / "bugs" / "overwrite-not-accumulate.py").read_text())
    at.select_slider(key=K + "t").set_value(1).run()
    at.selectbox(key=K + "quantity").set_value("dWax (running total after the step)").run()
    maps = heatmaps(at)
    (meta, mine), (_, ref) = maps["student total", "dWax"], maps["reference total", "dWax"]
    assert meta["t"] == 1
    trace = reference_trace(probes_for("rnn")[0])
    np.testing.assert_allclose(mine, trace.step(1).outputs["dWax"], rtol=1e-5)  # overwritten: step 1's share only
    np.testing.assert_allclose(ref, trace.step(1).totals["dWax"], rtol=1e-5)  # the sum of steps 3, 2, 1


def test_a_forum_paste_shows_the_rebuilt_code_before_checking():
    at = open_page()
    at.text_area(key=K + "text").set_value((SUBMISSIONS / "missing_da_t_forum.txt").read_text()).run()
    rebuilt = at.text_area(key=K + "rebuilt").value
    assert "    for t in reversed(range(T_x)):\n        # Compute gradients" in rebuilt
    at.button(key=K + "run").click().run()
    assert "Likely bug: Forgot to add da[:,:,t]" in said(at)


def test_a_correct_solution_gets_a_clean_pass():
    at = submit(open_page(), (SUBMISSIONS / "correct" / "lstm_compact_style.py").read_text())
    assert [s.value for s in at.success] and "Likely bug" not in said(at)


def test_errors_are_explained_never_raised():
    at = submit(open_page(), "def rnn_backward(da, caches)\n    return {}\n")
    assert "Python cannot read this code" in said(at) and "line 1" not in [e.value for e in at.exception]
    at = submit(at, (SUBMISSIONS / "hostile" / "sys_exit.py").read_text())
    assert "sys.exit(3)" in said(at)
    at = submit(at, (SUBMISSIONS / "bugs" / "no-transpose-wax.py").read_text())
    text = said(at)
    assert "A shape error" in text and "(5,3)" in text and "dxt = np.dot(Wax, dtanh)  # ← here" in text
