"""The step-through page through AppTest: every control, the URL contract, and what each chart shows.

Values are checked against the trace (decoded from the figure JSON the browser receives) and
against the numbers the course notebook prints, not against the page's own code paths.
"""

import html
import io
import json
import re
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from bptt import RunConfig, bugs_for, run
from bptt.ui.export import step_csv, step_json, trace_npz
from bptt.ui.state import parse
from figure_spec import decode, heatmaps, marked_t, specs

APP = str(Path(__file__).resolve().parent.parent / "app.py")
P = "stepper:"
RNN_DOWNSTREAM = ("da_prevt", "da_next", "dz", "dxt", "da_prev", "dWax", "dWaa", "dba")


def open_app(**params) -> AppTest:
    """The page stepping on the server (where AppTest can click); browser stepping: open_browser_stepping."""
    params.setdefault("stepping", "server")
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({k: str(v) for k, v in params.items()})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_t(at: AppTest) -> int:
    return marked_t(at)


def texts(at: AppTest) -> str:
    """Everything the page says in markdown, captions, alerts, code blocks and HTML listings, as one string."""
    parts = [e.value for kind in ("markdown", "caption", "warning", "error", "info", "subheader", "code")
             for e in at.get(kind)]
    parts += [html.unescape(re.sub(r"<[^>]+>", "", h.proto.body.replace("</div>", "\n"))) for h in at.get("html")]
    return "\n".join(str(p) for p in parts)


def check_heatmaps_match(at: AppTest, config: RunConfig, t: int) -> int:
    """Every heatmap's z is the trace's value at step t (in float32), and covers the whole matrix."""
    step = run(config).trace.step(t)
    maps = heatmaps(at)
    for (scope, key), (meta, z) in maps.items():
        want = np.asarray(getattr(step, scope)[key], dtype=np.float32)
        assert meta["t"] == t
        assert z.dtype == np.float32, key
        assert meta["block"] == [1, 1]
        np.testing.assert_array_equal(z, want, err_msg=f"{scope}.{key} at t={t}")
    return len(maps)


# --- the first screen -------------------------------------------------------------------------------

def test_default_screen_is_the_course_rnn_at_its_first_step_with_the_notebook_values():
    at = open_app()
    assert at.subheader[0].value == "◀ Step 1 of 4 — t = 3"
    assert shown_t(at) == 3
    assert at.radio(key=P + "cell").value == "rnn"
    assert at.selectbox(key=P + "scenario").value == "course"
    assert at.selectbox(key=P + "bug").value == "none"
    printed = texts(at)
    # the notebook's own printed output (deeplearning.ai, "Building a RNN step by step")
    assert 'gradients["dx"][1][2] = [-2.07101689 -0.59255627  0.02466855  0.01483317]' in printed
    assert 'gradients["dx"].shape = (3, 10, 4)' in printed
    assert 'gradients["da0"][2][3] = -0.31494237512' in printed
    assert 'gradients["dWax"][3][1] = 11.26410449652' in printed
    assert 'gradients["dWaa"][1][2] = 2.30333312657' in printed
    assert 'gradients["dba"][4] = [-0.74747722]' in printed
    assert check_heatmaps_match(at, RunConfig(), 3) == 12


def test_course_lstm_shows_the_notebook_lstm_values():
    at = open_app(cell="lstm")
    printed = texts(at)
    assert 'gradients["dx"][1][2] = [ 0.00218254  0.28205375 -0.48292508 -0.43281115]' in printed
    assert 'gradients["da0"][2][3] = 0.31277031025' in printed
    assert 'gradients["dWf"][3][1] = -0.08098023109' in printed
    assert 'gradients["dWi"][1][2] = 0.40512433092' in printed
    assert 'gradients["dWc"][3][1] = -0.07937467355' in printed
    assert 'gradients["dWo"][1][2] = 0.03894877576' in printed
    for key, value in (("dbf", "-0.15745657"), ("dbi", "-0.50848333"), ("dbc", "-0.42510818"), ("dbo", "-0.17958196")):
        assert f'gradients["{key}"][4] = [{value}]' in printed


def test_page_says_the_course_scenario_fixes_sizes_and_disables_them():
    at = open_app()
    assert "fixes the sizes and the seed" in texts(at)
    for name in ("n_x", "n_a", "m", "T_x", "seed", "scale"):
        assert at.number_input(key=P + name).disabled


# --- heatmaps against the trace ---------------------------------------------------------------------

@pytest.mark.parametrize("t", [0, 2])
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_every_heatmap_equals_the_trace_at_that_step(cell, t):
    at = open_app(cell=cell, t=t)
    count = check_heatmaps_match(at, RunConfig(cell=cell), t)
    assert count == (12 if cell == "rnn" else 29)


def test_heatmaps_use_one_fixed_symmetric_scale_per_quantity_across_steps():
    trace = run(RunConfig()).trace
    for t in range(4):
        for (scope, key), (meta, z) in heatmaps(open_app(t=t)).items():
            assert meta["fixed_scale"] and meta["zmin"] == -meta["zmax"]
            values = [getattr(s, scope)[key] for s in trace.steps()]
            largest = max(float(np.max(np.abs(v))) for v in values)
            assert meta["zmax"] == pytest.approx(largest if largest > 0 else 1.0), (scope, key)


