"""The figures as pure functions: what they draw is the data they were given, readable at any size."""

import inspect
import json

import numpy as np
import plotly.colors
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from bptt import RunConfig, get_bug, rnn_backward, run
from bptt.figures import Panel, chart_config, grouped_heatmaps, heatmap, heatmap_grid, norm_chart, pooled, timeline
from bptt.figures.codepanel import MISSING, find, listing, loop_body, with_bug, without_docstring
from bptt.figures.flow import flow_chart
from bptt.figures.notation_view import axes, label, shown, sizes, words
from bptt.figures.spec import CHAR_EM, fit_titles, fit_values
from bptt.figures.truncation import truncation_chart
from bptt.flow import Flow
from bptt.figures.marks import step_marks
from bptt.truncation import Comparison


@pytest.mark.parametrize("cols", [1, 63, 64, 65, 200])
@pytest.mark.parametrize("rows", [1, 64, 129])
def test_pooling_keeps_each_blocks_signed_extreme_and_fits_the_limit(rows, cols):
    rng = np.random.RandomState(rows * 1000 + cols)
    values = rng.randn(rows, cols)
    z, br, bc = pooled(values, 64)
    assert z.shape[0] <= 64 and z.shape[1] <= 64
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            block = values[i * br:(i + 1) * br, j * bc:(j + 1) * bc]
            assert z[i, j] == block.flat[np.argmax(np.abs(block))]


def test_pooling_never_hides_a_nan_or_an_inf():
    values = np.zeros((100, 100))
    values[3, 4], values[50, 60] = np.nan, -np.inf
    z, br, bc = pooled(values, 10)
    assert np.isnan(z[0, 0]) and z[5, 6] == -np.inf
    assert np.count_nonzero(~np.isfinite(z)) == 2


def test_heatmap_sends_the_matrix_as_float32_with_a_symmetric_fixed_range():
    values = np.arange(15.0).reshape(3, 5) - 7
    fig = heatmap(values, title="dz", quantity="dz", scope="outputs", t=2, zmax=9.0, rows="unit", cols="example")
    trace = fig.data[0]
    assert trace.z.dtype == np.float32
    np.testing.assert_array_equal(trace.z, values.astype(np.float32))
    assert (trace.zmin, trace.zmax) == (-9.0, 9.0)
    assert "unit %{y}" in trace.hovertemplate and "example %{x}" in trace.hovertemplate
    assert trace.text[0][0] == "-7" and trace.texttemplate == "%{text}"
    assert fig.layout.meta == {"quantity": "dz", "scope": "outputs", "t": 2, "shape": [3, 5], "block": [1, 1],
                               "fixed_scale": True, "nonfinite": 0}
    assert fig.layout.yaxis.autorange == "reversed"  # row 0 on top, as numpy prints it


def test_heatmap_autoscale_centres_on_zero_and_all_zero_stays_valid():
    auto = heatmap(np.ones((2, 2)), title="x", quantity="x")
    assert auto.data[0].zmid == 0 and auto.data[0].zmin is None
    zero = heatmap(np.zeros((2, 2)), title="x", quantity="x", zmax=0.0)
    assert zero.data[0].zmax == 1.0 and zero.data[0].zmin == -1.0


def test_large_heatmaps_are_pooled_and_say_so_without_text():
    fig = heatmap(np.random.RandomState(0).randn(256, 16), title="dz", quantity="dz")
    assert fig.data[0].z.shape == (64, 16) and fig.layout.meta["block"] == [4, 1]
    assert "pooled" in fig.layout.title.text and fig.data[0].text is None
    assert list(fig.data[0].y[:3]) == [0, 4, 8]  # each row labelled by the first unit of its block


def test_lstm_weights_draw_the_a_prev_xt_divider():
    fig = heatmap(np.zeros((5, 8)), title="dWf", quantity="dWf", split=5)
    assert [s.x0 for s in fig.layout.shapes] == [4.5]


