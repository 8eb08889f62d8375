"""What `python -m bptt check FILE --json` must answer on every corpus file, derived from the math.

One row per file. The first divergence is worked out by hand in backward order (t = T_x-1 down to 0;
at each t what the loop hands the cell, then what the cell returns, then the running totals; after
the loop what is returned), and confirmed by tests/corpus/independent.py, which runs the file's own
functions in-process against the reference without the checker.

    ROWS["bug_wrong_cache.py"].bug  # 'wrong-cache'

Fields:
- kind: "correct", "catalog" (a catalog bug in a new disguise), "outside" (a bug outside the catalog:
  no catalog id may be named; a generated mutant may), "broken" (cannot be run to the end).
- exit, ok: the exit status and `ok` of the JSON.
- first: (functions, t, quantities, scopes): each a tuple of acceptable answers. t is an expression
  in T_x ("T_x-1", "0"), or None for scope "final" (t is not scored there). None: not scored (a
  step the loop never calls has no agreed name yet).
- bug: the catalog id that must come first in `bugs`; None for none.
- allow: catalog ids that may be named without counting as a false name (a behaviourally identical
  spelling of a catalog bug whose catalog text is only half right).
- error: (kinds, lines) for exit 2; lines are snippets, each resolved to the first line of the file
  that contains it, or ints; None: the line is not scored.
- bug_line: snippets of the lines a named bug should point at (reported, not asserted).
- twin: for a paste, the .py in twins/ it was made from (its code is what is checked in-process).
"""

from dataclasses import dataclass

RNN = ("rnn_backward",)
RNN_CELL = ("rnn_cell_backward", "rnn_backward")
LSTM = ("lstm_backward",)
LSTM_CELL = ("lstm_cell_backward", "lstm_backward")
LSTM_FWD = ("lstm_forward", "lstm_backward")
SHAPE = ("shape", "runtime")  # a numpy shape ValueError: either kind is a fair name for it
RNN_ALL = ("dx", "da0", "dWax", "dWaa", "dba")


@dataclass(frozen=True)
class Row:
    cell: str
    kind: str
    exit: int
    ok: bool
    first: tuple | None = None
    bug: str | None = None
    allow: tuple = ()
    error: tuple | None = None
    bug_line: tuple = ()
    twin: str | None = None
    note: str = ""


def correct(cell: str, note: str, twin: str | None = None) -> Row:
    return Row(cell, "correct", 0, True, twin=twin, note=note)


def diverges(cell, kind, first, bug=None, bug_line=(), twin=None, note="", allow=()) -> Row:
    return Row(cell, kind, 1, False, first=first, bug=bug, bug_line=bug_line, twin=twin, note=note, allow=allow)


def broken(cell, kinds, lines, bug=None, kind="broken", note="", twin=None, bug_line=()) -> Row:
    return Row(cell, kind, 2, False, bug=bug, error=(kinds, lines), note=note, twin=twin, bug_line=bug_line)


DA_T = (RNN, "T_x-1", ("da_next",), ("input",))
DA_PREV = (RNN, "T_x-2", ("da_next",), ("input",))