def test_big_matrices_are_pooled_and_the_page_says_so():
    at = open_app(scenario="classroom", n_a=130, m=3, n_x=2, T_x=3, seed=0, scale=1.0)
    maps = heatmaps(at)
    meta, z = maps["outputs", "dWaa"]
    assert meta["shape"] == [130, 130] and meta["block"] == [3, 3] and z.shape == (44, 44)
    step = run(RunConfig("rnn", "classroom", 0, 2, 130, 3, 3, 1.0)).trace.step(2)
    assert np.max(np.abs(z)) == pytest.approx(np.max(np.abs(step.outputs["dWaa"])), rel=1e-6)
    titles = [a["text"] for s in specs(at) for a in s["layout"].get("annotations", [])]
    assert any("pooled" in title for title in titles)


# --- the URL contract -------------------------------------------------------------------------------

@pytest.mark.parametrize("t", [0, 1, 2, 3])
def test_missing_da_t_zeroes_everything_downstream_while_da_t_stays(t):
    at = open_app(bug="missing-da-t", t=t)
    maps = heatmaps(at)
    da = run(RunConfig()).da
    np.testing.assert_array_equal(maps["inputs", "da_t"][1], da[:, :, t].astype(np.float32))
    assert np.any(maps["inputs", "da_t"][1] != 0)
    zero = [(s, k) for (s, k) in maps if k in RNN_DOWNSTREAM]
    assert len(zero) == 11  # da_prevt, da_next, dz, dxt, da_prev, three shares, three totals
    for key in zero:
        assert not np.any(maps[key][1]), key
    assert "Every gradient is exactly zero" in texts(at)
    assert at.toggle(key=P + "famous").value


def test_a_loss_with_no_gradient_is_explained_not_reported_as_a_bug():
    # one symbol: the softmax is always certain, so the echo loss is 0 and da is exactly zero everywhere
    config = RunConfig(cell="lstm", scenario="echo", n_x=1, n_a=4, m=3, T_x=5)
    assert not np.any(run(config).da)
    at = open_app(cell="lstm", scenario="echo", n_x=1, n_a=4, m=3, T_x=5)
    assert not at.error
    assert "Every gradient is exactly zero, and rightly so" in at.info[0].value
    assert "Choose n_x ≥ 2" in at.info[0].value


@pytest.mark.parametrize("t, step", [(3, 1), (2, 2), (1, 3), (0, 4)])
def test_t_in_the_url_lands_on_that_step(t, step):
    at = open_app(t=t)
    assert at.subheader[0].value == f"◀ Step {step} of 4 — t = {t}"
    assert at.slider(key=P + "t").value == t
    assert shown_t(at) == t
    assert at.query_params.get("t") == (None if t == 3 else str(t))


def test_a_full_url_restores_exactly_that_state():
    params = dict(cell="lstm", scenario="echo", seed=7, n_x=3, n_a=4, m=2, T_x=6, scale=0.75, t=4,
                  bug="lstm-dc-not-carried")
    at = open_app(**params)
    assert at.radio(key=P + "cell").value == "lstm"
    assert at.selectbox(key=P + "scenario").value == "echo"
    for name in ("seed", "n_x", "n_a", "m", "T_x"):
        assert at.number_input(key=P + name).value == params[name]
    assert at.number_input(key=P + "scale").value == 0.75
    assert at.selectbox(key=P + "bug").value == "lstm-dc-not-carried"
    assert shown_t(at) == 4
    assert {k: v for k, v in at.query_params.items() if k != "stepping"} == {k: str(v) for k, v in params.items()}
    config = RunConfig("lstm", "echo", 7, 3, 4, 2, 6, 0.75, "lstm-dc-not-carried")
    check_heatmaps_match(at, config, 4)


@pytest.mark.parametrize("params, param", [
    ({"cell": "tree"}, "cell"),
    ({"scenario": "nope"}, "scenario"),
    ({"scenario": "classroom", "n_a": "0"}, "n_a"),
    ({"scenario": "classroom", "T_x": "abc"}, "T_x"),
    ({"scenario": "classroom", "m": "100000"}, "m"),
    ({"scenario": "classroom", "seed": "-1"}, "seed"),
    ({"scenario": "classroom", "scale": "nan"}, "scale"),
    ({"scenario": "classroom", "scale": "99"}, "scale"),
    ({"t": "7"}, "t"),
    ({"t": "-1"}, "t"),
    ({"t": "last"}, "t"),
    ({"bug": "no-such-bug"}, "bug"),
    ({"bug": "lstm-c-view"}, "bug"),
    ({"n_a": "8"}, "n_a"),
    ({"present": "maybe"}, "present"),
    ({"hide": "sizes,wings"}, "hide"),
    ({"lock": "timeline"}, "lock"),
    ({"colour": "red"}, "colour"),
])
def test_bad_parameters_give_a_message_and_fall_back(params, param):
    at = open_app(**params)
    warnings = [w.value for w in at.warning]
    assert any(f"URL parameter `{param}`" in w for w in warnings), warnings
    assert at.subheader[0].value.startswith("◀ Step 1 of")
    state, _ = parse(params)
    assert at.radio(key=P + "cell").value == state.config.cell