def _some_figures():
    trace = run(RunConfig()).trace
    big = Panel(np.random.RandomState(1).randn(130, 70), "big", "dWf", "totals", 1, 2.0, split=65)
    return {
        "heatmap": heatmap(np.arange(6.0).reshape(2, 3), title="a", quantity="a", zmax=5.0),
        "heatmap, pooled with a divider": heatmap(np.ones((200, 9)), title="b", quantity="b", split=4),
        "grouped": grouped_heatmaps([("Group", [Panel(np.ones((2, 2)), "p", "p", "inputs", 0), big])], columns=2),
        "timeline": timeline(4, trace.order, 2, trace.norms("da_prevt"), out=1.0, cell_hover=list("abcd")),
        "norms": norm_chart({"x": trace.norms("da_prevt")}, current_t=1, log=True, bands=True),
    }


@pytest.mark.parametrize("name", list(_some_figures()))
def test_figures_built_without_validation_pass_plotly_validation_unchanged(name):
    fig = _some_figures()[name]
    validated = go.Figure(fig.to_dict())  # raises ValueError on a misspelt property or a bad value
    assert json.loads(pio.to_json(validated, validate=False)) == json.loads(pio.to_json(fig, validate=False))


def test_grouped_heatmaps_say_how_to_read_each_panel_without_drawing_axes():
    panels = [Panel(np.ones((3, 2)), "da_next", "da_next", "inputs", 0, 1.0),
              Panel(np.ones((130, 1)), "dba", "dba", "outputs", 0, 1.0, cols="sum over examples")]
    fig = grouped_heatmaps([("", panels)], columns=2)
    assert not any(getattr(fig.layout, f"{axis}axis{suffix}").visible for axis in "xy" for suffix in ("", "2"))
    first, second = (a.text for a in fig.layout.annotations[:2])
    assert "rows: unit 0–2 ↓ · columns: example 0–1 →" in first
    assert "rows: unit 0–129 ↓ · columns: sum over examples" in second and "pooled" in second
    assert "example %{x}" in fig.data[0].hovertemplate  # hovering names the cell the title does not


def test_timeline_arrows_follow_the_carried_gradient():
    trace = run(RunConfig()).trace
    flow = trace.norms("da_prevt")
    fig = timeline(4, trace.order, 1, flow, out=float(np.linalg.norm(trace.da0)))
    meta = fig.layout.meta
    assert meta["flow"][1:] == pytest.approx(list(flow))
    assert meta["colors"] == ["#D9D9D9", "#F58518", "#4C78A8", "#4C78A8"]  # t=3, 2 done; t=1 now; t=0 to come
    arrows, stopped = fig.data[1], fig.data[2]
    assert arrows.marker.symbol == "triangle-left"
    assert list(stopped.x) == [3.5]  # nothing flows into the last step from the future
    assert len(arrows.x) == 4


def test_timeline_shows_that_nothing_flows_for_the_missing_da_t_bug():
    trace = run(RunConfig(bug="missing-da-t")).trace
    fig = timeline(4, trace.order, 3, trace.norms("da_prevt"), out=0.0)
    assert len(fig.data[1].x) == 0 and len(fig.data[2].x) == 5


def test_timeline_marks_the_step_that_raised():
    trace = run(RunConfig(bug="no-transpose-wax")).trace
    fig = timeline(4, trace.order, 3, trace.norms("da_prevt"), error_t=trace.error.t)
    assert fig.layout.meta["colors"][3] == "#E45756"


def test_norm_chart_marks_now_and_leaves_zeros_out_of_a_log_axis():
    fig = norm_chart({"a": np.array([0.0, 1.0, 10.0, np.nan])}, current_t=2, log=True)
    assert fig.layout.yaxis.type == "log"
    assert np.isnan(fig.data[0].y[0]) and fig.data[0].y[2] == 10.0
    assert fig.layout.meta["zeros_left_out"] == {"a": 1}
    assert fig.layout.shapes[0].x0 == 2


def test_chart_config_names_the_png():
    config = chart_config("dz_t2")
    assert config["toImageButtonOptions"] == {"format": "png", "filename": "dz_t2", "scale": 2}


