"""Check your code: paste or upload your own rnn_backward / lstm_backward and see where and why it goes wrong.

The whole check runs in a worker process (bptt/check/queue.py), which starts the student's code
in a separate, limited process; this page only waits its turn, reads the report and draws it, in the words of bptt/ui/check_words.py. Whatever the code or a client's widget
values are, the student sees a message that says what went wrong and what to do, never a
traceback: each stage below catches what it did not foresee, logs it and says so.
"""

import logging

import numpy as np
import streamlit as st

from bptt.check import from_text
from bptt.check.queue import check_elsewhere
from bptt.figures.heatmap import heatmap
from bptt.notation import bug_lines
from bptt.trace import differs, max_abs_error
from bptt.ui import check_words as words
from bptt.ui.entry import through_app
from bptt.ui.table import markdown_table
from bptt.ui.widget_values import dropped_values, forgive_odd_widget_values_once

forgive_odd_widget_values_once()  # a value a client sends that no widget can hold reads as no value
through_app()

LOG = logging.getLogger(__name__)
K = "check:"
CHOICES = (K + "function", K + "probe", K + "t", K + "quantity")  # the side-by-side's widgets
SCOPES = {"input": "handed to the cell", "step": "returned by the cell", "total": "running total after the step"}
EVIDENCE = {"whole": "your whole run", "cell": "your cell alone", "loop": "your loop with the reference cell",
            "forward": "your forward's caches"}
LONG_LISTING = 25  # lines; a longer listing scrolls inside its box
# Pasted code is code: the text boxes use the same monospace font as the listings.
CSS = """<style>
  .st-key-check-text textarea, .st-key-check-rebuilt textarea {
    font-family: "Source Code Pro", ui-monospace, monospace; font-size: 0.85rem; line-height: 1.45;}
  .st-key-check-verdict .stAlert p {font-size: 1.05rem;}
</style>"""


def read_input() -> words.Submission | None:
    """The code box, the upload and the check button, there at once.

    A plain button, not a form: a browser sends the box's text with the click, and so does any client
    that set the box in an earlier message (a form would drop a value not sent with its own submit).
    """
    paste, upload = st.tabs(["Paste your code", "Upload a file"])
    text = paste.text_area("Your functions (the course's rnn_cell_backward, rnn_backward, lstm_…, or CS231n's "
                           "rnn_step_backward, rnn_backward(dh, cache), lstm_…): pasted from the notebook or a forum "
                           "post, prose and all", height=260, key=K + "text",
                           placeholder="def rnn_backward(da, caches):\n    ...")
    file = upload.file_uploader("A .py file, the course's .ipynb notebook, or a .txt of pasted code",
                                type=["py", "ipynb", "txt"], key=K + "file")
    if not st.button("Check my code", type="primary", key=K + "run", icon=":material/fact_check:"):
        return None
    if file is not None:
        return words.read_upload(str(file.name), file.getvalue())
    return words.read_paste(text)


def run_check(submission: words.Submission) -> None:
    """Check the submission and keep its report for the reruns that follow; say why when there is nothing to check."""
    for key in (K + "report", K + "label", K + "read", K + "rebuilt", *CHOICES):
        st.session_state.pop(key, None)
    if submission.source is None:
        st.error(submission.problem, icon=":material/error:")
        return
    with st.status("Checking your code…", expanded=True) as status:
        bar = st.progress(0.0)

        def progress(message, fraction):
            status.update(label=message)
            bar.progress(min(max(float(fraction), 0.0), 1.0))

        try:
            report = check_elsewhere(submission.source, progress=progress)
        except Exception:  # the checker itself failed: say so, keep serving
            LOG.exception("the check failed")
            status.update(label="The check could not run", state="error")
            st.error("The checker itself failed on this code, so it says nothing about whether your code is right. "
                     "Check again; if it happens again, please report it with your code.", icon=":material/error:")
            return
        status.update(label=f"Checked {submission.label} in {report.seconds:.1f} s", state="complete", expanded=False)
    st.session_state[K + "report"] = report
    st.session_state[K + "label"] = submission.label
    st.session_state[K + "read"] = submission.notes