def test_course_sizes_in_the_url_are_explained_not_used():
    at = open_app(n_a=8, T_x=9)
    assert any("fixes its sizes" in w.value for w in at.warning)
    assert at.number_input(key=P + "n_a").value == 5
    assert at.subheader[0].value == "◀ Step 1 of 4 — t = 3"


def test_url_follows_the_controls():
    at = open_app()
    at.selectbox(key=P + "scenario").set_value("classroom").run()
    assert at.query_params["scenario"] == "classroom"
    assert at.query_params["n_a"] == "3" and at.query_params["T_x"] == "5"
    at.number_input(key=P + "n_a").set_value(4).run()
    assert at.query_params["n_a"] == "4"
    at.button(key=P + "btn-Next step").click().run()
    assert at.query_params["t"] == "3"
    at.toggle(key=P + "famous").set_value(True).run()
    assert at.query_params["bug"] == "missing-da-t"
    assert parse(at.query_params)[0].config == RunConfig("rnn", "classroom", 0, 2, 4, 2, 5, 1.0, "missing-da-t")


# --- every control ----------------------------------------------------------------------------------

def test_cell_switches_to_the_lstm_and_drops_an_rnn_bug():
    at = open_app(bug="tanh-twice")
    at.radio(key=P + "cell").set_value("lstm").run()
    assert not at.exception
    assert at.selectbox(key=P + "bug").value == "none"
    assert ("outputs", "dft") in heatmaps(at)
    assert at.query_params["cell"] == "lstm" and "bug" not in at.query_params


def test_scenario_loads_its_sizes_and_sizes_change_the_run():
    at = open_app()
    at.selectbox(key=P + "scenario").set_value("vanishing").run()
    assert at.number_input(key=P + "T_x").value == 25
    assert not at.number_input(key=P + "n_a").disabled
    assert at.subheader[0].value == "◀ Step 1 of 25 — t = 24"
    for name, value in (("n_x", 3), ("n_a", 6), ("m", 2), ("T_x", 7)):
        at.number_input(key=P + name).set_value(value).run()
    assert at.subheader[0].value == "◀ Step 1 of 7 — t = 6"
    meta, z = heatmaps(at)["outputs", "dxt"]
    assert meta["shape"] == [3, 2]
    check_heatmaps_match(at, RunConfig("rnn", "vanishing", 0, 3, 6, 2, 7, 0.5), 6)


def test_seed_and_scale_change_the_run():
    at = open_app(scenario="classroom")
    before = heatmaps(at)["inputs", "da_t"][1]
    at.number_input(key=P + "seed").set_value(5).run()
    assert not np.array_equal(heatmaps(at)["inputs", "da_t"][1], before)
    at.number_input(key=P + "scale").set_value(2.5).run()
    assert at.query_params["seed"] == "5" and at.query_params["scale"] == "2.5"
    check_heatmaps_match(at, RunConfig("rnn", "classroom", 5, 2, 3, 2, 5, 2.5), 4)


@pytest.mark.parametrize("bug", [b.id for b in bugs_for("rnn")] + [b.id for b in bugs_for("lstm")])
def test_every_catalog_bug_opens_without_a_traceback(bug):
    cell = "lstm" if bug.startswith("lstm") else "rnn"
    at = open_app(cell=cell)
    at.selectbox(key=P + "bug").set_value(bug).run()
    assert not at.exception
    page = texts(at)
    assert "Bug on:" in page
    trace = run(RunConfig(cell=cell, bug=bug)).trace
    if trace.error is not None:
        assert "raised" in page and trace.error.message in page
        code = html.unescape("".join(h.proto.body for h in at.get("html")))
        assert trace.error.message in code  # beside the wrong line
    else:
        assert "First difference" in page or "only the returned" in page
        check_heatmaps_match(at, RunConfig(cell=cell, bug=bug), trace.order[0])


def test_famous_toggle_and_bug_selector_stay_in_step():
    at = open_app()
    at.toggle(key=P + "famous").set_value(True).run()
    assert at.selectbox(key=P + "bug").value == "missing-da-t"
    at.selectbox(key=P + "bug").set_value("tanh-twice").run()
    assert not at.toggle(key=P + "famous").value
    at.toggle(key=P + "famous").set_value(True).run()
    at.toggle(key=P + "famous").set_value(False).run()
    assert at.selectbox(key=P + "bug").value == "none"


def test_famous_toggle_from_the_lstm_switches_to_the_rnn():
    at = open_app(cell="lstm")
    at.toggle(key=P + "famous").set_value(True).run()
    assert at.radio(key=P + "cell").value == "rnn"
    assert "Every gradient is exactly zero" in texts(at)


