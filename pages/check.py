"""Check your code: paste or upload your own rnn_backward / lstm_backward and see where and why it goes wrong.

The code runs in a separate, limited process (bptt.check); this page only reads the report
and draws it. Nothing the student's code does can raise here.
"""

import numpy as np
import streamlit as st

from bptt.check import check, explain, from_file, from_text
from bptt.figures.heatmap import heatmap
from bptt.trace import differs, max_abs_error
from bptt.ui.entry import through_app
from bptt.ui.table import markdown_table

through_app()

K = "check:"
SCOPES = {"input": "handed to the cell", "step": "returned by the cell", "total": "running total after the step"}
EVIDENCE = {"whole": "your whole run", "cell": "your cell alone", "loop": "your loop with the reference cell",
            "forward": "your forward's caches"}
KINDS = {
    "syntax": "Python cannot read this code",
    "indentation": "The indentation is broken",
    "missing-function": "A function is missing",
    "runtime": "Your code raised an error",
    "shape": "A shape error",
    "timeout": "Your code ran too long",
    "memory": "Your code used too much memory",
    "output": "Your code returned something the checker cannot read",
}


def read_input():
    """The submission as a Source, from the uploaded file if there is one, else from the text box."""
    paste, upload = st.tabs(["Paste your code", "Upload a file"])
    text = paste.text_area("Your functions (rnn_cell_backward, rnn_backward, lstm_…): pasted from the notebook "
                           "or a forum post", height=260, key=K + "text",
                           placeholder="def rnn_backward(da, caches):\n    ...")
    file = upload.file_uploader("A .py file, the course's .ipynb notebook, or a .txt of pasted code",
                                type=["py", "ipynb", "txt"], key=K + "file")
    if file is not None:
        return from_file(file.name, file.getvalue())
    if text.strip():
        return from_text(text)
    return None


def confirm_reindent(source):
    """Rebuilt indentation is a guess: show it, let the student edit it, check only what they confirm."""
    st.warning("Your code lost its indentation (as happens when code is pasted into a forum). It was rebuilt "
               "from the code's structure. Check that every loop ends where you meant it to, edit if needed, "
               "then run the check.", icon=":material/format_indent_increase:")
    edited = st.text_area("Rebuilt code", value=source.code, height=320, key=K + "rebuilt")
    return from_text(edited, reindent_lost=False) if edited != source.code else source


def run_check(source):
    with st.status("Checking your code…", expanded=True) as status:
        bar = st.progress(0.0)

        def progress(message, fraction):
            status.update(label=message)
            bar.progress(fraction)

        try:
            report = check(source, progress=progress)
        except Exception as error:  # the checker itself failed: say so, keep serving
            status.update(label="The check could not run", state="error")
            st.error(f"The checker failed on this submission ({type(error).__name__}). Please report it with your code.")
            return None
        status.update(label=f"Checked in {report.seconds:.1f} s", state="complete", expanded=False)
    return report


def show_line(source, line, missing=False):
    """The student's own code around `line`, the line marked."""
    if not line:
        return
    lines = source.code.split("\n")
    lo, hi = max(0, line - 3), min(len(lines), line + 2)
    marker = "  # ← the line is missing after this one" if missing else "  # ← here"
    snippet = "\n".join(row + (marker if n + 1 == line else "") for n, row in enumerate(lines[lo:hi], start=lo))
    st.caption(f"Your code, {source.where(line)}")
    st.code(snippet, language="python", line_numbers=False)


def show_verdict(report):
    if report.error is not None:
        error = report.error
        st.error(f"**{KINDS.get(error['kind'], 'Error')}** ({error['kind']}): {error['message']}", icon=":material/error:")
        show_line(report.source, error.get("line"))
    elif report.ok:
        st.success("Every function matches the reference on every input: the course example, non-square "
                   "sizes, m = 1 and a long sequence.", icon=":material/check_circle:")
    else:
        st.warning("Your code runs, but its results differ from the reference.", icon=":material/search:")
    for note in (*report.source.notes, *report.notes):
        st.info(note, icon=":material/info:")
    for match in report.bugs:
        bug = match.bug
        with st.container(border=True):
            st.markdown(f"#### Likely bug: {bug.title}")
            st.markdown(f"`{bug.id}` in `{bug.function}` · seen in {EVIDENCE[match.evidence]}")
            st.markdown(f"**What happens.** {bug.why}")
            st.markdown(f"**Hint.** {bug.hint}")
            show_line(report.source, match.line, match.missing)
    if report.divergence is not None:
        st.markdown(f"**First difference.** {explain(report.divergence)}")
        if not report.bugs and report.error is None:
            st.caption("This does not match any bug in the catalog: start from this first difference.")
    if report.functions:
        rows = []
        for name, f in report.functions.items():
            bad = [k for k, v in f["outputs"].items() if not v["ok"]]
            rows.append({"function": name, "verdict": "matches" if f["ok"] else "differs",
                         "wrong outputs": ", ".join(bad) or "—"})
        st.markdown(markdown_table(rows))
    if report.stdout.strip():
        with st.expander("What your code printed"):
            st.text(report.stdout)