def show_line(source, line, missing=False, caption="Your code") -> None:
    """The few lines around `line`, numbered as in the report, the line marked where it stays in view."""
    if not isinstance(line, int) or not 0 < line <= source.code.count("\n") + 1:
        return
    st.caption(f"{caption}, {source.where(line)}")
    st.code(words.snippet(source.code, line, missing=missing), language="python", wrap_lines=True)


def in_notation(bug, report):
    """The bug's title, function, why and hint as the checked code's homework writes them (CS231n's or the course's)."""
    if words.notation_of(report) == "course":
        return bug
    try:
        return bug_lines(bug.id, "cs231n")
    except KeyError:  # a generated variant, or no CS231n counterpart: the words the report has
        return bug


def show_verdict(report) -> None:
    """The verdict first, in the words of what happened: the obvious sentence, then where the mistake lives."""
    said = words.sentences(report)
    with st.container(key=K + "verdict"):
        if report.error is not None:
            title, advice = words.headline(report.error)
            body = [f"**{title}.**", str(report.error.get("message", "")), *said, advice]
            st.error("\n\n".join(b for b in body if b), icon=":material/error:")
            show_line(report.source, report.error.get("line"))  # the line itself, on the first screen
        elif report.ok:
            lead, *rest = said or ["Every function you defined matches the reference on every input."]
            st.success("\n\n".join(["**Your code matches the reference.**", lead, *rest]), icon=":material/check_circle:")
        else:
            lead, *rest = said or ["Your code runs, but its results differ from the reference."]
            st.warning("\n\n".join([f"**{lead}**", *rest]), icon=":material/search:")
        if report.bugs:
            bug, line = in_notation(report.bugs[0].bug, report), report.bugs[0].line
            where = f", {report.source.where(line)}" if isinstance(line, int) else ""
            st.markdown(f"Likely bug: **{bug.title}** (in {bug.function}{where}). Why it happens and a hint are "
                        "below your code.")
        else:
            st.caption("The details are below your code.")


def show_details(report) -> None:
    """What the verdict rests on: the line, the named bug and its hint, the first difference, each function."""
    for note in (*st.session_state.get(K + "read", ()), *report.notes):
        st.caption(f":material/info: {note}")
    for match in report.bugs:
        bug = in_notation(match.bug, report)
        with st.container(border=True):
            st.markdown(f"#### Likely bug: {bug.title}")
            st.markdown(f"`{match.bug.id}` in `{bug.function}` · seen in {EVIDENCE.get(match.evidence, 'your run')}")
            st.markdown(f"**What happens.** {bug.why}")
            st.markdown(f"**Hint.** {bug.hint}")
            show_line(report.source, match.line, match.missing)
    raised = report.divergence is not None and (report.divergence.detail or {}).get("raised")
    first = None if raised and report.error is not None else words.first_difference(report.divergence,
                                                                                      steps_ran(report))
    if first is not None:
        st.markdown(f"**First difference.** {first}")
        if not report.bugs and report.error is None:
            st.caption("This does not match a bug the checker knows: start from this first difference.")
    if report.functions:
        rows = []
        for name, f in report.functions.items():
            bad = [k for k, v in f["outputs"].items() if not v["ok"]]
            rows.append({"function": name, "verdict": words.match_label(f["ok"]), "wrong outputs": ", ".join(bad) or "—"})
        st.markdown(markdown_table(rows))
    if str(report.stdout).strip():
        with st.expander("What your code printed"):
            st.text(str(report.stdout))


def steps_ran(report) -> bool | None:
    """Whether the student's loop called its cell on the input of the first difference (None: not known)."""
    d = report.divergence
    for probe, run, _ in report.runs.get(getattr(d, "function", None), ()):
        if probe is d.probe:
            return bool(run.steps)
    return None