def test_code_panel_finds_the_bugs_right_line_despite_its_comment():
    lines = inspect.getsource(__import__("bptt").rnn_cell_backward).splitlines()
    bug = get_bug("no-transpose-wax")
    at = find(lines, bug.right)
    assert len(at) == 1 and "Wax.T" in lines[at[0]]
    swapped, where = with_bug(lines, bug.right, bug.wrong)
    assert where == at and swapped[at[0]].strip() == bug.wrong and swapped[at[0]].startswith("    ")


def test_code_panel_shows_a_missing_line_as_a_gap():
    lines = without_docstring(inspect.getsource(rnn_backward).splitlines())
    swapped, where = with_bug(lines, "da0 = da_prevt", "")
    assert swapped[where[0]].strip() == MISSING and len(swapped) == len(lines)


def test_code_panel_swaps_every_line_of_a_multi_line_bug():
    lines = inspect.getsource(rnn_backward).splitlines()
    bug = get_bug("overwrite-not-accumulate")
    swapped, where = with_bug(lines, bug.right, bug.wrong)
    assert [swapped[i].strip() for i in where] == bug.wrong.splitlines()


def test_loop_body_is_the_for_loop_of_the_backward():
    lines = without_docstring(inspect.getsource(rnn_backward).splitlines())
    body = loop_body(lines)
    assert lines[body[0]].strip() == "for t in reversed(range(T_x)):"
    assert lines[body[-1]].strip() == "dba += dbat"
    assert not any('"""' in line for line in lines)


def test_listing_escapes_and_marks_lines():
    html = listing(["x = a < b", "y = 1"], marks={0: "now"}, notes={1: "# <oops>"})
    assert "a &lt; b" in html and "&lt;oops&gt;" in html and 'data-mark="now"' in html


def test_heatmap_grid_describes_each_panel_and_states_each_colour_range_in_its_title():
    panels = [Panel(np.arange(6.0).reshape(2, 3), "a", "a", "inputs", 1, 5.0),
              Panel(-np.ones((4, 1)) * 3, "b", "b", "outputs", 1), Panel(np.zeros((3, 7)), "c", "dWf", "outputs", 1, split=3)]
    fig = heatmap_grid(panels, columns=2)
    assert [p["quantity"] for p in fig.layout.meta["panels"]] == ["a", "b", "dWf"]
    np.testing.assert_array_equal(fig.data[0].z, np.arange(6.0).reshape(2, 3).astype(np.float32))
    assert (fig.data[0].zmin, fig.data[0].zmax) == (-5.0, 5.0) and fig.data[1].zmid == 0
    assert not any(trace.showscale for trace in fig.data)  # colour bars were half of the browser's drawing time
    titles = [a.text for a in fig.layout.annotations][:3]
    assert titles[0].startswith("a ·") and "colour ±5<" in titles[0]
    assert "colour ±3 (this panel)" in titles[1]  # autoscaled: the range plotly derives (symmetric about zero)
    assert [s.xref for s in fig.layout.shapes] == ["x3"] and fig.layout.shapes[0].x0 == 2.5
    # panels of one row share a band of the height; the second row sits below the first
    assert fig.layout.yaxis.domain == fig.layout.yaxis2.domain
    assert fig.layout.yaxis3.domain[1] < fig.layout.yaxis.domain[0]
    assert fig.layout.xaxis.domain[1] < fig.layout.xaxis2.domain[0]


def test_grouped_heatmaps_start_each_group_on_a_new_row_under_its_heading():
    one = Panel(np.ones((2, 2)), "p", "p", "inputs", 0, 1.0)
    fig = grouped_heatmaps([("First", [one, one, one]), ("Second", [one])], columns=2)
    assert len(fig.data) == 4 and len(fig.layout.meta["panels"]) == 4
    headings = [a.text for a in fig.layout.annotations if a.text.startswith("<b>")]
    assert headings == ["<b>First</b>", "<b>Second</b>"]
    rows = sorted({tuple(getattr(fig.layout, f"yaxis{'' if i == 1 else i}").domain) for i in range(1, 5)}, reverse=True)
    assert len(rows) == 3  # two rows for the first group (2 + 1 panels), one for the second


