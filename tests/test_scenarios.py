"""Scenarios are reproducible, validated, and do what their names promise."""

from dataclasses import replace

import numpy as np
import pytest

from bptt import LIMITS, SCENARIOS, RunConfig, make_inputs, run, validate
from bptt.scenarios import cross_entropy_da


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_scenario_is_reproducible_and_in_course_shapes(scenario, cell):
    config = replace(SCENARIOS[scenario].defaults, cell=cell)
    first, second = run(config), run(config)
    c = first.config
    assert first.inputs.x.shape[:2] == (c.n_x, c.m) and first.inputs.x.shape[2] >= c.T_x
    assert first.inputs.a0.shape == (c.n_a, c.m)
    assert first.da.shape == (c.n_a, c.m, c.T_x)
    for key, value in first.trace.gradients().items():
        np.testing.assert_array_equal(value, second.trace.gradients()[key])
    assert np.all(np.isfinite(first.trace.gradients()["dx"]))


def test_course_scenario_forces_the_notebook_sizes():
    config = validate(RunConfig(scenario="course", n_a=50, seed=9, T_x=20))
    assert (config.seed, config.n_x, config.n_a, config.m, config.T_x) == (1, 3, 5, 10, 4)


def test_seed_changes_the_draws():
    base = SCENARIOS["classroom"].defaults
    assert not np.array_equal(make_inputs(base).x, make_inputs(replace(base, seed=base.seed + 1)).x)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"cell": "GRU"}, "cell = 'GRU' is not known: use 'rnn', 'lstm' or 'gru'"),
        ({"scenario": "nope"}, "scenario = 'nope' is not known"),
        ({"T_x": 0}, "T_x = 0 is out of range"),
        ({"n_a": LIMITS["n_a"][1] + 1}, f"n_a = {LIMITS['n_a'][1] + 1} is out of range"),
        ({"m": 2.5}, "m = 2.5 is out of range"),
        ({"n_a": True}, "n_a = True is out of range"),
        ({"scale": -1.0}, "scale = -1.0 is out of range"),
        ({"scale": float("nan")}, "scale = nan is out of range"),
        ({"bug": "lstm-c-view"}, "bug of the LSTM, not of the RNN"),
    ],
)
def test_bad_configs_get_a_message_saying_what_to_do(change, message):
    config = replace(SCENARIOS["classroom"].defaults, **change)
    with pytest.raises((ValueError, KeyError), match=message):
        run(config)


def spectral_radius(W):
    return np.max(np.abs(np.linalg.eigvals(W)))


def test_vanishing_and_exploding_presets_set_the_spectral_radius_and_behave():
    vanishing = run(SCENARIOS["vanishing"].defaults)
    exploding = run(SCENARIOS["exploding"].defaults)
    assert spectral_radius(vanishing.Waa) == pytest.approx(0.5)
    assert spectral_radius(exploding.Waa) == pytest.approx(1.5)
    v, e = vanishing.trace.norms("da_next"), exploding.trace.norms("da_next")
    assert v[0] < 1e-6 * v[-1]
    assert e[0] > 100 * e[-1]


def test_lstm_keeps_gradients_alive_where_the_rnn_loses_them():
    config = SCENARIOS["vanishing"].defaults
    rnn_norms = run(config).trace.norms("da_next")
    lstm_norms = run(replace(config, cell="lstm")).trace.norms("dc_next")
    assert lstm_norms[0] / lstm_norms[-2] > 1e3 * rnn_norms[0] / rnn_norms[-1]


def test_gru_keeps_gradients_alive_where_the_rnn_loses_them():
    config = SCENARIOS["vanishing"].defaults
    gru = run(replace(config, cell="gru"))
    assert spectral_radius(gru.Waa) == pytest.approx(0.5)
    np.testing.assert_array_equal(gru.Waa, gru.inputs.parameters["Wh"][:, : config.n_a])
    rnn_norms, gru_norms = run(config).trace.norms("da_next"), gru.trace.norms("da_next")
    assert gru_norms[0] / gru_norms[-1] > 1e6 * rnn_norms[0] / rnn_norms[-1]


def test_gru_gates_hold_back_what_explodes_in_the_rnn():
    """Wh's a_prev block at radius 1.5 does not explode the GRU: each step mixes a_prev's own gradient
    (zt near 0.88) with a gated share through Wh, so the step's Jacobian stays near the identity."""
    config = replace(SCENARIOS["exploding"].defaults, cell="gru")
    gru = run(config)
    assert spectral_radius(gru.Waa) == pytest.approx(1.5)
    norms = gru.trace.norms("da_next")
    assert 1e-3 * norms[-1] < norms[0] < norms[-1]


def test_the_gru_course_example_draws_from_the_notebooks_seed():
    inputs = make_inputs(RunConfig(cell="gru"))
    np.random.seed(1)
    np.testing.assert_array_equal(inputs.x, np.random.randn(3, 10, 4))
    assert set(inputs.parameters) == {"Wr", "br", "Wz", "bz", "Wh", "bh", "Wy", "by"}
    assert inputs.parameters["Wh"].shape == (5, 8) and inputs.da.shape == (5, 10, 4)


def test_echo_da_is_the_gradient_of_its_cross_entropy_loss():
    """Central differences of the loss with respect to a<t> give the da the scenario hands in."""
    r = run(SCENARIOS["echo"].defaults)
    a = r.a[:, :, : r.config.T_x].copy()
    Wy, by = r.inputs.parameters["Wya"], r.inputs.parameters["by"]
    loss, da = cross_entropy_da(a, Wy, by, r.inputs.labels)
    assert loss == pytest.approx(r.loss)
    for index in [(0, 0, 0), (2, 3, 5), (5, 7, 7)]:
        bumped = a.copy()
        bumped[index] += 1e-6
        up = cross_entropy_da(bumped, Wy, by, r.inputs.labels)[0]
        bumped[index] -= 2e-6
        down = cross_entropy_da(bumped, Wy, by, r.inputs.labels)[0]
        assert (up - down) / 2e-6 == pytest.approx(da[index], abs=1e-8)
    x, labels = r.inputs.x, r.inputs.labels
    np.testing.assert_array_equal(labels[:, 1:], x.argmax(axis=0)[:, :-1])  # echo: the previous symbol