def show_code_that_ran(report) -> None:
    """When what ran is not what was pasted (prose left out, fences, prompts, re-indented): show what ran."""
    source = report.source
    if not words.changed(source):
        return
    ran = source.error is None
    st.markdown("### The code that ran" if ran else "### The code the checker read")
    st.caption("This is not exactly what you pasted. The line numbers are the ones this report uses.")
    if source.cells:  # the report says "cell 7, line 3"; the listing counts through the kept cells
        st.caption("From the notebook: " + ", ".join(f"cell {n} starts at line {first}" for n, first in source.cells)
                   + ".")
    for note in source.notes:
        st.markdown(f"- {note}")
    lines = {}
    if report.error is not None and isinstance(report.error.get("line"), int):
        lines[report.error["line"]] = False
    for match in report.bugs:
        if isinstance(match.line, int):
            lines.setdefault(match.line, match.missing)
    long = source.code.count("\n") + 1 > LONG_LISTING
    st.code(words.numbered(source.code, lines), language="python", wrap_lines=True, height=480 if long else "content")
    with st.expander("Edit this code and check it again"):
        if source.reindented:
            st.caption("The indentation was rebuilt from the code's structure: check that every loop ends where "
                       "you meant it to.")
        st.text_area("The code that ran", value=source.code, height=320, key=K + "rebuilt")
        st.button("Check this code", key=K + "recheck")


def side_by_side(report) -> None:
    """Step through the student's loop next to the reference's, on the same input."""
    if not report.runs:
        return
    st.markdown("### Your run next to the reference, step by step")
    function = st.selectbox("Function", list(report.runs), key=K + "function")
    runs = report.runs[function]
    names = [probe.name for probe, _, _ in runs]
    d = report.divergence
    default = names.index(d.probe.name) if d is not None and d.probe.name in names else 0
    probe_name = st.selectbox("Input", names, index=default, key=K + "probe",
                              format_func=lambda n: f"{n} ({runs[names.index(n)][0].sizes})")
    probe, run, reference = runs[names.index(probe_name)]
    order = reference.order
    if not order:
        st.info("The reference loop runs no step on this input.")
        return
    by_t = {step.t: step for step in run.steps}
    first = d.t if d is not None and d.probe is probe else None
    t = st.select_slider("Step (the backward loop runs from t = T_x-1 down to 0)", options=list(order),
                         value=first if first in order else order[0], key=K + "t",
                         format_func=lambda t: f"t = {t}")
    ref_step = reference.step(t)
    step = by_t.get(t)
    if step is None:
        if run.error:
            when = f" at t = {run.error['t']}" if isinstance(run.error.get("t"), int) else ""
            st.warning(f"Your loop stopped with an error{when} before it called the cell for t = {t}: "
                       "the error is at the top of the report.")
        else:
            st.warning(f"Your loop never called the cell for t = {t}.")
        return
    groups = (("input", reference.input_keys, step.inputs, ref_step.inputs),
              ("step", reference.step_keys, step.outputs, ref_step.outputs),
              ("total", reference.total_keys, step.totals, ref_step.totals))
    rows, choices = [], []
    for label, keys, got, want in groups:
        for key in keys:
            if key in got:
                error = max_abs_error(got[key], want[key])
                rows.append({"quantity": key, "what": SCOPES[label],
                             "matches": words.match_label(not differs(got[key], want[key])),
                             "max abs error": "shape differs" if not np.isfinite(error) else f"{error:.3g}"})
                choices.append((label, key, got[key], want[key]))
    st.markdown(markdown_table(rows))
    if not choices:
        return
    labels = [f"{key} ({SCOPES[scope]})" for scope, key, _, _ in choices]
    wanted = f"{d.quantity} ({SCOPES.get(d.scope)})" if d is not None else labels[0]
    chosen = st.selectbox("Quantity to draw", labels, index=labels.index(wanted) if wanted in labels else 0,
                          key=K + "quantity")
    scope, key, got, want = choices[labels.index(chosen)]
    got2, want2 = np.atleast_2d(got), np.atleast_2d(want)
    if key == "dx":
        got2, want2 = got[:, :, t], want[:, :, t]
    zmax = float(max(np.abs(got2[np.isfinite(got2)]).max(initial=0), np.abs(want2[np.isfinite(want2)]).max(initial=0)))
    st.caption(f"{key}, {SCOPES[scope]}, at t = {t}: yours on the left, the reference's on the right, on one "
               "colour scale." + (" Yours is exactly 0 here, so its panel is white." if not np.any(got2) else ""))
    left, right = st.columns(2)
    left.plotly_chart(heatmap(got2, title=f"Yours: {key}, t = {t}", quantity=key, scope="student " + scope, t=t,
                              zmax=zmax), width="stretch", key=K + "mine")
    right.plotly_chart(heatmap(want2, title=f"Reference: {key}, t = {t}", quantity=key, scope="reference " + scope,
                               t=t, zmax=zmax), width="stretch", key=K + "theirs")


