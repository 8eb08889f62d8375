"""Gradient flow: the Jacobian products against finite differences, the norms against the trace."""

import numpy as np
import pytest

from bptt import (
    RunConfig, gru_forward, lstm_forward, make_inputs, rnn_cell_forward, rnn_forward, run, trace_gru, trace_lstm,
)
from bptt.flow import forget_products, jacobian_products, measure, side_by_side, spectral_radius, telling_step
from helpers import random_case


def last_state_from(a_t: np.ndarray, t: int, x: np.ndarray, parameters: dict) -> np.ndarray:
    """a<T_x-1> when the forward restarts from a<t> = a_t."""
    a = a_t
    for k in range(t + 1, x.shape[2]):
        a = rnn_cell_forward(x[:, :, k], a, parameters)[0]
    return a


def numerical_jacobian(t: int, i: int, a: np.ndarray, x: np.ndarray, parameters: dict, eps=1e-6) -> np.ndarray:
    """∂a<T_x-1>[:, i] / ∂a<t>[:, i] by central differences, for example i."""
    n_a = a.shape[0]
    J = np.zeros((n_a, n_a))
    for j in range(n_a):
        plus, minus = a[:, :, t].copy(), a[:, :, t].copy()
        plus[j, i] += eps
        minus[j, i] -= eps
        J[:, j] = (last_state_from(plus, t, x, parameters) - last_state_from(minus, t, x, parameters))[:, i] / (2 * eps)
    return J


@pytest.mark.parametrize("n_x, n_a, m, T_x", [(3, 4, 2, 6), (2, 3, 3, 4), (1, 1, 1, 3)])
def test_jacobian_products_match_finite_differences(n_x, n_a, m, T_x):
    x, a0, parameters, _ = random_case("rnn", n_x, n_a, m, T_x, seed=2)
    a = rnn_forward(x, a0, parameters)[0]
    norms = jacobian_products(a, parameters["Waa"])
    assert norms.shape == (T_x, m)
    for t in range(T_x):
        for i in range(m):
            J = numerical_jacobian(t, i, a, x, parameters)
            np.testing.assert_allclose(norms[t, i], np.linalg.norm(J, ord=2), rtol=1e-6, err_msg=f"t={t}, i={i}")


def test_the_carried_gradient_is_the_transposed_product_applied_to_the_last_loss():
    config = RunConfig(scenario="vanishing", n_a=4, m=2, T_x=6, scale=0.9)
    vanishing = run(config)
    x, parameters, a = vanishing.inputs.x, vanishing.inputs.parameters, vanishing.a
    da_last = vanishing.da[:, :, -1]
    for step in vanishing.trace.steps():
        if step.t == config.T_x - 1:
            continue
        for i in range(config.m):
            expected = numerical_jacobian(step.t, i, a, x, parameters).T @ da_last[:, i]
            np.testing.assert_allclose(step.inputs["da_prevt"][:, i], expected, rtol=1e-6, atol=1e-12)


def test_forget_products_are_the_product_of_the_later_forget_gates():
    rng = np.random.RandomState(0)
    ft = rng.uniform(0.1, 1.0, size=(3, 2, 5))
    got = forget_products(ft)
    for t in range(5):
        for i in range(2):
            product = np.ones(3)
            for k in range(t + 1, 5):
                product = product * ft[:, i, k]
            assert got[t, i] == pytest.approx(product.max())


@pytest.mark.parametrize("radius", [0.5, 0.9, 1.5])
def test_in_the_linear_range_the_radius_sets_the_slope(radius):
    # the exploding scenario's tiny inputs keep tanh linear, so each step back multiplies by about Waa.T
    flows = side_by_side(RunConfig(scenario="exploding", T_x=25, scale=radius))
    rnn = flows["rnn"]
    assert rnn.radius == pytest.approx(radius)
    assert rnn.T_x == 25 and rnn.da_prevt[-1] == 0  # nothing is carried into the last step
    per_step = (rnn.da_prevt[0] / rnn.da_prevt[-2]) ** (1 / 23)
    assert per_step == pytest.approx(radius, rel=0.25)
    np.testing.assert_allclose(rnn.path[-1], 1.0)
    slope_path = (rnn.path[0] / rnn.path[-2]) ** (1 / 23)
    assert slope_path == pytest.approx(per_step, rel=0.25)


