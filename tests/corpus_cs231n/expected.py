"""What `python -m bptt check FILE --json` must answer on every CS231n-style corpus file, worked out by hand.

One row per file, as tests/corpus/expected.py. The homework's own loop runs t = T-1 down to 0;
at each step the running totals as they stood, then what the loop hands rnn_step_backward /
lstm_step_backward (dnext_h, dnext_c), then what it returns, then after the loop what the
backward returns. `t` is an expression in T (the first probe, the course's example, has T = 4).
tests/corpus_cs231n/independent.py confirms each row without the checker: a correct file's
gradients equal central differences, a bug file's do not, a broken file raises.

    ROWS["bug_no_dprev_h_skeleton.py"].bug  # 'missing-da-prev'

Fields: cell; kind ("correct", "catalog", "outside", "broken"); exit; ok; first = (functions, t,
quantities, scopes), each a tuple of acceptable answers; bug, the catalog id that must come
first in `bugs` (None: no catalog id may be named); error = kinds for exit 2; part, the blame.
"""

from dataclasses import dataclass

RNN = ("rnn_backward",)
RNN_STEP = ("rnn_step_backward",)
LSTM = ("lstm_backward",)
LSTM_STEP = ("lstm_step_backward",)


@dataclass(frozen=True)
class Row:
    cell: str
    kind: str
    exit: int
    ok: bool
    first: tuple | None = None
    bug: str | None = None
    error: tuple = ()
    part: str | None = None
    note: str = ""


def correct(cell: str, note: str) -> Row:
    return Row(cell, "correct", 0, True, note=note)


def diverges(cell, kind, first, bug, part, note) -> Row:
    return Row(cell, kind, 1, False, first=first, bug=bug, part=part, note=note)


def broken(cell, kinds, note) -> Row:
    return Row(cell, "broken", 2, False, error=kinds, note=note)


NO_DPREV_H = (RNN, "T-2", ("dnext_h",), ("input",))
DWX_ASSIGN = (RNN, "T-2", ("dWx",), ("total",))
DNEXT_C = (LSTM, "T-2", ("dnext_c",), ("input",))