def guarded(draw, report, what: str) -> None:
    """Draw one part of the report; if it fails, say so in words and forget the choices that led there."""
    try:
        draw(report)
    except Exception:
        LOG.exception("check page: %s failed", what)
        for key in CHOICES:
            st.session_state.pop(key, None)
        st.error(f"The page could not draw {what}. The verdict above still holds; choose again, or check your "
                 "code again.", icon=":material/error:")


def recheck_submission() -> words.Submission | None:
    """The edited "code that ran", when its button was just pressed."""
    if not st.session_state.get(K + "recheck"):
        return None
    text = st.session_state.get(K + "rebuilt")
    if not isinstance(text, str) or not text.strip():
        return words.Submission(None, "The edited code is empty: paste your code again and check it.")
    return words.Submission(from_text(text, reindent_lost=False), label="your edited code")


def page() -> None:
    st.html(CSS)
    st.title("Check your code")
    st.caption("Paste or upload your own rnn_backward / lstm_backward (and cells, forwards), from the course's "
               "notebook or CS231n's rnn_layers.py (rnn_step_backward, recognised by its signature). It runs on "
               "several inputs; every step of your loop is compared with the reference, and known mistakes are named "
               "with a hint, never the solution. A GRU (gru_backward) is not checked here yet: step through the "
               "reference GRU in the step-through debugger.")
    line, whole = words.isolation()
    st.caption(f":material/shield: {line}", help=whole if whole != line else None)
    if dropped_values():
        st.warning("This page received a choice it could not read, so it used the default instead.",
                   icon=":material/warning:")
    verdict = st.container()  # above the code box: after a click the verdict is on the screen the student sees
    try:
        pressed = read_input()
        submission = recheck_submission() or pressed
    except Exception:
        LOG.exception("check page: reading the input failed")
        submission = words.Submission(None, "The page could not read what was sent. Paste your code as plain text, "
                                      "or upload the .py or .ipynb file itself, and press Check my code again.")
    if submission is not None:
        run_check(submission)
    report = st.session_state.get(K + "report")
    if report is None:
        if submission is None:
            st.info("Paste your code or upload a file, then press **Check my code**.", icon=":material/info:")
        return
    with verdict:
        guarded(show_verdict, report, "the verdict")
    guarded(show_details, report, "the details")
    guarded(show_code_that_ran, report, "the code that ran")
    guarded(side_by_side, report, "your run next to the reference")


try:
    page()
except Exception:  # the last net: whatever was not foreseen still ends in words
    LOG.exception("check page failed")
    st.error("Something went wrong on this page. Reload it and check your code again; if it happens again, "
             "please report it with your code.", icon=":material/error:")