def side_by_side(report):
    """Step through the student's loop next to the reference's, on the same input."""
    if not report.runs:
        return
    st.markdown("### Your run next to the reference, step by step")
    function = st.selectbox("Function", list(report.runs), key=K + "function")
    runs = report.runs[function]
    names = [probe.name for probe, _, _ in runs]
    default = names.index(report.divergence.probe.name) if report.divergence and report.divergence.probe.name in names else 0
    probe_name = st.selectbox("Input", names, index=default, key=K + "probe",
                              format_func=lambda n: f"{n} ({runs[names.index(n)][0].sizes})")
    probe, run, reference = runs[names.index(probe_name)]
    order = reference.order
    if not order:
        st.info("The reference loop ran no step on this input.")
        return
    by_t = {step.t: step for step in run.steps}
    first = report.divergence.t if report.divergence and report.divergence.probe is probe else None
    t = st.select_slider("Step (the backward loop runs from t = T_x-1 down to 0)", options=list(order),
                         value=first if first in order else order[0], key=K + "t",
                         format_func=lambda t: f"t = {t}")
    ref_step = reference.step(t)
    step = by_t.get(t)
    if step is None:
        st.warning(f"Your loop never called the cell for t = {t}"
                   + (f" (it raised at t = {run.error.get('t')})." if run.error else "."))
        return
    groups = (("input", reference.input_keys, step.inputs, ref_step.inputs),
              ("step", reference.step_keys, step.outputs, ref_step.outputs),
              ("total", reference.total_keys, step.totals, ref_step.totals))
    rows, choices = [], []
    for label, keys, got, want in groups:
        for key in keys:
            if key in got:
                error = max_abs_error(got[key], want[key])
                rows.append({"quantity": key, "what": SCOPES[label], "matches": "✅" if not differs(got[key], want[key]) else "❌",
                             "max abs error": "shape differs" if not np.isfinite(error) else f"{error:.3g}"})
                choices.append((label, key, got[key], want[key]))
    st.markdown(markdown_table(rows))
    if not choices:
        return
    labels = [f"{key} ({SCOPES[scope]})" for scope, key, _, _ in choices]
    d = report.divergence
    wanted = f"{d.quantity} ({SCOPES.get(d.scope)})" if d is not None else labels[0]
    chosen = st.selectbox("Quantity to draw", labels, index=labels.index(wanted) if wanted in labels else 0,
                          key=K + "quantity")
    scope, key, got, want = choices[labels.index(chosen)]
    got2, want2 = np.atleast_2d(got), np.atleast_2d(want)
    if key == "dx":
        got2, want2 = got[:, :, t], want[:, :, t]
    zmax = float(max(np.abs(got2[np.isfinite(got2)]).max(initial=0), np.abs(want2[np.isfinite(want2)]).max(initial=0)))
    left, right = st.columns(2)
    title = f"{key} ({SCOPES[scope]}, t = {t})"
    left.plotly_chart(heatmap(got2, title=f"Yours: {title}", quantity=key, scope="student " + scope, t=t, zmax=zmax),
                      use_container_width=True, key=K + "mine")
    right.plotly_chart(heatmap(want2, title=f"Reference: {title}", quantity=key, scope="reference " + scope, t=t,
                               zmax=zmax), use_container_width=True, key=K + "theirs")


st.title("Check your code")
st.caption("Paste or upload your own rnn_backward / lstm_backward (and cells, forwards). It runs in a separate, "
           "limited process on four inputs; every step of your loop is compared with the reference, and known "
           "mistakes are named with a hint, never the solution.")
source = read_input()
if source is not None:
    if source.error is None and source.reindented:
        source = confirm_reindent(source)
    if st.button("Check my code", type="primary", key=K + "run"):
        st.session_state[K + "report"] = run_check(source)
elif K + "report" in st.session_state:
    del st.session_state[K + "report"]
report = st.session_state.get(K + "report")
if report is not None:
    show_verdict(report)
    side_by_side(report)
elif source is None:
    st.info("Paste your code or upload a file, then press **Check my code**.")
