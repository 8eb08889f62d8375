"""The "Check your code" page through AppTest: what a student sees after a check, in the words of what happened.

Real checks (the famous bug, a NameError, a correct file, a forum post) and hand-built reports
(a summary and blame the engine may give, each error kind, findings the contract forbids) are
read back from the page's elements; odd values a non-browser client can send end in words.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from bptt.check import Report, from_text
from bptt.check.compare import Finding, reference_trace
from bptt.check.probes import probes_for
from bptt.check.source import MAX_CHARS
from bptt.ui import check_words
from figure_spec import heatmaps

APP = str(Path(__file__).resolve().parent.parent / "app.py")
SUBMISSIONS = Path(__file__).parent / "fixtures" / "submissions"
FAMOUS = (SUBMISSIONS / "missing_da_t.py").read_text()
K = "check:"
NAME_ERROR = """import numpy as np

def rnn_cell_backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    dtanh = (1 - a_next ** 2) * da_next
    dxt = np.dot(Wax.T, dtanh)
    da_prev = np.dot(parameters["Waa"].T, dtanh)
    return {"dxt": dxt, "da_prev": da_prev, "dWax": np.dot(dtanh, xt.T),
            "dWaa": np.dot(dtanh, a_prev.T), "dba": np.sum(dtanh, axis=1, keepdims=True)}