def test_side_by_side_uses_the_same_input_and_loss_for_both_cells():
    config = RunConfig(scenario="vanishing", T_x=30, scale=0.5)
    flows = side_by_side(config)
    inputs = make_inputs(config)
    lstm_parameters = make_inputs(RunConfig(cell="lstm", scenario="vanishing", T_x=30, scale=0.5)).parameters
    direct = measure("lstm", inputs.x, inputs.a0, lstm_parameters, inputs.da)
    np.testing.assert_array_equal(flows["lstm"].dc_prevt, direct.dc_prevt)
    assert flows["lstm"].da_last == flows["rnn"].da_last == pytest.approx(np.linalg.norm(inputs.da[:, :, -1]))
    assert flows["rnn"].dc_prevt is None
    # the cell state carries the gradient where the RNN's hidden state loses it
    assert flows["lstm"].dc_prevt[0] > 1e3 * flows["rnn"].da_prevt[0]


def test_measure_norms_are_the_traces_norms():
    x, a0, parameters, da = random_case("lstm", 3, 4, 2, 5, seed=4)
    flow = measure("lstm", x, a0, parameters, da)
    trace = trace_lstm(da, lstm_forward(x, a0, parameters)[3])
    np.testing.assert_array_equal(flow.da_prevt, trace.norms("da_prevt"))
    np.testing.assert_array_equal(flow.dc_prevt, trace.norms("dc_prevt"))
    assert flow.radius == pytest.approx(np.max(np.abs(np.linalg.eigvals(parameters["Wf"][:, :4]))))


def test_gru_norms_are_the_traces_and_its_path_is_the_product_of_later_update_gates():
    x, a0, parameters, da = random_case("gru", 3, 4, 2, 5, seed=4)
    flow = measure("gru", x, a0, parameters, da)
    caches = gru_forward(x, a0, parameters)[2]
    np.testing.assert_array_equal(flow.da_prevt, trace_gru(da, caches).norms("da_prevt"))
    assert flow.dc_prevt is None
    assert flow.radius == pytest.approx(np.max(np.abs(np.linalg.eigvals(parameters["Wh"][:, :4]))))
    z = [cache[3] for cache in caches[0]]  # (n_a, m) update gate at each step
    for t in range(5):
        product = np.ones((4, 2))
        for k in range(t + 1, 5):
            product = product * z[k]
        assert flow.path[t] == pytest.approx(product.max())


@pytest.mark.parametrize("radius", [0.5, 0.9])
def test_the_gru_keeps_what_its_update_gate_keeps_where_the_rnn_loses_it(radius):
    flows = side_by_side(RunConfig(scenario="vanishing", T_x=30, scale=radius))
    assert set(flows) == {"rnn", "lstm", "gru"}
    assert flows["gru"].da_last == flows["rnn"].da_last and flows["gru"].radius == pytest.approx(radius)
    rnn, gru = (flows[c].da_prevt[0] / flows[c].da_prevt[-2] for c in ("rnn", "gru"))
    assert gru > 1e4 * rnn
    direct = flows["gru"].path[0] / flows["gru"].path[-2]  # ∏ z: the direct path alone
    assert direct / 3 < gru < 3 * direct


def test_spectral_radius_is_the_largest_eigenvalue_magnitude():
    assert spectral_radius(np.array([[0.0, -2.0], [2.0, 0.0]])) == pytest.approx(2.0)  # complex pair ±2i
    assert spectral_radius(np.diag([0.5, -3.0])) == pytest.approx(3.0)


@pytest.mark.parametrize("scenario, radius, shrinks", [("vanishing", 0.5, True), ("exploding", 1.5, False)])
def test_the_telling_step_is_where_the_gradient_changed_a_hundredfold(scenario, radius, shrinks):
    flow = side_by_side(RunConfig(scenario=scenario, T_x=25, scale=radius))["rnn"]
    t = telling_step(flow)
    assert 0 < t < 23
    ratio = flow.da_prevt[t] / flow.da_prevt[-2]
    assert (ratio <= 1e-2) if shrinks else (ratio >= 1e2)
    later = flow.da_prevt[t + 1] / flow.da_prevt[-2]
    assert 1e-2 < later < 1e2


def test_the_telling_step_of_a_steady_flow_is_zero():
    flow = side_by_side(RunConfig(scenario="vanishing", T_x=4, scale=1.0))["rnn"]
    assert telling_step(flow) == 0


def test_an_overflowing_product_is_infinite_not_an_error():
    a = np.zeros((2, 1, 400))  # tanh' = 1 everywhere: the product is Waa^k
    norms = jacobian_products(a, 10 * np.eye(2))
    assert norms[-2, 0] == pytest.approx(10.0)
    assert np.isinf(norms[0, 0])


def test_saturated_units_stop_the_gradient():
    flow = side_by_side(RunConfig(scenario="exploding", T_x=60, scale=10.0))["rnn"]
    assert flow.path[0] < 1e-6  # a large radius drives tanh into saturation, where 1 - a² is ~0


def test_a_loss_computed_from_each_cell_is_refused_in_words():
    with pytest.raises(ValueError, match="would not share a loss"):
        side_by_side(RunConfig(scenario="echo"))
