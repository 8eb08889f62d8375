"""The guided lesson: every step's URL is valid, and what its narration says holds in that state."""

from dataclasses import replace

import numpy as np
import pytest

from bptt import RunConfig, run
from bptt.flow import side_by_side
from bptt.itemize import itemize
from bptt.lessons import LESSON, lesson_step
from bptt.ui.state import parse

PAGES = ("stepper", "gradient_flow", "itemized", "gallery")


def state_of(number: int):
    """(config, t) that the lesson step's URL opens, through the URL contract's own parser."""
    state, messages = parse(lesson_step(number).params)
    assert messages == [], [m.text for m in messages]
    return state.config, state.t


@pytest.mark.parametrize("number", range(1, len(LESSON) + 1))
def test_every_step_links_a_valid_state_of_a_real_page(number):
    step = lesson_step(number)
    assert step.page in PAGES
    assert step.title and step.narration and step.look
    assert all(isinstance(v, str) for v in step.params.values())  # as they arrive from a URL
    config, t = state_of(number)
    if "t" in step.params:
        assert t == int(step.params["t"])


@pytest.mark.parametrize("number", [0, len(LESSON) + 1, -1])
def test_a_step_outside_the_lesson_is_a_readable_error(number):
    with pytest.raises(ValueError, match=f"steps 1 to {len(LESSON)}"):
        lesson_step(number)


def at_step(number: int):
    config, t = state_of(number)
    shown = run(config)
    return shown, shown.trace.step(t)


def test_1_the_last_step_sees_only_its_own_loss():
    shown, step = at_step(1)
    assert step.position == 0 and step.t == shown.config.T_x - 1
    assert not np.any(step.inputs["da_prevt"])
    np.testing.assert_array_equal(step.inputs["da_next"], shown.da[:, :, step.t])


def test_2_the_carried_gradient_joins_the_loss():
    shown, step = at_step(2)
    assert step.position == 1 and np.any(step.inputs["da_prevt"])
    np.testing.assert_allclose(step.inputs["da_next"], step.inputs["da_t"] + step.inputs["da_prevt"])


def test_3_at_t0_the_totals_are_what_the_function_returns():
    shown, step = at_step(3)
    assert step.t == 0 and step.position == shown.config.T_x - 1
    grads = shown.trace.gradients()
    np.testing.assert_allclose(step.totals["dWaa"], grads["dWaa"])
    np.testing.assert_allclose(step.outputs["da_prev"], grads["da0"])


def test_4_without_da_t_every_gradient_is_zero_but_da_t_is_not():
    shown, step = at_step(4)
    assert shown.config.bug == "missing-da-t"
    assert np.any(step.inputs["da_t"])
    assert all(not np.any(v) for v in step.outputs.values())
    assert all(not np.any(v) for v in shown.trace.gradients().values())


def test_5_without_da_prevt_the_last_step_is_right_and_this_one_is_not():
    shown, step = at_step(5)
    correct = run(replace(shown.config, bug=None))
    np.testing.assert_array_equal(step.inputs["da_next"], step.inputs["da_t"])
    last = shown.config.T_x - 1
    np.testing.assert_array_equal(shown.trace.step(last).outputs["dxt"], correct.trace.step(last).outputs["dxt"])
    assert not np.allclose(step.inputs["da_next"], correct.trace.step(step.t).inputs["da_next"])


def carried(number: int) -> float:
    """da_prevt's norm at the lesson step's t, relative to where it entered (T_x - 2)."""
    shown, step = at_step(number)
    norms = shown.trace.norms("da_prevt")
    return norms[step.t] / norms[-2]


def test_6_the_gradient_has_vanished_at_the_step_shown():
    assert carried(6) < 1e-3


def test_7_the_gradient_has_exploded_at_the_step_shown():
    assert carried(7) > 1e2
    shown, _ = at_step(7)
    norms = shown.trace.norms("da_prevt")
    assert norms[shown.config.T_x - 21] / norms[-2] > 1e3  # "after twenty steps, thousands of times larger"


def test_8_the_lstm_cell_state_keeps_its_gradient_where_the_rnn_lost_it():
    shown, step = at_step(8)
    assert shown.config.cell == "lstm"
    dc = shown.trace.norms("dc_prevt")
    assert dc[step.t] / dc[-2] > 0.1
    assert carried(6) < 1e-3 * dc[step.t] / dc[-2]


def test_9_the_gru_carried_gradient_shrinks_by_about_zt_per_step():
    shown, step = at_step(9)
    assert shown.config.cell == "gru"
    norms = shown.trace.norms("da_prevt")
    kept = norms[step.t] / norms[-2]
    assert kept > 0.1 and carried(6) < 1e-3 * kept  # where the RNN's had vanished
    z = np.stack([cache[3] for cache in shown.caches[0]], axis=2)
    per_step = kept ** (1 / (shown.config.T_x - 2 - step.t))
    assert np.median(z) == pytest.approx(0.88, abs=0.01)
    assert per_step == pytest.approx(np.median(z), abs=0.03)


def test_10_side_by_side_the_rnn_falls_the_lstm_stays_the_gru_follows_its_update_gates():
    config, _ = state_of(10)
    flows = side_by_side(config)
    rnn, lstm, gru = flows["rnn"], flows["lstm"], flows["gru"]
    assert rnn.da_prevt[0] / rnn.da_prevt[-2] < 1e-6
    assert lstm.dc_prevt[0] / lstm.dc_prevt[-2] > 1e-1
    falls, direct = gru.da_prevt[0] / gru.da_prevt[-2], gru.path[0] / gru.path[-2]
    assert falls > 1e4 * rnn.da_prevt[0] / rnn.da_prevt[-2] and direct / 2 < falls < 2 * direct


def test_11_the_shares_add_up_to_dwaa():
    config, _ = state_of(11)
    shown = run(config)
    itemized = itemize(shown.da, shown.caches, config.cell)
    np.testing.assert_allclose(itemized.total("dWaa"), shown.trace.gradients()["dWaa"], atol=1e-12)
    assert len(LESSON) == 11  # a new step needs its own claim test above