"""
NEVER = ("function is missing", "t = None", "raised an exception here", "after every step matched", "✅", "❌")


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/check.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def submit(at: AppTest, code: str) -> AppTest:
    at.text_area(key=K + "text").set_value(code)  # the box's text travels with the click, as a browser sends it
    at.button(key=K + "run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def show(report: Report) -> AppTest:
    """The page drawing a report built by hand, as if a check had just returned it."""
    at = open_page()
    at.session_state[K + "report"] = report
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def said(at: AppTest) -> str:
    """Every text the page shows, in page order."""
    kinds = {"markdown", "caption", "warning", "error", "info", "success", "code"}
    return "\n".join(str(node.value) for node in at._tree if getattr(node, "type", None) in kinds)


def verdict(at: AppTest) -> str:
    """The first alert on the page: the verdict the student reads first."""
    alerts = [node for node in at._tree if getattr(node, "type", None) in ("error", "warning", "success")]
    return str(alerts[0].value)


def assert_plain(text: str) -> None:
    for phrase in NEVER:
        assert phrase.lower() not in text.lower(), phrase


def course_probe():
    return probes_for("rnn")[0]


def test_the_famous_bug_says_the_summary_names_the_bug_and_the_step():
    at = submit(open_page(), FAMOUS)
    report = at.session_state[K + "report"]
    text = said(at)
    lead = verdict(at)
    assert "exactly 0" in report.summary[0] and lead.startswith(f"**{report.summary[0]}**")  # the obvious, first
    assert "rnn_backward" in lead and "t = 3" in lead  # where the mistake lives, and the step
    named = "Likely bug: **Forgot to add da[:,:,t]** (in rnn_backward, line 41)"
    assert text.index(lead) < text.index(named) < text.index("Likely bug: Forgot to add da[:,:,t]")
    assert "41 >         gradients = rnn_cell_backward(da_prevt, caches[t])  # ← here" in text
    assert "At t = 3 (T_x = 4; the loop runs t = 3 down to 0)" in text and "as da_next differs" in text
    assert "Hint." in text
    assert_plain(text)
    maps = heatmaps(at)
    (mine_meta, mine), (ref_meta, ref) = maps["student input", "da_next"], maps["reference input", "da_next"]
    assert mine_meta["t"] == ref_meta["t"] == 3
    assert not mine.any()  # the student's loop hands the cell zeros
    np.testing.assert_allclose(ref, course_probe().da[:, :, 3], rtol=1e-6)  # the reference hands it da[:,:,3]


def test_the_summary_comes_first_and_the_blame_is_one_sentence():
    finding = Finding("rnn_backward", course_probe(), 3, "da_next", "input", 3.03)
    report = Report(from_text(FAMOUS), functions={"rnn_backward": {"ok": False, "outputs": {}}}, divergence=finding,
                    summary=["Every gradient you return is exactly 0.", "Your dx is zero at every t."],
                    blame={"part": "loop", "function": "rnn_backward", "t": 3, "term": "da_next"})
    lead = verdict(show(report))
    assert lead.startswith("**Every gradient you return is exactly 0.**")
    assert "Your dx is zero at every t." in lead
    assert ("The mistake is in your loop (rnn_backward), not in rnn_cell_backward: at t = 3, the da_next it builds "
            "is wrong.") in lead


def test_a_blame_the_summary_already_says_is_not_said_twice():
    said = "The mistake is in your loop in rnn_backward, not in rnn_cell_backward: it goes wrong at t = 3."
    report = Report(from_text(FAMOUS), divergence=Finding("rnn_backward", course_probe(), 3, "da_next", "input"),
                    summary=["Every gradient you return is exactly 0.", said],
                    blame={"part": "loop", "function": "rnn_backward", "t": 3, "term": "da_next"})
    lead = verdict(show(report))
    assert lead.count("The mistake is in") == 1 and said in lead


def test_an_error_the_summary_restates_is_said_once():
    message = "NameError: name 'Wax' is not defined (in rnn_cell_backward, line 6)"
    report = Report(from_text(NAME_ERROR), error={"kind": "runtime", "message": message, "line": 6},
                    summary=["Your code raised an error before it returned: NameError: name 'Wax' is not defined."])
    assert verdict(show(report)).count("is not defined") == 1


@pytest.mark.parametrize("blame, sentence", [
    ({"part": "cell", "function": "rnn_cell_backward", "t": 2, "term": "dz"},
     "The mistake is in rnn_cell_backward, not in your loop: at t = 2, the dz (the tanh derivative) it computes is wrong."),
    ({"part": "loop", "function": "lstm_backward", "t": None, "term": "after-loop"},
     "The mistake is in your loop (lstm_backward), not in lstm_cell_backward: look at what happens after the loop."),
    ({"part": "forward", "function": "lstm_forward", "t": 0, "term": "c_next"},
     "The mistake is in your forward (lstm_forward), not in the backward: at t = 0, the c_next it computes is wrong."),
    (None, None),
    ({"part": "elsewhere"}, None),
])
def test_blame_reads_as_one_plain_sentence(blame, sentence):
    assert check_words.blame_sentence(blame) == sentence


def test_a_name_error_says_the_name_and_its_line_never_a_missing_function():
    at = submit(open_page(), NAME_ERROR)
    report = at.session_state[K + "report"]
    assert report.error is not None and report.error["line"] == 6
    lead, text = verdict(at), said(at)
    assert lead.startswith("**Your code uses the name Wax, which it never defines.**") and "line 6" in lead
    assert "6 >     dxt = np.dot(Wax.T, dtanh)  # ← here" in text
    assert_plain(text)


def test_a_correct_file_says_it_matches():
    at = submit(open_page(), (SUBMISSIONS / "correct" / "lstm_compact_style.py").read_text())
    assert [s.value for s in at.success] and verdict(at).startswith("**Your code matches the reference.**")
    text = said(at)
    assert "Likely bug" not in text and ":red[" not in text
    assert "| lstm_backward | :green[:material/check: matches] |" in text
    assert_plain(text)


@pytest.mark.parametrize("post", ["missing_da_t_forum.txt", "pastes/famous_forum_post.txt"])
def test_a_forum_post_with_prose_shows_the_code_that_ran_numbered_as_the_report(post):
    at = submit(open_page(), (SUBMISSIONS / post).read_text())
    report = at.session_state[K + "report"]
    assert "Likely bug: Forgot to add da[:,:,t]" in said(at)
    assert "### The code that ran" in said(at)
    listing = max((c.value for c in at.code), key=len)
    rows = listing.split("\n")
    assert "Help!!" not in listing and "stuck" not in listing  # the prose before the code was left out
    assert rows[0] == "1  | " and len(rows) == report.source.code.count("\n") + 1  # every line, numbered from 1
    assert any(re.fullmatch(r"\d+ +\|     for t in reversed\(range\(T_x\)\):", row) for row in rows)  # re-indented
    line = report.bugs[0].line
    assert rows[line - 1] == f"{line} >         gradients = rnn_cell_backward(da_prevt, caches[t])  # ← here"
    assert [m.value for m in at.markdown if m.value == f"- {report.source.notes[1]}"]  # the source's notes are shown
    assert_plain(said(at))


def test_a_python_2_print_in_a_paste_is_a_syntax_error_at_its_line_in_the_code_read():
    at = submit(open_page(), (SUBMISSIONS / "pastes" / "python2_print_flat.txt").read_text())
    error = at.session_state[K + "report"].error
    assert error["kind"] == "syntax" and "print" in error["message"]
    lead, text = verdict(at), said(at)
    assert lead.startswith("**Python cannot read this code.**") and "Missing parentheses in call to 'print'" in lead
    assert "### The code the checker read" in text
    listing = max((c.value for c in at.code), key=len).split("\n")
    assert listing[error["line"] - 1].startswith(f"{error['line']} >") and "print" in listing[error["line"] - 1]
    assert_plain(text)


def test_the_code_that_ran_can_be_edited_and_checked_again():
    at = submit(open_page(), (SUBMISSIONS / "missing_da_t_forum.txt").read_text())
    edited = at.text_area(key=K + "rebuilt").value.replace("rnn_cell_backward(da_prevt,",
                                                           "rnn_cell_backward(da[:, :, t] + da_prevt,")
    at.text_area(key=K + "rebuilt").set_value(edited)
    at.button(key=K + "recheck").click().run()
    assert not at.exception
    assert at.session_state[K + "report"].ok and verdict(at).startswith("**Your code matches the reference.**")


def test_a_notebook_listing_says_where_each_cell_starts():
    at = open_page()
    at.file_uploader(key=K + "file").upload("hw.ipynb", (SUBMISSIONS / "missing_da_t_notebook.ipynb").read_bytes())
    at.button(key=K + "run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    source = at.session_state[K + "report"].source
    listing = max((c.value for c in at.code), key=len).split("\n")
    starts = [c.value for c in at.caption if c.value.startswith("From the notebook: ")]
    assert starts and all(f"cell {n} starts at line {first}" in starts[0] for n, first in source.cells)
    for n, first in source.cells:  # the line a cell starts at is its first line in the listing
        assert listing[first - 1].startswith(f"{first} ") and source.where(first) == f"cell {n}, line 1"
    assert "Likely bug: Forgot to add da[:,:,t]" in said(at)


def test_a_file_that_ran_as_pasted_shows_no_second_listing():
    at = submit(open_page(), FAMOUS)
    assert "The code that ran" not in said(at) and not any(c.value.startswith("1 ") for c in at.code)


def test_the_check_button_is_there_before_anything_is_typed():
    at = open_page()
    assert at.button(key=K + "run").label == "Check my code"
    at.button(key=K + "run").click().run()
    assert not at.exception and "There is nothing to check yet" in said(at)


def test_the_box_set_in_one_message_and_the_click_in_the_next_checks_the_box():
    """What a client that sends one widget per message does (benchmarks/load.py): the text must not be lost."""
    at = open_page()
    at.text_area(key=K + "text").set_value(FAMOUS).run()
    at.button(key=K + "run").click().run()
    assert not at.exception and "Likely bug: Forgot to add da[:,:,t]" in said(at)


def test_the_tables_say_match_in_words_not_emoji():
    at = submit(open_page(), FAMOUS)
    functions, quantities = [m.value for m in at.markdown if m.value.startswith("| ")]
    assert "| rnn_backward | :red[:material/close: differs] |" in functions
    assert quantities.splitlines()[0] == "| quantity | what | matches | max abs error |"
    # at t = 3 the student's loop hands the cell zeros instead of da[:,:,3], so da_next already differs
    assert "| da_next | handed to the cell | :red[:material/close: differs] |" in quantities


def test_moving_the_step_slider_redraws_that_step():
    at = submit(open_page(), (SUBMISSIONS / "bugs" / "overwrite-not-accumulate.py").read_text())
    at.select_slider(key=K + "t").set_value(1).run()
    at.selectbox(key=K + "quantity").set_value("dWax (running total after the step)").run()
    maps = heatmaps(at)
    (meta, mine), (_, ref) = maps["student total", "dWax"], maps["reference total", "dWax"]
    assert meta["t"] == 1
    trace = reference_trace(course_probe())
    np.testing.assert_allclose(mine, trace.step(1).outputs["dWax"], rtol=1e-5)  # overwritten: step 1's share only
    np.testing.assert_allclose(ref, trace.step(1).totals["dWax"], rtol=1e-5)  # the sum of steps 3, 2, 1


@pytest.mark.parametrize("code, words", [
    ("def rnn_backward(da, caches)\n    return {}\n", ("Python cannot read this code", "line 1")),
    ((SUBMISSIONS / "hostile" / "sys_exit.py").read_text(), ("sys.exit(3)",)),
    ((SUBMISSIONS / "bugs" / "no-transpose-wax.py").read_text(),
     ("The shapes do not fit", "(5,3)", "dxt = np.dot(Wax, dtanh)  # ← here")),
    ("x = 1\n", ("No course function found",)),
])
def test_real_errors_are_explained_never_raised(code, words):
    text = said(submit(open_page(), code))
    assert all(w in text for w in words), [w for w in words if w not in text]
    assert_plain(text)


@pytest.mark.parametrize("kind, title", [(kind, title) for kind, (title, _) in check_words.HEADLINES.items()])
def test_each_error_kind_has_its_own_words(kind, title):
    report = Report(from_text(FAMOUS), error={"kind": kind, "message": "what the engine said", "line": 41})
    lead = verdict(show(report))
    assert lead.startswith(f"**{title}.**") and "what the engine said" in lead
    assert lead.endswith(check_words.HEADLINES[kind][1])  # what to do, last


def test_a_finding_outside_the_contract_is_not_drawn_as_a_raise():
    """An engine that still sends scope "error" with t None must not make the page say it raised at t = None."""
    report = Report(from_text(NAME_ERROR), error={"kind": "missing-function", "line": 6,
                    "message": "NameError: name 'Wax' is not defined (in rnn_cell_backward, line 6)"},
                    divergence=Finding("rnn_cell_backward", course_probe(), None, "dxt", "error"))
    text = said(show(report))
    assert "Your code uses the name Wax" in text and "First difference" not in text
    assert_plain(text)


def test_a_difference_after_a_loop_that_never_ran_claims_no_matched_steps():
    report = Report(from_text(FAMOUS), divergence=Finding("rnn_backward", course_probe(), None, "dWax", "final", 1.0),
                    functions={"rnn_backward": {"ok": False, "outputs": {"dWax": {"ok": False, "max_abs_error": 1.0}}}})
    finding = report.divergence
    assert "every step inside your loop matched" in check_words.first_difference(finding, steps_ran=True)
    text = check_words.first_difference(finding, steps_ran=False)
    assert "never called rnn_cell_backward" in text and "matched" not in text


def test_the_checker_failing_is_a_message_not_a_traceback(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the checker broke")

    monkeypatch.setattr("bptt.check.queue.check_elsewhere", broken)
    at = submit(open_page(), FAMOUS)
    assert "The checker itself failed on this code" in said(at) and "the checker broke" not in said(at)


def test_a_report_that_cannot_be_drawn_is_a_message_not_a_traceback():
    report = Report(from_text(FAMOUS), functions={"rnn_backward": "not a table"})
    at = show(report)
    assert "The page could not draw the verdict" in said(at)


@pytest.mark.parametrize("name, data, words", [
    ("hw.py", b"", "is empty"),
    ("hw.py", b"   \n\n", "is empty"),
    ("hw.py", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not text"),
    ("hw.py", b"# " + b"x" * (4 * MAX_CHARS + 1), "the checker reads at most"),
    ("hw.ipynb", b"{" * 100_000, "not a readable Jupyter notebook"),
    ("hw.ipynb", b"\xff\xfe not json", "not a readable Jupyter notebook"),
    ("hw.py", "# caf\xe9\ndef rnn_backward(da, caches):\n    return {}\n".encode("latin-1"), "not UTF-8"),
])
def test_odd_uploads_get_a_message(name, data, words):
    at = open_page()
    at.file_uploader(key=K + "file").upload(name, data)
    at.button(key=K + "run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert words in said(at)


def test_huge_pasted_text_gets_a_message():
    text = said(submit(open_page(), "x = 1\n" * (MAX_CHARS // 5)))
    assert "the checker reads at most 200,000" in text


@pytest.mark.parametrize("value", ["../../etc", 10**9, -1, float("nan"), "", "t = 99"])
def test_odd_widget_values_from_a_non_browser_client_end_in_words(value):
    """A websocket client may send any value for any widget: the page still draws, or says what it could not."""
    at = submit(open_page(), FAMOUS)
    honest = at._tree.get_widget_states

    def odd():
        states = honest()
        for state in states.widgets:
            if any(state.id.endswith(name) for name in ("function", "probe", "t", "quantity", "text")):
                if isinstance(value, str):
                    state.string_value = value
                elif isinstance(value, float):
                    state.double_value = value
                else:
                    state.int_value = value
        return states

    at._tree.get_widget_states = odd
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Likely bug: Forgot to add da[:,:,t]" in said(at)  # the report is still there
    if not isinstance(value, str):  # a number where the slider's list or a box's text belongs: said, then ignored
        assert "received a choice it could not read" in said(at)
        assert at.select_slider(key=K + "t").value == 3  # back to the first difference

class Isolation:  # the shape of sandbox.isolation()'s answer
    level = "bubblewrap"
    description = ("bubblewrap is not available here (install the Debian package bubblewrap). Each check runs in "
                   "a separate process with no network: the files are kept from it only by an audit hook. Inside, "
                   "CPU, memory, file and process limits apply.")


def test_the_isolation_in_force_is_one_quiet_line(monkeypatch):
    monkeypatch.setattr("bptt.check.sandbox.isolation", Isolation)
    caption = next(c for c in open_page().caption if ":material/shield:" in c.value)
    assert caption.value == ":material/shield: Each check runs in a separate process with no network."
    assert caption.proto.help == Isolation.description  # the whole description, a hover away


@pytest.mark.parametrize("isolation", [None, lambda: "", lambda: 1 / 0])
def test_without_a_sandbox_description_the_line_says_what_always_holds(monkeypatch, isolation):
    if isolation is None:
        monkeypatch.delattr("bptt.check.sandbox.isolation", raising=False)
    else:
        monkeypatch.setattr("bptt.check.sandbox.isolation", isolation, raising=False)
    captions = [c.value for c in open_page().caption]
    assert f":material/shield: {check_words.FALLBACK}" in captions


def test_a_cs231n_file_is_judged_on_the_page_in_the_homeworks_names():
    code = (Path(__file__).parent / "corpus_cs231n" / "bug_no_dprev_h_skeleton.py").read_text()
    at = submit(open_page(), code)
    report = at.session_state[K + "report"]
    assert report.exit_code == 1 and report.divergence.quantity == "dnext_h" and report.divergence.t == 2
    assert [m.bug.id for m in report.bugs][:1] == ["missing-da-prev"]
    text = said(at)
    assert "rnn_step_backward" in text and "dnext_h" in text, text