def test_norm_chart_bands_are_invisible_until_a_stylesheet_lights_one():
    fig = norm_chart({"a": np.array([1.0, 2.0, 3.0])}, current_t=None, bands=True)
    band = fig.data[-1]
    assert band.type == "bar" and list(band.x) == [0, 1, 2] and band.marker.opacity == 0 and band.yaxis == "y2"
    assert fig.layout.yaxis2.overlaying == "y" and not fig.layout.shapes  # nothing in the figure depends on t


@pytest.mark.parametrize("order, t, done, now", [
    ((3, 2, 1, 0), 1, [(2, 3)], 1),  # the course's loop: cells to the right are done
    ((3, 2, 1, 0), 3, [], 3),
    ((0, 1, 2, 3), 2, [(0, 1)], 2),  # a loop that runs forward (a bug)
    ((3, 1, 0, 2), 2, [(0, 1), (3, 3)], 2),
])
def test_step_marks_colour_the_cells_as_the_timeline_would(order, t, done, now):
    css = step_marks(4, order, t)
    assert css.startswith(f"<style>/* current_t: {t} */")
    lines = css.splitlines()
    blue = [line for line in lines if "#4C78A8" in line]
    assert blue == [f".bptt-tl-cells rect:nth-child(n+{a + 1})"
                    f":nth-child(-n+{b + 1}) {{fill: #4C78A8 !important;}}" for a, b in done]
    assert sum(f"nth-child(n+{now + 1}):nth-child(-n+{now + 1}) {{fill: #F58518" in line for line in lines) == 1
    assert f".bptt-norm-bands rect:nth-child(n+{t + 1}):nth-child(-n+{t + 1}) {{opacity: 0.35" in css
    assert f".bptt-tl-labels text:nth-child(n+{t + 1}):nth-child(-n+{t + 1}) {{visibility: visible" in css


def test_step_marks_write_the_running_step_under_the_listings_hook_line():
    css = step_marks(4, (3, 2, 1, 0), 2, label='Step 2 of 4 — t = 2 "x"')
    assert '.bptt-running::after {content: "# ← running now: Step 2 of 4 — t = 2 \\"x\\"";}' in css
    assert "bptt-running" not in step_marks(4, (3, 2, 1, 0), 2)
    html = listing(["for t in x:", "    y"], running=0)
    assert html.index('class="bptt-running"') > html.index("for t in x:") > 0


def test_step_marks_leave_the_cell_that_raised_red():
    css = step_marks(4, (3, 2), 1, error_t=1)
    assert "#F58518" not in css and "nth-child(n+3):nth-child(-n+4) {fill: #4C78A8" in css  # t = 3, 2 ran


@pytest.mark.parametrize("zmax", [1.0, 2.5, None])
def test_zero_is_drawn_pure_white_and_the_ends_full_blue_and_red(zmax):
    fig = heatmap(np.array([[-2.5, 0.0, 2.5]]), title="dz", quantity="dz", zmax=zmax)
    trace = fig.data[0]
    low, high = (trace.zmin, trace.zmax) if zmax is not None else (-2.5, 2.5)
    position = (0.0 - low) / (high - low)  # where zero falls on the colour scale
    colour = plotly.colors.find_intermediate_color(*_around(trace.colorscale, position), colortype="rgb")
    assert plotly.colors.unlabel_rgb(colour) == (255.0, 255.0, 255.0)
    assert trace.colorscale[0][1] == "rgb(5,48,97)" and trace.colorscale[-1][1] == "rgb(103,0,31)"


def _around(scale, position):
    """(colour below, colour above, fraction between) for a position on a plotly colour scale."""
    for (a, ca), (b, cb) in zip(scale, scale[1:]):
        if a <= position <= b:
            return ca, cb, (position - a) / (b - a) if b > a else 0.0
    raise ValueError(position)