def test_step_buttons_walk_backward_in_time():
    at = open_app()
    seen = [shown_t(at)]
    for _ in range(3):
        at.button(key=P + "btn-Next step").click().run()
        seen.append(shown_t(at))
    assert seen == [3, 2, 1, 0]
    assert at.button(key=P + "btn-Next step").disabled
    at.button(key=P + "btn-Previous step").click().run()
    assert shown_t(at) == 1
    at.button(key=P + "btn-First step").click().run()
    assert shown_t(at) == 3 and at.subheader[0].value == "◀ Step 1 of 4 — t = 3"
    at.button(key=P + "btn-Last step").click().run()
    assert shown_t(at) == 0 and at.subheader[0].value == "◀ Step 4 of 4 — t = 0"


def chart_data(at: AppTest, kind: str) -> dict:
    """What the page sent its timeline or norm chart (charts.js draws it): the JSON-ready dict."""
    found = [e for e in at.get("bidi_component") if e.proto.component_name == "bptt_step_chart"
             and json.loads(e.proto.bytes.decode())["kind"] == kind]
    assert len(found) == 1, len(found)
    return json.loads(found[0].proto.bytes.decode())["chart"]


@pytest.mark.parametrize("stepping", ["server", "browser"])
def test_the_timeline_and_norm_chart_show_the_traces_norms_and_stepping_moves_only_their_marks(stepping):
    at = open_app(stepping=stepping)
    trace = run(RunConfig()).trace
    strip, norms = chart_data(at, "timeline"), chart_data(at, "norms")
    carried = [float(np.linalg.norm(trace.step(t).inputs["da_prevt"])) for t in range(trace.T_x)]
    assert strip["links"][0]["norm"] == pytest.approx(float(np.linalg.norm(trace.da0)))  # da0, out to a0
    assert [link["norm"] for link in strip["links"][1:]] == pytest.approx(carried)
    assert strip["links"][-1] == {"norm": 0.0, "size": 0.0}  # nothing is carried into the last step: open circle
    flowing = sorted((link["norm"], link["size"]) for link in strip["links"] if link["norm"])
    assert [size for _, size in flowing] == sorted(size for _, size in flowing)  # larger norm, larger arrow
    assert flowing[0][1] == 0.0 and flowing[-1][1] == 1.0
    assert norms["series"][0]["name"].startswith("‖da_prevt‖") and norms["series"][0]["y"] == pytest.approx(carried)
    if stepping == "server":
        at.button(key=P + "btn-Next step").click().run()
    else:
        at.session_state[P + "browser-t"] = 2
        at.run()
    assert (chart_data(at, "timeline"), chart_data(at, "norms")) == (strip, norms)  # not drawn again
    assert shown_t(at) == 2
    if stepping == "browser":
        assert not at.get("plotly_chart")  # nothing on the page needs plotly's script


@pytest.mark.parametrize("bug", [None, "tanh-twice"])  # the loop's own listing; the loop under a cell bug's listings
def test_stepping_leaves_the_code_listings_alone_and_the_stylesheet_says_which_step_runs(bug):
    def listings(at):
        return [h.proto.body for h in at.get("html") if "bptt-code" in h.proto.body]

    def running(at):
        css = "".join(h.proto.body for h in at.get("html") if "current_t" in h.proto.body)
        return re.search(r'\.bptt-running::after \{content: "(.*?)";\}', css).group(1)

    at = open_app(**({"bug": bug} if bug else {}))
    before = listings(at)
    assert any('class="bptt-running"' in body for body in before)  # the line the stylesheet writes under
    assert running(at) == "# ← running now: Step 1 of 4 — t = 3"
    at.button(key=P + "btn-Next step").click().run()
    assert listings(at) == before  # the same HTML: the browser does not draw the code again
    assert running(at) == "# ← running now: Step 2 of 4 — t = 2"


def test_step_buttons_read_first_previous_next_last_and_name_the_t_they_go_to():
    at = open_app()  # the course's loop: t = 3, 2, 1, 0
    labels = [b.label for b in at.button if b.key and b.key.startswith(P + "btn-")]
    assert labels == ["⇤ First step (t = 3)", "◀ Previous step", "Next step (t = 2) ▶", "Last step (t = 0) ⇥"]
    assert at.button(key=P + "btn-Next step").proto.shortcut.lower() == "right"
    assert at.button(key=P + "btn-Previous step").proto.shortcut.lower() == "left"
    at.button(key=P + "btn-Next step").click().run()
    assert shown_t(at) == 2 and at.button(key=P + "btn-Previous step").label == "◀ Previous step (t = 3)"
    at = open_app(bug="forward-order")  # a loop that runs forward in time: Next is t + 1
    assert at.subheader[0].value == "◀ Step 1 of 4 — t = 0"
    assert at.button(key=P + "btn-Next step").label == "Next step (t = 1) ▶"
    at.button(key=P + "btn-Next step").click().run()
    assert shown_t(at) == 1


def test_slider_moves_to_any_t():
    at = open_app()
    at.slider(key=P + "t").set_value(1).run()
    assert shown_t(at) == 1 and at.subheader[0].value == "◀ Step 3 of 4 — t = 1"
    check_heatmaps_match(at, RunConfig(), 1)


