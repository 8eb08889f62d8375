"""bptt: the course's RNN/LSTM (and a GRU) backprop through time, traced step by step, with a catalog of classic bugs.

    from bptt import rnn_forward, rnn_backward, run, RunConfig
    trace = run(RunConfig(bug="missing-da-t")).trace
"""

from .activations import sigmoid, softmax
from .catalog import BUGS, Bug, bugs_for, get_bug
from .fast import rnn_backward_fast
from .fast_lstm import lstm_backward_fast
from .gradcheck import GradCheck, gradient_check, numerical_gradients
from .gru import gru_backward, gru_cell_backward, gru_cell_forward, gru_forward
from .gru_trace import GRUTrace, trace_gru
from .lstm import lstm_backward, lstm_cell_backward, lstm_cell_forward, lstm_forward
from .lstm_trace import LSTMTrace, trace_lstm
from .rnn import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward
from .rnn_trace import RNNTrace, trace_rnn
from .runs import Run, code_for, run
from .scenarios import LIMITS, SCENARIOS, Inputs, RunConfig, Scenario, make_inputs, validate
from .trace import Divergence, Step, StepError, Trace, differs, max_abs_error
from .variants import GRUCode, LSTMCode, RNNCode, lstm_forward_with

__all__ = [
    "sigmoid", "softmax",
    "rnn_cell_forward", "rnn_forward", "rnn_cell_backward", "rnn_backward",
    "lstm_cell_forward", "lstm_forward", "lstm_cell_backward", "lstm_backward",
    "gru_cell_forward", "gru_forward", "gru_cell_backward", "gru_backward",
    "rnn_backward_fast", "lstm_backward_fast",
    "trace_rnn", "trace_lstm", "trace_gru", "Trace", "RNNTrace", "LSTMTrace", "GRUTrace",
    "Step", "StepError", "Divergence",
    "differs", "max_abs_error",
    "BUGS", "Bug", "get_bug", "bugs_for", "RNNCode", "LSTMCode", "GRUCode", "lstm_forward_with",
    "gradient_check", "numerical_gradients", "GradCheck",
    "RunConfig", "Scenario", "SCENARIOS", "LIMITS", "Inputs", "make_inputs", "validate",
    "run", "Run", "code_for",
]