@pytest.mark.parametrize("build", [
    lambda: norm_chart({"‖da‖": np.array([1.0, 2.0, 0.5])}, current_t=1, log=True, bands=True),
    lambda: timeline(4, (3, 2, 1, 0), 2, np.array([0.0, 1.0, 2.0, 1.5]), 0.7),
    lambda: heatmap(np.ones((3, 4)), title="dz", quantity="dz", zmax=1.0),
])
def test_presenter_figures_name_no_font_under_the_minimum(build):
    from bptt.figures.spec import with_larger_text
    spec = with_larger_text(build().to_dict(), 16)
    go.Figure(spec)  # still a valid figure

    def sizes(node, key=""):
        if isinstance(node, dict):
            if key.endswith("font") and "size" in node:
                yield node["size"]
            for k, v in node.items():
                yield from sizes(v, k)
        elif isinstance(node, list):
            for v in node:
                yield from sizes(v)

    found = list(sizes({k: v for k, v in spec.items() if k != "layout"} | {"layout": {
        k: v for k, v in spec["layout"].items() if k != "template"}}))
    assert found and min(found) >= 16
    axes = [v for k, v in spec["layout"].items() if k.startswith(("xaxis", "yaxis"))]
    assert all(a["tickfont"]["size"] >= 16 for a in axes)


def test_the_truncation_chart_draws_both_runs_cuts_and_stopped_steps_from_the_comparison():
    full = np.array([8.0, 4.0, 2.0, 1.0, 0.0])  # (T_x,): grows going back, nothing into the last step
    cut_run = np.array([1.0, 0.0, 2.0, 1.0, 0.0])  # the link into t = 1 is cut
    comparison = Comparison(factors=np.array([1.0, 0.0, 1.0, 1.0, 1.0]), cut=(1,), recurrent_bias=0.25,
                            relative_errors={}, stopped=(1, 0), truncated_norms=cut_run, full_norms=full)
    fig = truncation_chart(comparison, "lstm")
    full_y, truncated_y = (np.array(fig.data[i].y, dtype=float) for i in (0, 1))
    np.testing.assert_array_equal(full_y, [8.0, 4.0, 2.0, 1.0, np.nan])  # zero cannot sit on a log axis
    np.testing.assert_array_equal(truncated_y, [1.0, np.nan, 2.0, 1.0, np.nan])
    assert list(fig.data[2].x) == [1, 0] and list(fig.data[2].y) == [4.0, 8.0]  # where the explosion is stopped
    assert [shape.x0 for shape in fig.layout.shapes] == [1.5]  # between t = 1 and the step it no longer hears
    assert fig.layout.meta["cut"] == [1] and fig.layout.meta["recurrent_bias"] == 0.25
    assert "‖da_prevt and dc_prevt‖ full" == fig.data[0].name
    assert truncation_chart(comparison, "lstm", notation="cs231n").data[0].name == "‖dprev_h and dprev_c‖ full"


@pytest.mark.parametrize("notation", ["course", "cs231n"])
def test_the_notation_view_transposes_and_relabels_exactly_when_cs231n(notation):
    values = np.arange(6.0).reshape(3, 2)  # (n_a, m)
    drawn = shown(values, notation)
    np.testing.assert_array_equal(drawn, values.T if notation == "cs231n" else values)
    rows, cols = axes(values, "unit", "example", notation)
    assert (rows, cols) == (("example (N)", "hidden unit (H)") if notation == "cs231n" else ("unit", "example"))
    assert label("dWaa", "rnn", notation) == ("dWh" if notation == "cs231n" else "dWaa")
    assert sizes(RunConfig(), notation) == ("D = 3, H = 5, N = 10, T = 4" if notation == "cs231n"
                                            else "n_x = 3, n_a = 5, m = 10, T_x = 4")