ROWS = {
    # correct, in the homework's clothes
    "ok_rnn_skeleton.py": correct("rnn", "the whole rnn_layers.py skeleton, TODO banners, from __future__, range(T-1, -1, -1)"),
    "ok_rnn_reversed_tuplecache.py": correct("rnn", "reversed(range(T)), @, a six-element step cache"),
    "ok_rnn_while_dictcache.py": correct("rnn", "while loops both ways, a dict as the step cache"),
    "ok_rnn_helper_sequence_cache.py": correct("rnn", "a helper, the forward's cache is (x, h0, Wx, Wh, h) and the "
                                                      "backward rebuilds each step's cache: the step is told by values"),
    "ok_rnn_inplace_dh.py": correct("rnn", "dh[:, t, :] += dprev_h on a copy, then the slice handed in"),
    "ok_step_backward_only.py": correct("rnn", "only rnn_step_backward, with np.matmul"),
    "ok_lstm_skeleton.py": correct("lstm", "the LSTM skeleton with its own stable sigmoid"),
    "ok_lstm_split_while.py": correct("lstm", "np.split into gates, the step returned as one expression, a while loop"),
    "paste_jupyter_rnn_backward.txt": correct("rnn", "a Jupyter paste with prose, In [12]: and the test cell"),
    "nb_ok_rnn_dictcache.ipynb": correct("rnn", "a notebook: markdown, skipped cs231n imports, a test cell"),
    "paste_forum_flattened_ok.txt": correct("rnn", "a forum post that lost its indentation: rebuilt, dh0 = after the loop"),
    # dprev_h never added to dh[:, t, :]
    "bug_no_dprev_h_skeleton.py": diverges("rnn", "catalog", NO_DPREV_H, "missing-da-prev", "loop", "the skeleton"),
    "bug_no_dprev_h_reversed.py": diverges("rnn", "catalog", NO_DPREV_H, "missing-da-prev", "loop",
                                           "dcur = dh[:, t] on its own line, reversed(range(T))"),
    "bug_no_dprev_h_while.py": diverges("rnn", "catalog", NO_DPREV_H, "missing-da-prev", "loop", "while, dict cache"),
    "paste_jupyter_no_dprev_h.txt": diverges("rnn", "catalog", NO_DPREV_H, "missing-da-prev", "loop",
                                             "a Jupyter paste with the printed errors"),
    "nb_no_dprev_h_dictcache.ipynb": diverges("rnn", "catalog", NO_DPREV_H, "missing-da-prev", "loop", "a notebook"),
    "paste_forum_flattened_no_dprev_h.txt": diverges("rnn", "catalog", NO_DPREV_H, "missing-da-prev", "loop",
                                                     "the same post, indentation lost, with the famous bug"),
    # = instead of += for dWx (dWh and db added up)
    "bug_dwx_assign_skeleton.py": diverges("rnn", "catalog", DWX_ASSIGN, "overwrite-not-accumulate", "loop",
                                           "the skeleton"),
    "bug_dwx_assign_reversed.py": diverges("rnn", "catalog", DWX_ASSIGN, "overwrite-not-accumulate", "loop",
                                           "reversed(range(T)), trailing-underscore names"),
    "bug_dwx_assign_helper.py": diverges("rnn", "catalog", DWX_ASSIGN, "overwrite-not-accumulate", "loop",
                                         "the sequence cache rebuilt per step"),
    "paste_forum_dwx_assign.txt": diverges("rnn", "catalog", DWX_ASSIGN, "overwrite-not-accumulate", "loop",
                                           "a forum post with a fenced block"),
    # the rest of the RNN catalog, in the homework's names
    "bug_missing_dh_t_reversed.py": diverges("rnn", "catalog", (RNN, "T-1", ("dnext_h",), ("input",)), "missing-da-t",
                                             "loop", "only dprev_h handed in"),
    "bug_dh0_zeros_skeleton.py": diverges("rnn", "catalog", (RNN, None, ("dh0",), ("final",)), "da0-not-set", "loop",
                                          "dh0 stays the zeros it was given"),
    "bug_forward_in_time_skeleton.py": diverges("rnn", "catalog", (RNN, "T-1", ("dnext_h",), ("input",)),
                                                "forward-order", "loop", "for t in range(T) in the backward"),
    "bug_wrong_cache_while.py": diverges("rnn", "catalog", (RNN, "T-1", ("dx",), ("step",)), "wrong-cache", "loop",
                                         "cache[t - 1]"),
    "bug_dtanh_prev_h_skeleton.py": diverges("rnn", "catalog", (RNN, "T-1", ("dx",), ("step",)), "dtanh-a-prev",
                                             "cell", "1 - prev_h ** 2"),
    "bug_tanh_twice_helper.py": diverges("rnn", "catalog", (RNN, "T-1", ("dx",), ("step",)), "tanh-twice", "cell",
                                         "the helper takes tanh of next_h again"),
    "bug_dwh_transposed_skeleton.py": diverges("rnn", "catalog", (RNN, "T-1", ("dWh",), ("step",)), "dwaa-transposed",
                                               "cell", "dtanh.T.dot(prev_h)"),
    "bug_no_transpose_wh_step_only.py": diverges("rnn", "catalog", (RNN_STEP, "T-1", ("dprev_h",), ("step",)),
                                                 "no-transpose-waa", "cell", "dtanh @ Wh, the step alone"),
    "bug_divide_by_n_step.py": diverges("rnn", "catalog", (RNN_STEP, "T-1", ("dWx",), ("step",)), "divide-by-m",
                                        "cell", "the weight gradients divided by N"),
    # LSTM
    "bug_lstm_dnext_c_overwritten_skeleton.py": diverges("lstm", "catalog", DNEXT_C, "lstm-dc-not-carried", "loop",
                                                         "dnext_c = np.zeros((N, H)) inside the loop"),
    "bug_lstm_dnext_c_overwritten_while.py": diverges("lstm", "catalog", DNEXT_C, "lstm-dc-not-carried", "loop",
                                                      "the step's dprev_c dropped from the unpacking"),
    "paste_forum_lstm_no_carry.txt": diverges("lstm", "catalog", (LSTM, "T-2", ("dnext_h",), ("input",)),
                                              "lstm-no-carry", "loop", "both carried values thrown away with _"),
    "bug_lstm_tanh_c_while.py": diverges("lstm", "catalog", (LSTM, "T-1", ("dx",), ("step",)), "lstm-tanh-c", "cell",
                                         "1 - next_c * next_c"),
    "bug_lstm_no_dprev_h_skeleton.py": diverges("lstm", "outside", (LSTM, "T-2", ("dnext_h",), ("input",)), None,
                                                "loop", "dc carried, dh not: no catalog bug is this one"),
    "bug_lstm_dwx_assign_skeleton.py": diverges("lstm", "outside", (LSTM, "T-2", ("dWx",), ("total",)), None, "loop",
                                                "the catalog has no LSTM overwrite"),
    "bug_lstm_forget_gate_step.py": diverges("lstm", "outside", (LSTM_STEP, "T-1", ("dx",), ("step",)), None, "cell",
                                             "the forget gate's sigmoid derivative left out"),
    "bug_forward_h0_every_step.py": diverges("rnn", "outside", (("rnn_forward",), "1", ("h",), ("step",)), None,
                                             "forward", "rnn_forward hands h0 to every step: the forward is named "
                                             "first, since every backward runs on its caches"),
    # cannot be judged to the end
    "err_db_axis1.py": broken("rnn", ("shape", "runtime"), "db summed over the batch's other axis: (N,) into (H,)"),
    "err_step_returns_dict.py": broken("rnn", ("output",), "the step returns a dict, not the tuple"),
    "err_no_homework_function.py": broken("rnn", ("missing-function",), "affine_forward only"),
}
