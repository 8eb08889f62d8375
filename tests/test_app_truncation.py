"""The gradient-flow page with the GRU beside the RNN and LSTM, and its truncated-BPTT section, through app.py.

The truncated gradients are rebuilt here from rnn_cell_backward with a loop that drops the carried gradient
every k steps, d2l's detach written out: independent of bptt/truncation.py, which the page reads.
"""

import re

import numpy as np
import pytest
from test_app_teaching import array, assert_same, figure, open_page

from bptt import RunConfig
from bptt.flow import side_by_side
from bptt.rnn import rnn_cell_backward, rnn_forward
from bptt.scenarios import make_inputs

EXPLODING = RunConfig(scenario="exploding", seed=0, n_x=2, n_a=8, m=4, T_x=25, scale=1.5)


def detached_every(k: int, config: RunConfig) -> tuple:
    """(dWaa, ‖da_prevt‖ per t) of the RNN with the gradient from step k·j into step k·j - 1 dropped."""
    inputs = make_inputs(config)
    _, _, caches = rnn_forward(inputs.x, inputs.a0, inputs.parameters)
    da_prevt = np.zeros_like(inputs.a0)  # (n_a, m)
    dWaa, carried = 0.0, np.zeros(config.T_x)
    for t in reversed(range(config.T_x)):
        carried[t] = np.linalg.norm(da_prevt)
        gradients = rnn_cell_backward(inputs.da[:, :, t] + da_prevt, caches[0][t])
        dWaa = dWaa + gradients["dWaa"]
        da_prevt = gradients["da_prev"] if t % k else np.zeros_like(da_prevt)  # detached where a chunk starts
    return dWaa, carried


def percent(at, label_start: str) -> float:
    metric = next(m for m in at.metric if m.label.startswith(label_start))
    return float(metric.value.rstrip("%")) / 100


def test_the_gru_sits_beside_the_rnn_and_the_lstm_with_its_own_path():
    at = open_page("gradient_flow")
    flows = side_by_side(RunConfig(scenario="vanishing", seed=0, n_x=2, n_a=8, m=4, T_x=25, scale=0.5))
    gru = figure(at, cell="gru")
    assert_same(array(gru["data"][0]["y"]), flows["gru"].da_prevt)
    assert_same(array(gru["data"][1]["y"]), flows["gru"].path)
    assert "∏ z" in gru["layout"]["meta"]["series"][1]
    assert next(m for m in at.metric if "∏ z" in m.label).value == f"{flows['gru'].path[0]:.3g}"


@pytest.mark.parametrize("k", [5, 7])
def test_truncation_cuts_where_d2l_detaches_and_its_dwaa_error_is_measured(k):
    at = open_page("gradient_flow", {"scenario": "exploding", "truncate": str(k)})
    assert at.slider(key="flow_truncate").value == k and at.query_params["truncate"] == str(k)
    dWaa, carried = detached_every(k, EXPLODING)
    full, _ = detached_every(EXPLODING.T_x + 1, EXPLODING)  # k past the end: nothing is ever detached
    chart = figure(at, cell="rnn", kind="truncation")
    assert chart["layout"]["meta"]["cut"] == [t - 1 for t in range(EXPLODING.T_x - 1, 0, -1) if t % k == 0]
    assert_same(array(chart["data"][1]["y"]), carried)  # zero (not drawn) into every cut step
    error = np.linalg.norm(dWaa - full) / np.linalg.norm(full)
    assert percent(at, "RNN: bias in dWaa") == pytest.approx(error, abs=5e-4)
    assert error > 0.01  # the exploding run's far steps matter: truncation visibly biases dWaa


def test_truncation_stops_the_rnns_explosion_where_full_bptt_outgrows_every_chunk():
    at = open_page("gradient_flow", {"scenario": "exploding", "truncate": "5"})
    _, carried = detached_every(5, EXPLODING)
    _, full = detached_every(EXPLODING.T_x + 1, EXPLODING)
    stopped = [t for t in reversed(range(EXPLODING.T_x)) if full[t] > carried.max() * (1 + 1e-9)]
    assert stopped and figure(at, cell="rnn", kind="truncation")["layout"]["meta"]["stopped"] == stopped
    assert re.search(rf"stops an explosion at t = {stopped[0]}\b", "\n".join(m.value for m in at.markdown))


def test_randomized_truncation_travels_in_the_url_and_needs_k_of_two():
    at = open_page("gradient_flow", {"scenario": "exploding", "truncate": "4", "randomized": "1"})
    assert at.toggle(key="flow_randomized").value and at.query_params["randomized"] == "1"
    assert "scaled by 1.33" in "\n".join(m.value for m in at.markdown)  # 1 / (1 - 1/4)
    one = open_page("gradient_flow", {"truncate": "1", "randomized": "1"})
    assert any("randomized" in w.value and "using randomized=0" in w.value for w in one.warning)
    assert "randomized" not in one.query_params and one.toggle(key="flow_randomized").disabled


def test_full_bptt_draws_no_truncation_and_a_shorter_sequence_pulls_k_down():
    at = open_page("gradient_flow", {"truncate": "20"})
    assert figure(at, cell="rnn", kind="truncation")
    at.slider(key="flow_T_x").set_value(10).run()
    assert not at.exception and at.slider(key="flow_truncate").value == 10 and at.query_params["truncate"] == "10"
    at.slider(key="flow_truncate").set_value(0).run()
    assert "truncate" not in at.query_params
    assert not [f for f in at.get("plotly_chart") if '"kind": "truncation"' in f.proto.spec]


def test_the_steppers_sidebar_sets_the_truncation_and_the_link_keeps_it():
    at = open_page("stepper", {"scenario": "classroom", "truncate": "2", "stepping": "server"})
    assert at.number_input(key="stepper:truncate").value == 2 and at.query_params["truncate"] == "2"
    at.toggle(key="stepper:randomized").set_value(True).run()
    assert not at.exception and at.query_params["randomized"] == "1"
    at.number_input(key="stepper:truncate").set_value(9).run()  # the classroom run has T_x = 5
    assert not at.exception and at.query_params["truncate"] == "5"
    assert any("T_x = 5 steps: truncate = 5 is used" in c.value for c in at.caption)
    at.number_input(key="stepper:truncate").set_value(0).run()
    assert "truncate" not in at.query_params and "randomized" not in at.query_params