def test_slider_past_an_error_snaps_to_the_step_that_raised():
    at = open_app(bug="no-transpose-wax")
    at.slider(key=P + "t").set_value(0).run()
    assert shown_t(at) == 3
    assert "never reached" in texts(at)


def test_play_advances_one_step_per_tick_and_stops_at_the_end():
    at = open_app()
    at.select_slider(key=P + "speed").set_value(4.0)
    at.toggle(key=P + "play").set_value(True).run()
    assert at.toggle(key=P + "play").value
    for want in (2, 1, 0):
        time.sleep(0.3)
        at.run()
        assert shown_t(at) == want
    time.sleep(0.3)
    at.run()
    assert not at.toggle(key=P + "play").value  # at the last step play switches itself off


def test_autoscale_toggle_frees_each_panel():
    at = open_app()
    at.toggle(key=P + "autoscale").set_value(True).run()
    assert all(not meta["fixed_scale"] for meta, _ in heatmaps(at).values())


def test_difference_view_shows_bug_minus_correct():
    at = open_app(bug="no-transpose-waa", t=1)
    at.toggle(key=P + "diff").set_value(True).run()
    buggy = run(RunConfig(bug="no-transpose-waa")).trace.step(1)
    correct = run(RunConfig()).trace.step(1)
    for (scope, key), (meta, z) in heatmaps(at).items():
        want = (getattr(buggy, scope)[key] - getattr(correct, scope)[key]).astype(np.float32)
        np.testing.assert_allclose(z, want, rtol=1e-6, atol=1e-6)
    assert "First difference from the correct code" in texts(at)


def test_log_toggle_and_spectral_radius():
    at = open_app(scenario="vanishing")
    norms = chart_data(at, "norms")
    assert norms["log"] and norms["y_title"].endswith("(log scale)")  # vanishing opens on a log scale
    low, high = norms["range"]
    drawn = [v for s in norms["series"] for v in s["y"] if v is not None]
    assert low <= min(drawn) and max(drawn) <= high and all(np.log10(t) % 1 == 0 for t in norms["ticks"])
    at.toggle(key=P + "log").set_value(False).run()
    assert not chart_data(at, "norms")["log"] and chart_data(at, "norms")["range"][0] == 0.0
    assert "ρ = 0.5" in texts(at) and "vanish" in texts(at)


def _banner_for_inf_in_da():
    """A run whose da holds an Inf at t = 2, drawn by the page's banner panel."""
    from dataclasses import replace

    import numpy as np

    from bptt import RunConfig, run, trace_rnn
    from bptt.ui import panels, stepping
    from bptt.ui.summary import summarize

    r = run(RunConfig())
    da = r.da.copy()
    da[1, 4, 2] = np.inf
    r = replace(r, da=da, trace=trace_rnn(da, r.caches))
    panels.bug_banners(r, summarize(r.trace), None, lambda t: stepping.label(r.trace, t))


def test_nan_and_inf_are_reported_with_their_first_step():
    at = AppTest.from_function(_banner_for_inf_in_da).run()
    assert not at.exception
    assert "NaN or Inf first appears at Step 2 of 4 — t = 2, in `da_t`" in at.error[0].value


def test_values_beyond_float32_are_sent_as_float64_not_as_inf():
    at = open_app(scenario="exploding", scale=10.0, T_x=200, n_a=64, t=0)
    meta, z = heatmaps(at)["inputs", "da_prevt"]
    assert z.dtype == np.float64 and np.all(np.isfinite(z)) and np.max(np.abs(z)) > np.finfo(np.float32).max


def test_exports_are_offered():
    at = open_app()
    assert len(at.get("download_button")) == 3


# --- teacher controls -------------------------------------------------------------------------------

def test_hide_and_lock_controls():
    at = open_app(hide="sizes,seed,code", lock="cell,bug,step")
    keys = {w.key for w in at.number_input}
    assert not {P + n for n in ("n_x", "n_a", "m", "T_x", "seed")} & keys
    assert at.radio(key=P + "cell").disabled
    assert at.selectbox(key=P + "bug").disabled and at.toggle(key=P + "famous").disabled
    assert at.button(key=P + "btn-Next step").disabled and at.slider(key=P + "t").disabled
    assert "The code" not in [m.value for m in at.markdown]
    assert at.query_params["hide"] == "code,seed,sizes" and at.query_params["lock"] == "bug,cell,step"


def test_presenter_layout():
    at = open_app(present=1)
    css = "".join(h.proto.body for h in at.get("html"))
    assert 'stSidebar"]' in css and "display: none" in css
    assert at.query_params["present"] == "1"


# --- exports (the functions behind the buttons) -----------------------------------------------------

def test_npz_export_holds_plain_arrays_equal_to_the_trace():
    r = run(RunConfig(bug="overwrite-not-accumulate"))
    data = np.load(io.BytesIO(trace_npz(r)), allow_pickle=False)
    assert json.loads(str(data["config"]))["bug"] == "overwrite-not-accumulate"
    for step in r.trace.steps():
        np.testing.assert_array_equal(data["dz"][step.t], step.outputs["dz"])
        np.testing.assert_array_equal(data["da_prevt"][step.t], step.inputs["da_prevt"])
    for key, value in r.trace.gradients().items():
        np.testing.assert_array_equal(data[f"final_{key}"], value)
    assert "dWaa" not in data.files  # matrices are derived from the vectors, not stored per step