ROWS = {
    # ---- correct: every spelling must pass ----
    "ok_rnn_course.py": correct("rnn", "the notebook's own code, test cells included"),
    "ok_rnn_range_desc.py": correct("rnn", "for t in range(T_x, 0, -1) with t-1 indices"),
    "ok_rnn_while.py": correct("rnn", "while t >= 0"),
    "ok_rnn_k_reversed.py": correct("rnn", "loop variable k"),
    "ok_rnn_enumerate_reversed.py": correct("rnn", "enumerate(reversed(caches[0]))"),
    "ok_rnn_two_loops.py": correct("rnn", "carry loop, then a forward loop that accumulates the weights"),
    "ok_rnn_grads_dict.py": correct("rnn", 'grads["dWax"] += ... in a dict'),
    "ok_rnn_helper.py": correct("rnn", "the cell called from a helper function"),
    "ok_rnn_global.py": correct("rnn", "global counters"),
    "ok_rnn_prints_asserts.py": correct("rnn", "prints and asserts inside both functions"),
    "ok_rnn_np_add_out.py": correct("rnn", "np.add(dWax, dWaxt, out=dWax)"),
    "ok_rnn_matmul.py": correct("rnn", "@ and range(T_x-1, -1, -1), dx[..., t]"),
    "ok_rnn_multiply_square.py": correct("rnn", "np.multiply / np.square / np.matmul spellings"),
    "ok_rnn_tanh_from_z.py": correct("rnn", "cell only: tanh derivative at z recomputed from the cache"),
    "ok_rnn_cell_factored.py": correct("rnn", "cell only: (1 - a)(1 + a), sum(1).reshape"),
    "ok_rnn_loop_only.py": correct("rnn", "loop only, zeros_like initialisation"),
    "ok_rnn_with_forward.py": correct("rnn", "own forward and cell forward too"),
    "ok_rnn_zeros_like_x.py": correct("rnn", "loop only: the carry added before the call"),
    "ok_rnn_stack_after.py": correct("rnn", "loop only: list(range(T_x))[::-1], dx stacked after the loop"),
    "ok_lstm_enumerate.py": correct("lstm", "loop only: reversed(list(enumerate(caches[:T_x])))"),
    "ok_rnn_cache_rebuilt.py": correct("rnn", "each cache unpacked and repacked: a new tuple, equal values"),
    "ok_rnn_recursive.py": correct("rnn", "loop only: a recursive inner function instead of a loop"),
    "ok_rnn_weights_after.py": correct("rnn", "loop only: the cell for the carry, weights by einsum after the loop"),
    "ok_rnn_da_inplace.py": correct("rnn", "loop only: the carry pushed into the caller's da in place"),
    "ok_rnn_extra_keys.py": correct("rnn", "the cell also returns dz"),
    "ok_rnn_dx_plus_equals.py": correct("rnn", "dx[:, :, t] += dxt"),
    "ok_lstm_recompute_gates.py": correct("lstm", "cell only: gates recomputed from the parameters, einsum"),
    "ok_rnn_cell_inplace_da_next.py": correct("rnn", "cell only: dtanh *= ... changes the da_next it was handed"),
    "ok_rnn_carry_inplace.py": correct("rnn", "loop only: da_prevt += da[:, :, t] changes the array the last call returned"),
    "ok_lstm_carry_inplace.py": correct("lstm", "loop only: da_next += da[:, :, t] in place, totals start at 0"),
    "ok_rnn_keywords_alias.py": correct("rnn", "loop only: the cell through an alias, keyword arguments, import numpy"),
    "ok_rnn_cell_called_twice.py": correct("rnn", "the cell called twice per step, once for a print"),
    "ok_lstm_deepcopy_cache.py": correct("lstm", "loop only: copy.deepcopy of each cache"),
    "ok_rnn_main_guard.py": correct("rnn", 'a test under if __name__ == "__main__"'),
    "nb_def_and_test_same_cell.ipynb": correct("rnn", "notebook: the graded def and its test in one cell"),
    "ok_lstm_range_t_minus_1.py": correct("lstm", "for t in range(T_x, 0, -1) with t - 1"),
    "ok_lstm_two_loops.py": correct("lstm", "loop only: a carry loop, then np.stack and sum() over the steps"),
    "ok_lstm_course.py": correct("lstm", "the notebook's gate formulas written out"),
    "ok_lstm_concat_split.py": correct("lstm", "dconcat = W.T @ d, split into da_prev and dxt"),
    "ok_lstm_gate_loop.py": correct("lstm", "gates as a loop over a dict"),
    "ok_lstm_range_desc.py": correct("lstm", "range(T_x-1, -1, -1), da_next built before the call"),
    "ok_lstm_cell_only.py": correct("lstm", "cell only, np.multiply spellings, split weights"),
    "ok_lstm_loop_only_while.py": correct("lstm", "loop only, while, totals in a dict"),
    "ok_lstm_with_forward.py": correct("lstm", "own forward, concatenate in the forward"),
    "nb_correct_rnn.ipynb": correct("rnn", "notebook with a magic, a shell line and outputs"),
    "nb_correct_lstm.ipynb": correct("lstm", "notebook, course layout"),
    "paste_fenced_correct.txt": correct("rnn", "two ``` fences with prose between", twin="fenced.py"),
    "paste_mangled_docstring_correct.txt": correct("rnn", 'docstring mangled to "“” … “”"', twin="mangled_docstring.py"),
    "paste_in_markers_correct.txt": correct("lstm", "a notebook copied as text: In [7]: / Out[8]: markers", twin="in_markers.py"),
    "paste_prompts_correct.txt": correct("rnn", ">>> and ... prompts, cell only", twin="prompts.py"),
    # ---- catalog bugs in new disguises ----
    "bug_missing_da_t_compact.py": diverges("rnn", "catalog", DA_T, "missing-da-t",
                                            ("rnn_cell_backward(da_prevt",), note="compact style, g = ..."),
    "bug_missing_da_t_while.py": diverges("rnn", "catalog", DA_T, "missing-da-t",
                                          ("rnn_cell_backward(da_next, cache_list[step])",), note="while, carry named da_next"),
    "nb_missing_da_t.ipynb": diverges("rnn", "catalog", DA_T, "missing-da-t", note="the notebook, test outputs included"),
    "paste_famous_post.txt": diverges("rnn", "catalog", DA_T, "missing-da-t", ("rnn_cell_backward(da_prevt",),
                                      twin="famous_post.py", note="the forum post as posted: prose, “”\" docstring"),
    "paste_noindent_missing_da_t.txt": diverges("rnn", "catalog", DA_T, "missing-da-t", ("rnn_cell_backward(da_prevt",),
                                                twin="noindent.py", note="indentation lost, prose before and after"),
    "bug_missing_da_prev_k.py": diverges("rnn", "catalog", DA_PREV, "missing-da-prev",
                                         ("rnn_cell_backward(da[:, :, k], caches[k])",), note="loop variable k"),
    "bug_missing_da_prev_course.py": diverges("rnn", "catalog", DA_PREV, "missing-da-prev",
                                              ("rnn_cell_backward(da[:, :, t], caches[t])",)),
    "bug_overwrite_dict.py": diverges("rnn", "catalog", (RNN, "T_x-2", ("dWax",), ("total",)), "overwrite-not-accumulate",
                                      ('grads["dWax"] = step["dWax"]',), note="totals in a dict, assigned"),
    "bug_overwrite_course.py": diverges("rnn", "catalog", (RNN, "T_x-2", ("dWax",), ("total",)),
                                        "overwrite-not-accumulate", ("dWax = dWaxt",)),
    "bug_da0_not_set.py": diverges("rnn", "catalog", (RNN, None, ("da0",), ("final",)), "da0-not-set",
                                   note="da0 initialised, never set"),
    "bug_da0_not_set_course.py": diverges("rnn", "catalog", (RNN, None, ("da0",), ("final",)), "da0-not-set",
                                          note="the line commented out"),
    "bug_forward_order.py": diverges("rnn", "catalog", DA_T, "forward-order", ("for t in range(0, T_x):",)),
    "bug_forward_order_while.py": diverges("rnn", "catalog", DA_T, "forward-order", ("while t < T_x:",),
                                           note="while t < T_x, t += 1"),
    # caches[t-1] hands every cache once: by cache, step T_x-1 is the last call and gets da[:,:,0] + carry
    # (input); by order, the first call gets the right da_next and returns the wrong dxt (step).
    "bug_wrong_cache.py": diverges("rnn", "catalog", (RNN, "T_x-1", ("da_next", "dxt"), ("input", "step")),
                                   "wrong-cache", ("caches[t - 1]",)),
    "bug_tanh_twice_multiply.py": diverges("rnn", "catalog", (RNN_CELL, "T_x-1", ("dxt",), ("step",)), "tanh-twice",
                                           ("np.square(np.tanh(a_next))",), note="cell only, np.multiply"),
    "nb_tanh_twice.ipynb": diverges("rnn", "catalog", (RNN_CELL, "T_x-1", ("dxt",), ("step",)), "tanh-twice",
                                    note="notebook, (1 - np.tanh(a_next) ** 2) * da_next"),
    "bug_dtanh_a_prev_multiply.py": diverges("rnn", "catalog", (RNN_CELL, "T_x-1", ("dxt",), ("step",)), "dtanh-a-prev",
                                             ("np.square(a_prev)",), note="np.multiply(da_next, 1 - np.square(a_prev))"),
    "bug_dtanh_a_prev_matmul.py": diverges("rnn", "catalog", (RNN_CELL, "T_x-1", ("dxt",), ("step",)), "dtanh-a-prev",
                                           ("(1 - a_prev**2) * da_next",)),
    "bug_no_transpose_waa_matmul.py": diverges("rnn", "catalog", (RNN_CELL, "T_x-1", ("da_prev",), ("step",)),
                                               "no-transpose-waa", ('p["Waa"] @ dz',)),
    "bug_no_transpose_waa_cell_only.py": diverges("rnn", "catalog", (RNN_CELL, "T_x-1", ("da_prev",), ("step",)),
                                                  "no-transpose-waa", ("np.dot(Waa, dtanh)",), note="cell only"),
    "paste_prose_between.txt": diverges("rnn", "catalog", (RNN_CELL, "T_x-1", ("da_prev",), ("step",)),
                                        "no-transpose-waa", ("np.dot(Waa, dtanh)",), twin="prose_between.py",
                                        note="prose between two unfenced functions"),
    "bug_dwaa_transposed.py": diverges("rnn", "catalog", (RNN_CELL, "T_x-1", ("dWaa",), ("step",)), "dwaa-transposed",
                                       ("np.dot(a_prev, dtanh.T)",)),
    "paste_mixed_tabs.txt": diverges("rnn", "catalog", (RNN_CELL, "T_x-1", ("dWaa",), ("step",)), "dwaa-transposed",
                                     ("np.dot(a_prev, dtanh.T)",), twin="mixed_tabs.py",
                                     note="tabs and four spaces alternate line by line"),
    "bug_divide_by_m.py": diverges("rnn", "catalog", (RNN_CELL, "T_x-1", ("dWax",), ("step",)), "divide-by-m",
                                   ("1 / m * np.dot(dtanh, xt.T)",), note="1 / m * ..., m from xt"),
    "bug_no_transpose_wax.py": broken("rnn", SHAPE, ("dxt = Wax.dot(dz)",), "no-transpose-wax", kind="catalog",
                                      bug_line=("dxt = Wax.dot(dz)",)),
    "bug_dba_no_keepdims.py": broken("rnn", SHAPE, ("dba += dbat", "dba = np.sum(dtanh, axis=1)"), "dba-no-keepdims",
                                     kind="catalog", bug_line=("dba = np.sum(dtanh, axis=1)",)),
    "bug_lstm_no_carry.py": diverges("lstm", "catalog", (LSTM, "T_x-2", ("da_next",), ("input",)), "lstm-no-carry",
                                     note="both carry lines left out"),
    "nb_lstm_no_carry.ipynb": diverges("lstm", "catalog", (LSTM, "T_x-2", ("da_next",), ("input",)), "lstm-no-carry",
                                       note="notebook, while loop"),
    "bug_lstm_dc_not_carried.py": diverges("lstm", "catalog", (LSTM, "T_x-2", ("dc_next",), ("input",)),
                                           "lstm-dc-not-carried", note="tuple carry split, only da carried"),
    "bug_lstm_c_view.py": diverges("lstm", "catalog", (LSTM_FWD, "0", ("dxt",), ("step",)), "lstm-c-view",
                                   ("c_next = c[:, :, 0]",), note="own forward with the view"),
    "bug_lstm_full_weights.py": broken("lstm", SHAPE, ("dxt = Wf.T @ dft", "da_prev = Wf.T @ dft"), "lstm-full-weights",
                                       kind="catalog", note="cell only: raises in the supplied loop",
                                       bug_line=("dxt = Wf.T @ dft", "da_prev = Wf.T @ dft")),
    "bug_lstm_dc_not_carried_while.py": diverges("lstm", "catalog", (LSTM, "T_x-2", ("dc_next",), ("input",)),
                                                 "lstm-dc-not-carried", note="while loop, totals in a dict"),
    "bug_lstm_concat_order_vstack.py": diverges("lstm", "catalog", (LSTM_CELL, "T_x-1", ("dWf",), ("step",)),
                                                "lstm-concat-order", ("np.vstack([xt, a_prev])",)),
    "bug_lstm_full_weights_course.py": broken("lstm", SHAPE, ('dx[:, :, t] = gradients["dxt"]', "dxt = np.dot(parameters['Wf'].T"),
                                              "lstm-full-weights", kind="catalog",
                                              bug_line=("dxt = np.dot(parameters['Wf'].T", "da_prev = np.dot(parameters['Wf'].T")),
    "bug_lstm_c_view_compact.py": diverges("lstm", "catalog", (LSTM_FWD, "0", ("dxt",), ("step",)), "lstm-c-view",
                                           ("c[:, :, 0]",), note="forward only, c_next = c[:, :, 0] in a tuple assignment"),
    "bug_lstm_concat_order.py": diverges("lstm", "catalog", (LSTM_CELL, "T_x-1", ("dWf",), ("step",)),
                                         "lstm-concat-order", ("np.concatenate((xt, a_prev), axis=0)",),
                                         note="gates as a dict loop"),
    "bug_lstm_tanh_c.py": diverges("lstm", "catalog", (LSTM_CELL, "T_x-1", ("dxt",), ("step",)), "lstm-tanh-c",
                                   ("(1 - c_next ** 2)",)),
    "paste_lstm_tanh_c.txt": diverges("lstm", "catalog", (LSTM_CELL, "T_x-1", ("dxt",), ("step",)), "lstm-tanh-c",
                                      ("(1 - c_next ** 2)",), twin="lstm_tanh_c.py", note="```py fence and prose"),
    "bug_missing_da_t_two_loops.py": diverges("rnn", "catalog", DA_T, "missing-da-t",
                                              ("rnn_cell_backward(da_prevt, caches[t])",), note="carry loop + accumulation loop"),
    "bug_missing_da_prev_enumerate.py": diverges("rnn", "catalog", DA_PREV, "missing-da-prev",
                                                 ("rnn_cell_backward(da[:, :, t], cache)",), note="enumerate(reversed(...))"),
    "bug_overwrite_helper.py": diverges("rnn", "catalog", (RNN, "T_x-2", ("dWax",), ("total",)),
                                        "overwrite-not-accumulate", ("totals[key] = g[key]",), note="in a helper function"),
    "bug_no_transpose_waa_einsum.py": diverges("rnn", "catalog", (RNN_CELL, "T_x-1", ("da_prev",), ("step",)),
                                               "no-transpose-waa", ('np.einsum("ij,jm->im", parameters["Waa"]',)),
    "bug_dwaa_transposed_matmul.py": diverges("rnn", "catalog", (RNN_CELL, "T_x-1", ("dWaa",), ("step",)),
                                              "dwaa-transposed", ("(dz @ a_prev.T).T",)),
    "bug_forward_order_enumerate.py": diverges("rnn", "catalog", DA_T, "forward-order",
                                               ("for t, cache in enumerate(cache_list):",)),
    "bug_wrong_cache_range_desc.py": diverges("rnn", "catalog", (RNN, "T_x-1", ("da_next", "dxt"), ("input", "step")),
                                              "wrong-cache", ("caches[t-2]",), note="range(T_x, 0, -1) with caches[t-2]"),
    "bug_lstm_tanh_c_course.py": diverges("lstm", "catalog", (LSTM_CELL, "T_x-1", ("dxt",), ("step",)), "lstm-tanh-c",
                                          ("(1 - np.square(c_next))",), note="the notebook's expanded formulas, four times"),
    "bug_lstm_no_carry_helper.py": diverges("lstm", "catalog", (LSTM, "T_x-2", ("da_next",), ("input",)), "lstm-no-carry",
                                            note="a helper adds the totals; da0 from the last call"),
    "nb_redefined_cell.ipynb": diverges("rnn", "catalog", (RNN_CELL, "T_x-1", ("da_prev",), ("step",)), "no-transpose-waa",
                                        note="a later cell redefines the cell: the later definition is the one that runs"),
    "paste_with_traceback.txt": broken("rnn", SHAPE, ("dxt = Wax.dot(dz)",), "no-transpose-wax", kind="catalog",
                                       twin="with_traceback.py", note="the code, then the notebook's traceback"),
    "paste_flat_two_functions.txt": diverges("rnn", "catalog", DA_PREV, "missing-da-prev",
                                             ("rnn_cell_backward(da[:, :, t-1], caches[t-1])",), twin="flat_two_functions.py",
                                             note="two functions, indentation lost, “”\" docstring, t-1 spelling"),
    "paste_prompts_loop.txt": diverges("rnn", "catalog", DA_T, "forward-order", ("while t < T_x:",), twin="prompts_loop.py",
                                       note=">>> and ... around a whole while loop, then the REPL's output"),
    "nb_cell_magic_time.ipynb": diverges("rnn", "catalog", (RNN_CELL, "T_x-1", ("dWaa",), ("step",)), "dwaa-transposed",
                                         note="%%time on top of the graded cell: Jupyter still runs the cell"),
    # ---- outside the catalog: nothing from the catalog may be named ----
    "out_lstm_da_not_carried.py": diverges("lstm", "outside", (LSTM, "T_x-2", ("da_next",), ("input",)),
                                           note="dc carried, da not: neither lstm-no-carry nor lstm-dc-not-carried"),
    "out_dx_after_loop.py": diverges("rnn", "outside", (RNN, None, ("dx",), ("final",)), bug_line=("    dx[:, :, t] = dxt",),
                                     note="dx stored once, after the loop"),
    "out_lstm_da0_not_set.py": diverges("lstm", "outside", (LSTM, None, ("da0",), ("final",)),
                                        note="da0 left at zeros in the LSTM: da0-not-set is an RNN bug"),
    "out_lstm_dft_missing_ft.py": diverges("lstm", "outside", (LSTM_CELL, "T_x-1", ("dxt",), ("step",)),
                                           bug_line=("dft = dc * c_prev * (1 - ft)",)),
    "out_dba_mean.py": diverges("rnn", "outside", (RNN_CELL, "T_x-1", ("dba",), ("step",)), bug_line=("np.mean(dtanh",),
                                note="only dba averaged: not divide-by-m"),
    "out_two_loops_dx_reversed.py": diverges("rnn", "outside", (RNN, None, ("dx",), ("final",)),
                                             bug_line=('step_grads[T_x - 1 - t]["dxt"]',),
                                             note="every step and total right; dx filled in reverse after the loop"),
    "out_clip_carry_in_loop.py": diverges("rnn", "outside", DA_PREV, bug_line=("np.clip(da_prevt, -1, 1, out=da_prevt)",),
                                          note="the carry clipped in place inside the loop"),
    "out_truncated_bptt.py": diverges("rnn", "outside", None, bug_line=("for t in reversed(range(max(0, T_x - K), T_x)):",),
                                      note="right on sequences of 5 steps or fewer: only a longer probe shows it"),
    "out_da0_from_da.py": diverges("rnn", "outside", (RNN, None, ("da0",), ("final",)), bug_line=("da0 = da[:, :, 0]",)),

    "out_dwaa_a_next.py": diverges("rnn", "outside", (RNN_CELL, "T_x-1", ("dWaa",), ("step",)), bug_line=("a_next.T",)),
    "out_dz_sign.py": diverges("rnn", "outside", (RNN_CELL, "T_x-1", ("dxt",), ("step",)), bug_line=("(a_next**2 - 1)",)),
    "out_dx_shifted.py": diverges("rnn", "outside", (RNN, None, ("dx",), ("final",)), bug_line=("dx[:, :, t - 1]",),
                                  note="dx stored one step early"),
    "out_clip_after_loop.py": diverges("rnn", "outside", (RNN, None, ("dWax", "dWaa", "dba"), ("final",)),
                                       bug_line=("np.clip(gradient, -5, 5, out=gradient)",)),
    "out_da0_scaled.py": diverges("rnn", "outside", (RNN, None, ("da0",), ("final",)), bug_line=("da_prevt / T_x",)),
    "out_half_dxt.py": diverges("rnn", "outside", (RNN_CELL, "T_x-1", ("dxt",), ("step",)), bug_line=("0.5 * np.matmul",)),
    "out_half_da_prev.py": diverges("rnn", "outside", (RNN_CELL, "T_x-1", ("da_prev",), ("step",)),
                                    bug_line=("0.5 * Waa.T.dot(dz)",)),
    "out_dx_reset_in_loop.py": diverges("rnn", "outside", (RNN, None, ("dx",), ("final",)),
                                        bug_line=("        dx = np.zeros((n_x, m, T_x))",)),
    "out_dwax_reset_in_loop.py": diverges("rnn", "outside", (RNN, "T_x-2", ("dWax",), ("total",)),
                                          bug_line=("        dWax = np.zeros((n_a, n_x))",)),
    "out_np_add_no_out.py": diverges("rnn", "outside", (RNN, "T_x-1", ("dWax",), ("total",)),
                                     bug_line=("np.add(dWax, dWaxt)",), note="np.add without out: totals stay 0"),
    "out_carry_sign.py": diverges("rnn", "outside", DA_PREV, bug_line=("da[:, :, t] - da_prevt",)),
    "out_dba_from_da_next.py": diverges("rnn", "outside", (RNN_CELL, "T_x-1", ("dba",), ("step",)),
                                        bug_line=("np.sum(da_next",)),
    "out_scale_after_loop.py": diverges("rnn", "outside", (RNN, None, ("dWax", "dWaa", "dba"), ("final",)),
                                        bug_line=("dWax / T_x",)),
    "out_dba_axis0_keepdims.py": broken("rnn", SHAPE, ('dba += g["dba"]', "dz.sum(axis=0, keepdims=True)"),
                                        kind="outside", note="(1, m) into (n_a, 1): raises, unlike dba-no-keepdims's text",
                                        bug_line=("dz.sum(axis=0, keepdims=True)",)),
    "out_lstm_dc_reset.py": diverges("lstm", "outside", (LSTM, "T_x-2", ("dc_next",), ("input",)),
                                     bug_line=("        dc_prevt = np.zeros((n_a, m))",), allow=("lstm-dc-not-carried",),
                                     note="the carry line exists; a reset at the top of the loop undoes it"),
    "out_lstm_dot_missing_ot.py": diverges("lstm", "outside", (LSTM_CELL, "T_x-1", ("dxt",), ("step",)),
                                           bug_line=("dot = da_next * tanh_c * (1 - ot)",)),
    "out_lstm_dft_c_next.py": diverges("lstm", "outside", (LSTM_CELL, "T_x-1", ("dxt",), ("step",)),
                                       bug_line=("dft = (dc_next * c_next",)),
    "out_lstm_dc_prev_drops_da.py": diverges("lstm", "outside", (LSTM_CELL, "T_x-1", ("dc_prev",), ("step",)),
                                             bug_line=('gradients["dc_prev"] = dc_next * ft',)),
    "out_lstm_da_prev_no_wo.py": diverges("lstm", "outside", (LSTM_CELL, "T_x-1", ("da_prev",), ("step",)),
                                          bug_line=("da_prev = Wf_a.T @ dft + Wi_a.T @ dit + Wc_a.T @ dcct",)),
    "out_lstm_dbo_overwrite.py": diverges("lstm", "outside", (LSTM, "T_x-2", ("dbo",), ("total",)),
                                          bug_line=('dbo = gradients["dbo"]',), note="one total assigned"),
    # ---- broken: exit 2 with the right kind and line ----
    "err_py2_print.py": broken("rnn", ("syntax",), ('print "da0 shape:"',)),
    "paste_py2_print.txt": broken("rnn", ("syntax",), ("print dba.shape", 33), note="inside a fence; line in the file or in the fence"),
    "err_missing_colon.py": broken("rnn", ("syntax",), ("for t in reversed(range(T_x))",)),
    "err_indentation.py": broken("rnn", ("indentation", "syntax"), ("     dba = dz.sum",)),
    "err_name_wax.py": broken("rnn", ("runtime",), ("dxt = np.dot(Wax.T, dtanh)",), note="Wax never read from parameters"),
    "err_key_typo.py": broken("rnn", ("runtime",), ('gradients["db"]',)),
    "err_extra_argument.py": broken("rnn", ("runtime",), ("caches[t], t)",)),
    "err_dx_index_t_plus_1.py": broken("rnn", ("runtime", "shape"), ("dx[:, :, t + 1]",)),
    "err_lstm_missing_key.py": broken("lstm", ("runtime", "output"), ("totals[k] += g[k]", "    return {"),
                                      note="the cell drops dbo and the loop reads it: a KeyError, or a malformed return"),
    "err_returns_none.py": broken("rnn", ("output",), None),
    "err_returns_tuple.py": broken("rnn", ("output",), None),
    "err_lstm_return_missing_da0.py": broken("lstm", ("output",), None),
    "err_dx_shape_of_da.py": broken("rnn", SHAPE, ('dx[:, :, t] = g["dxt"]', "dx = np.zeros(da.shape)")),
    "err_lstm_T_from_caches.py": broken("lstm", ("runtime", "shape"), ("g = lstm_cell_backward(da[:, :, t]",),
                                        note="T_x from len(caches): the course's 7 caches for 4 steps of da"),
    "err_name_dxt.py": broken("rnn", ("runtime",), ("dx[:, :, t] = dxt",)),
    "err_lstm_unpack.py": broken("lstm", ("runtime",), ("= cache",), note="a ValueError that is not about shapes"),
    "err_undefined_helper.py": broken("rnn", ("runtime",), ("tanh_backward(da_next, a_next)",)),
    "nb_py2_print.ipynb": broken("rnn", ("syntax",), None, note='print "t =", t in the graded cell'),
    "err_no_course_function.py": broken("rnn", ("missing-function",), None),
}