def test_the_gru_flow_chart_draws_its_update_gate_path_and_no_radius_line():
    flow = Flow(cell="gru", radius=1.5, da_prevt=np.array([0.5, 1.0, 0.0]), dc_prevt=None,
                path=np.array([0.25, 0.5, 1.0]), da_last=1.0)
    fig = flow_chart(flow)
    assert fig.layout.meta["series"] == ["‖da_prevt‖ carried into t", "∏ z back to t (a's direct path)"]
    np.testing.assert_array_equal(np.array(fig.data[1].y, dtype=float), [0.25, 0.5, 1.0])
    assert flow_chart(flow, notation="cs231n").layout.meta["series"][0] == "‖dprev_h‖ carried into t"


@pytest.mark.parametrize("course, homework", [
    ("`da[:,:,3]`", "`dh[:, 3, :]`"), ("a<3>", "h[:, 3, :]"), ("dx[:,:,t]", "dx[:, t, :]"),
    ("`da_prevt` through `Waa.T`", "`dprev_h` through `Wh.T`"), ("a_prev", "prev_h"),
])
def test_words_write_a_course_sentence_with_the_homeworks_batch_first_indexing(course, homework):
    assert words(course, "rnn", "cs231n") == homework
    assert words(course, "rnn", "course") == course


@pytest.mark.parametrize("width", [140, 280, 560])
@pytest.mark.parametrize("size", [14, 18])
def test_a_long_title_wraps_to_its_chart_and_the_figure_grows_by_its_lines(width, size):
    text = "da_next at t = 12: what the cell receives from the loss and from the step after it"
    small = "<span style='font-size:11px'>colour ±2.5</span>"
    spec = {"data": [{"type": "scatter", "name": "‖∏ diag(1 - a²)·Waaᵀ‖ back to t, the whole way"}],
            "layout": {"height": 200, "title": {"text": f"{text}<br>{small}", "font": {"size": size}},
                       "xaxis": {"title": {"text": "t (the loss at the right, the gradient flows back)"}}}}
    fitted = fit_titles(spec, width)
    lines = fitted["layout"]["title"]["text"].split("<br>")
    assert lines[-1] == small and " ".join(lines[:-1]) == text  # every word kept, in order; the markup line whole
    assert all(len(line) * CHAR_EM * size <= width for line in lines[:-1])
    assert fitted["layout"]["height"] > 200 if len(lines) > 2 else fitted["layout"]["height"] == 200
    assert fitted["layout"]["title"].get("automargin", len(lines) == 2) is True
    for wrapped, whole in [(fitted["layout"]["xaxis"]["title"]["text"], spec["layout"]["xaxis"]["title"]["text"]),
                           (fitted["data"][0]["name"], spec["data"][0]["name"])]:
        assert wrapped.replace("<br>", " ") == whole and all(len(line) * CHAR_EM * 12 <= width
                                                              for line in wrapped.split("<br>"))
    assert spec["layout"]["height"] == 200 and "<br>" not in spec["layout"]["xaxis"]["title"]["text"]  # a copy
    go.Figure(fitted)  # still a valid figure


@pytest.mark.parametrize("shape", [(3, 6), (5, 4), (16, 2)])
@pytest.mark.parametrize("columns", [1, 3])
def test_heatmap_values_are_printed_only_where_each_fits_its_cell(shape, columns):
    values = np.random.RandomState(0).randn(*shape) * 10  # long labels, "-12.3"
    panels = [Panel(values, title=f"p{k}", quantity="dz") for k in range(columns)]
    spec = (heatmap(values, title="dz", quantity="dz") if columns == 1 else heatmap_grid(panels, columns=columns)).to_dict()
    assert all(trace.get("text") is not None for trace in spec["data"])  # small enough to print, at any width
    wide, narrow = fit_values(spec, 4000), fit_values(spec, 20 + 12 * shape[1] * columns)  # 12 px a cell: no "-12.3"
    assert all(trace.get("text") is not None for trace in wide["data"])
    assert all(trace.get("text") is None and "texttemplate" not in trace for trace in narrow["data"])
    assert all(trace.get("text") is not None for trace in spec["data"])  # a copy: the figure itself keeps them
    go.Figure(narrow)
