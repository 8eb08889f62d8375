"""One call from a RunConfig to a traced run: inputs, forward (bug included), traced backward."""

from dataclasses import dataclass

import numpy as np

from .catalog import get_bug
from .gru import gru_forward
from .gru_trace import trace_gru
from .lstm_trace import trace_lstm
from .rnn import rnn_forward
from .rnn_trace import trace_rnn
from .scenarios import Inputs, RunConfig, cross_entropy_da, make_inputs, validate
from .trace import Trace
from .truncation import carry_factors, truncated
from .variants import GRUCode, LSTMCode, RNNCode, lstm_forward_with


@dataclass(frozen=True)
class Run:
    """A forward and traced backward on one config."""

    config: RunConfig  # after validation: scenario-fixed sizes applied
    inputs: Inputs
    a: np.ndarray  # (n_a, m, T) hidden states of the forward
    y: np.ndarray  # (n_y, m, T) predictions
    c: np.ndarray | None  # (n_a, m, T) LSTM cell states; None for the RNN and the GRU
    caches: tuple  # the course's (list_of_cell_caches, x)
    da: np.ndarray  # (n_a, m, T_x) the upstream gradient the backward ran on
    loss: float | None  # the scenario's loss when da comes from one
    trace: Trace

    @property
    def Waa(self) -> np.ndarray:
        """The recurrent matrix: Waa, or the block that sees a_prev of the LSTM's forget gate or the GRU's candidate.

        The GRU's Wh[:, :n_a] is its Waa when the update gate is shut and the reset open (see scenarios._with_radius).
        """
        p = self.inputs.parameters
        if self.config.cell == "rnn":
            return p["Waa"]
        return p["Wf" if self.config.cell == "lstm" else "Wh"][:, : self.config.n_a]


def code_for(config: RunConfig) -> RNNCode | LSTMCode | GRUCode:
    """The code the run executes: the bug's variant, or the course's correct code, truncated as the config says."""
    code = {"rnn": RNNCode, "lstm": LSTMCode, "gru": GRUCode}[config.cell]()
    if config.bug is not None:
        bug = get_bug(config.bug)
        if bug.cell != config.cell:
            raise ValueError(f"bug {bug.id!r} is a bug of the {bug.cell.upper()}, not of the {config.cell.upper()}")
        code = bug.variant
    return truncated(code, carry_factors(config.T_x, config.truncate, config.randomized, config.seed))


def run(config: RunConfig) -> Run:
    """Forward and traced backward for a config; raises ValueError with a readable message.

    run(RunConfig(bug="missing-da-t")).trace.gradients()["dWaa"]  # all zeros
    """
    config = validate(config)
    code = code_for(config)
    inputs = make_inputs(config)
    p = inputs.parameters
    with np.errstate(all="ignore"):  # a large weight scale overflows to Inf/NaN, which the page shows
        if config.cell == "rnn":
            a, y, caches = rnn_forward(inputs.x, inputs.a0, p)
            c = None
        elif config.cell == "gru":
            a, y, caches = gru_forward(inputs.x, inputs.a0, p)
            c = None
        else:
            a, y, c, caches = lstm_forward_with(code, inputs.x, inputs.a0, p)
        loss, da = None, inputs.da
        if da is None:
            Wy, by = (p["Wya"], p["by"]) if config.cell == "rnn" else (p["Wy"], p["by"])
            loss, da = cross_entropy_da(a[:, :, : config.T_x], Wy, by, inputs.labels)
    trace = {"rnn": trace_rnn, "lstm": trace_lstm, "gru": trace_gru}[config.cell](da, caches, code)
    return Run(config, inputs, a, y, c, caches, da, loss, trace)