def test_npz_export_of_a_run_that_raised_records_the_error():
    r = run(RunConfig(bug="no-transpose-wax"))
    data = np.load(io.BytesIO(trace_npz(r)), allow_pickle=False)
    assert "not aligned" in str(data["error"]) and not any(f.startswith("final_") for f in data.files)


def test_step_csv_and_json_hold_every_matrix_of_the_step():
    step = run(replace(RunConfig(), scenario="classroom")).trace.step(2)
    rows = step_csv(step).splitlines()
    assert rows[0] == "t,scope,quantity,row,col,value"
    got = {(r.split(",")[1], r.split(",")[2], int(r.split(",")[3]), int(r.split(",")[4])): float(r.split(",")[5])
           for r in rows[1:]}
    assert got["outputs", "dz", 1, 0] == step.outputs["dz"][1, 0]
    doc = json.loads(step_json(step))
    np.testing.assert_array_equal(np.array(doc["totals"]["dWaa"]), step.totals["dWaa"])
    assert doc["t"] == 2


# ---- stepping in the browser: a classroom-sized run goes whole, a large one a window of steps at a time ---------


def open_browser_stepping(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({k: str(v) for k, v in params.items()})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def browser_data(at: AppTest) -> dict:
    """What the browser stepper was sent: its header and every step's panels, the matrices decoded.

    A large run's panels have z None; its "chunks" map each step sent this time to its panels' matrices.
    """
    found = [e for e in at.get("bidi_component") if e.proto.component_name == "bptt_browser_stepper"]
    assert len(found) == 1, len(found)
    raw = json.loads(found[0].proto.bytes.decode())  # the component's data is one UTF-8 JSON document, as bytes
    data = raw["payload"] | raw["header"]
    panels = [panel for row in data["rows"] for panel in row["panels"]]
    for panel in panels:
        if panel["z"] is not None:
            panel["z"] = [decode(z | {"shape": panel["shape"]}) for z in panel["z"]]
    data["chunks"] = {int(t): [decode(z | {"shape": panel["shape"]}) for z, panel in zip(zs, panels)]
                      for t, zs in raw["chunks"].items()}
    return data


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("scenario", ["course", "classroom"])
def test_a_classroom_sized_run_sends_every_step_once_with_the_traces_values(cell, scenario):
    at = open_browser_stepping(cell=cell, scenario=scenario)
    config = parse({"cell": cell, "scenario": scenario})[0].config
    trace = run(config).trace
    data = browser_data(at)
    assert data["steps"] == list(trace.order)
    assert data["labels"] == [f"Step {k + 1} of {config.T_x} — t = {t}" for k, t in enumerate(trace.order)]
    assert [b.key for b in at.button if b.key and "btn-" in b.key] == []  # no server round trip per step
    assert not [s for s in at.subheader if s.value.startswith("◀ Step")]  # the heading is the browser's
    first_screen = [r["heading"] for r in data["rows"] if r["first_screen"]]
    assert first_screen[0] == "What the loop hands the cell" and "weight gradients" in first_screen[-1]
    for row in data["rows"]:
        for panel in row["panels"]:
            for k, t in enumerate(trace.order):
                want = np.asarray(getattr(trace.step(t), panel["scope"])[panel["key"]], dtype=np.float32)
                np.testing.assert_array_equal(panel["z"][k], want.reshape(panel["shape"]))
                assert f"t = {t}" in panel["titles"][k] or f"[:,:,{t}]" in panel["titles"][k], panel["titles"][k]


def test_the_hand_over_row_reads_da_t_plus_da_prevt_equals_da_next_and_names_where_da_prevt_came_from():
    data = browser_data(open_browser_stepping(scenario="classroom"))
    row = data["rows"][0]
    assert [(p["op"], p["key"]) for p in row["panels"]] == [("", "da_t"), ("+", "da_prevt"), ("=", "da_next")]
    da_t, da_prevt, da_next = (p["z"] for p in row["panels"])
    for k in range(len(data["steps"])):
        np.testing.assert_allclose(da_t[k] + da_prevt[k], da_next[k], rtol=1e-6, atol=1e-7)
    titles = row["panels"][1]["titles"]
    assert titles[0] == "da_prevt at t = 4: zero, nothing carried yet" and titles[1] == "da_prevt at t = 3: from t = 4"


def test_browser_panels_keep_one_colour_range_per_quantity_over_all_steps_unless_autoscaled():
    at = open_browser_stepping(scenario="classroom")
    config = parse({"scenario": "classroom"})[0].config
    steps = list(run(config).trace.steps())
    for row in browser_data(at)["rows"]:
        for panel in row["panels"]:
            largest = max(float(np.max(np.abs(getattr(s, panel["scope"])[panel["key"]]))) for s in steps)
            assert panel["zmax"] == pytest.approx(largest if largest > 0 else 1.0)
    at.toggle(key=P + "autoscale").set_value(True).run()
    assert all(p["zmax"] is None for row in browser_data(at)["rows"] for p in row["panels"])


def test_the_step_the_browser_reports_moves_the_url_the_export_and_the_server_state():
    at = open_browser_stepping(scenario="classroom")
    assert browser_data(at)["start"] == 4 and "t" not in at.query_params
    at.session_state[P + "browser-t"] = 2  # what the component's on_t_change callback stores
    at.run()
    assert at.query_params["t"] == "2" and shown_t(at) == 2
    assert any(e.label == "Export (step t = 2)" for e in at.expander)
    assert browser_data(at)["start"] == 4  # the same data: the browser, already at t = 2, draws nothing again


def test_a_link_with_t_opens_the_browser_stepper_on_that_step():
    at = open_browser_stepping(scenario="classroom", t=1)
    assert browser_data(at)["start"] == 1 and shown_t(at) == 1


LARGE = {"scenario": "classroom", "n_x": "16", "n_a": "256", "m": "16", "T_x": "200"}


def report_view(at: AppTest, t: int, have: list) -> dict:
    """What the component's on_view_change callback stores when the browser shows t and holds `have`."""
    run_id = browser_data(at)["run"]
    at.session_state[P + "browser-t"] = t
    at.session_state[P + "browser-have"] = (run_id, have)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return browser_data(at)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_large_run_steps_in_the_browser_a_window_of_steps_at_a_time_with_the_traces_values(cell):
    at = open_browser_stepping(**LARGE, cell=cell)
    config = parse(LARGE | {"cell": cell})[0].config
    trace = run(config).trace
    order = list(trace.order)
    data = browser_data(at)
    assert data["whole"] is False and data["steps"] == order and len(data["labels"]) == 200
    panels = [panel for row in data["rows"] for panel in row["panels"]]
    assert all(panel["z"] is None and len(panel["titles"]) == 200 for panel in panels)  # titles whole, matrices not
    behind, ahead = data["window"]
    assert sorted(data["chunks"], reverse=True) == order[:ahead + 1]  # the first step and the ones the loop runs next
    for t, zs in data["chunks"].items():
        for panel, z in zip(panels, zs):
            want = np.asarray(getattr(trace.step(t), panel["scope"])[panel["key"]], dtype=np.float32)
            np.testing.assert_array_equal(z, want.reshape(panel["shape"]), err_msg=f"{panel['key']} at t={t}")
    # the browser moved two steps on and holds what it was sent: only the steps that came into the window follow
    k = 2
    held = sorted(data["chunks"])
    data = report_view(at, order[k], held)
    assert sorted(data["chunks"], reverse=True) == [s for s in order[max(0, k - behind):k + ahead + 1]
                                                    if s not in held]
    assert at.query_params["t"] == str(order[k])
    # a jump to the end, holding nothing there: the end of the loop and the steps before it
    data = report_view(at, 0, held)
    assert sorted(data["chunks"], reverse=True) == order[-behind - 1:]


@pytest.mark.parametrize("params", [
    {"scenario": "classroom", "stepping": "server"},  # asked for
    {"bug": "no-transpose-wax"},  # raises: the step that raised has nothing to draw
])
def test_raising_runs_and_stepping_server_keep_the_server_round_trip(params):
    at = open_browser_stepping(**params)
    assert not [e for e in at.get("bidi_component") if e.proto.component_name == "bptt_browser_stepper"]
    assert at.button(key=P + "btn-Next step") is not None


def test_an_unknown_stepping_value_says_so_and_steps_in_the_browser():
    at = open_browser_stepping(stepping="fast")
    assert any("stepping='fast' is not understood" in w.value for w in at.warning)
    assert browser_data(at)["steps"] == [3, 2, 1, 0]


def test_the_projector_layout_puts_the_step_first_and_hides_the_toolbar():
    def css(at):
        return "".join(h.proto.body for h in at.get("html") if "<style>" in h.proto.body)

    plain = open_browser_stepping()
    assert "@media (max-width: 1280px)" in css(plain) and ".st-key-bptt-step {order: -1;}" in css(plain)
    assert 'header[data-testid="stHeader"] {display: none;}' not in css(plain)
    present = open_browser_stepping(present=1)
    assert ".st-key-bptt-step {order: -1;}" in css(present) and "@media (max-width: 1280px)" not in css(present)
    assert 'header[data-testid="stHeader"] {display: none;}' in css(present)
    assert browser_data(present)["present"] is True


def test_the_browser_stepper_loads_no_script_and_draws_zero_white():
    data = browser_data(open_browser_stepping())
    assert "plotly" not in data  # its heatmaps are canvases: no script to fetch, from here or elsewhere
    assert data["colorscale"][5] == [0.5, "rgb(255,255,255)"]


# ---- the timeline and norm chart as the browser draws them (bptt/figures/timeline.py, norms.py) ---------------


def test_strip_data_sizes_arrows_by_the_log_of_the_norm_and_leaves_open_circles_where_nothing_flows():
    from bptt.figures.timeline import strip_data

    strip = strip_data(4, (3, 2), np.array([np.nan, 1.0, 100.0, 0.0]), out=None, error_t=1)
    assert strip["links"][0] == {"norm": None, "size": None}  # da0: the loop raised before returning it
    assert strip["links"][1] == {"norm": None, "size": None}  # t = 0 never ran
    assert strip["links"][2] == {"norm": 1.0, "size": 0.0} and strip["links"][3] == {"norm": 100.0, "size": 1.0}
    assert strip["links"][4] == {"norm": 0.0, "size": 0.0}
    middle = strip_data(3, (2, 1, 0), np.array([1.0, 10.0, 100.0]))["links"][2]
    assert middle["size"] == pytest.approx(0.5)  # 10 is half way from 1 to 100 on a log scale
    assert strip["error_t"] == 1 and strip["labels"] == [True] * 4


@pytest.mark.parametrize("log", [False, True])
def test_norms_data_keeps_every_finite_value_inside_its_range_and_counts_the_zeros_a_log_scale_leaves_out(log):
    from bptt.figures.norms import norms_data

    values = np.array([0.0, 0.02, 3.0, 250.0, np.nan])
    data = norms_data({"a": values}, log=log)
    y = data["series"][0]["y"]
    assert y[4] is None and (y[0] is None) == log and y[1:4] == pytest.approx([0.02, 3.0, 250.0])
    low, high = data["range"]
    assert low <= min(v for v in y if v is not None) and max(v for v in y if v is not None) <= high
    assert data["ticks"][0] >= low and data["ticks"][-1] <= high and len(data["ticks"]) >= 3
    assert data["zeros_left_out"] == ({"a": 1} if log else {})
    assert data["x_ticks"] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_the_browser_rows_show_every_matrix_the_cells_step_holds(cell):
    from bptt.figures.stepper_data import rows_for

    trace = run(RunConfig(cell=cell)).trace
    step = trace.step(trace.order[0])
    drawn = {(scope, key) for _, _, panels in rows_for(cell) for scope, key, *_ in panels}
    held = {(scope, key) for scope in ("inputs", "outputs", "totals") for key in getattr(step, scope)
            if not (scope == "totals" and key == "dx")}  # dx fills a column per step: dxt shows it
    assert drawn == held


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_in_cs231n_notation_the_browser_stepper_draws_each_matrix_batch_first_under_the_homeworks_names(cell):
    at = open_browser_stepping(scenario="classroom", cell=cell, notation="cs231n")
    config = parse({"scenario": "classroom", "cell": cell})[0].config
    trace = run(config).trace
    data = browser_data(at)
    panels = {(p["scope"], p["key"]): p for row in data["rows"] for p in row["panels"]}
    t = trace.order[1]
    k = data["steps"].index(t)
    da_next = panels["inputs", "da_next"]
    np.testing.assert_array_equal(da_next["z"][k], trace.step(t).inputs["da_next"].T.astype(np.float32))  # (N, H)
    assert (da_next["rows"], da_next["cols"]) == ("example", "unit")
    assert da_next["titles"][k] == f"dnext_h = dh[:, {t}, :] + dprev_h"
    assert panels["inputs", "da_prevt"]["titles"][k] == f"dprev_h at t = {t}: from t = {trace.order[0]}"
    bias = next(p for (scope, key), p in panels.items() if scope == "outputs" and key.startswith("db"))
    assert bias["shape"] == [1, config.n_a]  # a bias is CS231n's row (H,)
    if cell != "rnn":  # the gates' weights transposed: [prev_h; x] down the rows, the divider across them
        weights = next(p for (scope, key), p in panels.items() if scope == "outputs" and key.startswith("dW"))
        assert weights["shape"] == [config.n_a + config.n_x, config.n_a]
        assert weights["split"] == config.n_a and weights["split_rows"] is True


@pytest.mark.parametrize("randomized", [False, True])
def test_truncation_is_marked_on_the_timeline_and_in_the_carried_gradients_title(randomized):
    from bptt.truncation import carry_factors

    params = {"scenario": "classroom", "T_x": "12", "truncate": "3"} | ({"randomized": "1"} if randomized else {})
    at = open_browser_stepping(**params)
    config = parse(params)[0].config
    factors = carry_factors(config.T_x, 3, randomized, config.seed)
    assert np.any(factors == 0)  # some link is cut in either kind
    trace = run(config).trace
    strip = chart_data(at, "timeline")
    titles = next(p for row in browser_data(at)["rows"] for p in row["panels"] if p["key"] == "da_prevt")["titles"]
    for k, t in enumerate(trace.order):
        link = strip["links"][t + 1]
        carried = trace.step(t).inputs["da_prevt"]
        if factors[t] == 0:
            assert link.get("cut") is True and link["norm"] == 0.0 and not np.any(carried)
            assert titles[k].endswith("— cut by truncation")
        elif factors[t] != 1:
            assert link["factor"] == pytest.approx(factors[t]) and f"×{factors[t]:.3g}" in titles[k]
        else:
            assert "cut" not in link and "factor" not in link and "truncation" not in titles[k]
