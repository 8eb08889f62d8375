"""Every catalog bug in CS231n's notation: its wrong and right lines in bptt/cs231n.py's code, its
title, and where the course's sentences would mislead, its own.

Most bugs are the course's mistake word for word in the homework's names. Where the homework's
layout has no literal counterpart (its bias is (H,), its LSTM has no concat and no cell-state array,
its Wx and Wh are apart), the entry is the same mistake as the homework's code can make it, and
`match` says how close it comes. bptt/notation.py's bug_lines() is the way in.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class BugLines:
    """A catalog bug in one notation: where it lives, its wrong and right lines, its title and sentences.

    `match` says how closely the CS231n version follows the course's: "exact" (the same wrong
    gradients, transposed), "raises" (the same exception type, numpy's message with CS231n's
    shapes), "keys" (the same gradients come out wrong, with other numbers), "analogue" (the same
    mistake where the homework's layout has no literal counterpart; other gradients go wrong).
    """

    function: str  # the function the wrong line lives in, in this notation
    wrong: str  # "" when the bug is a missing line
    right: str  # exactly as in this notation's reference code (bptt/cs231n.py for CS231n)
    title: str
    match: str = "exact"
    # the catalog's sentences; "" in the table here: the course's, in the homework's names (notation.translate)
    why: str = ""
    symptom: str = ""
    hint: str = ""


_RNN_CALL = "dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward({}, cache[{}])"
_LSTM_CALL = "dx[:, t, :], {}, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t, :] + dprev_h, {}, cache[t])"
_GRU_CALL = "dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = gru_step_backward({}, cache[t])"
_GRU_GATES = "da[:, :2 * H].dot(Wh[:, :2 * H].T)"  # the two gates' share of dprev_h
_ACCUMULATE = "dWx += dWx_t\ndWh += dWh_t\ndb += db_t"
_WEIGHTS = "dWx = x.T.dot(dtanh)\ndWh = prev_h.T.dot(dtanh)\ndb = np.sum(dtanh, axis=0)"

CS231N_BUGS = {
    "missing-da-t": BugLines(
        "rnn_backward", _RNN_CALL.format("dprev_h", "t"), _RNN_CALL.format("dh[:, t, :] + dprev_h", "t"),
        "Forgot to add dh[:, t, :]"),
    "missing-da-prev": BugLines(
        "rnn_backward", _RNN_CALL.format("dh[:, t, :]", "t"), _RNN_CALL.format("dh[:, t, :] + dprev_h", "t"),
        "Forgot to carry dprev_h"),
    "overwrite-not-accumulate": BugLines(
        "rnn_backward", _ACCUMULATE.replace("+=", "="), _ACCUMULATE,
        "Overwrites the weight gradients instead of adding them up"),
    "da0-not-set": BugLines("rnn_backward", "", "dh0 = dprev_h", "dh0 never set"),
    "forward-order": BugLines(
        "rnn_backward", "for t in range(T):", "for t in reversed(range(T)):", "The backward loop runs forward in time"),
    "wrong-cache": BugLines(
        "rnn_backward", _RNN_CALL.format("dh[:, t, :] + dprev_h", "t-1"), _RNN_CALL.format("dh[:, t, :] + dprev_h", "t"),
        "Uses the previous step's cache"),
    "tanh-twice": BugLines(
        "rnn_step_backward", "dtanh = dnext_h * (1 - np.tanh(next_h)**2)", "dtanh = dnext_h * (1 - next_h**2)",
        "tanh applied twice in the derivative"),
    "dtanh-a-prev": BugLines(
        "rnn_step_backward", "dtanh = dnext_h * (1 - prev_h**2)", "dtanh = dnext_h * (1 - next_h**2)",
        "tanh derivative taken at prev_h"),
    "no-transpose-waa": BugLines(
        "rnn_step_backward", "dprev_h = dtanh.dot(Wh)", "dprev_h = dtanh.dot(Wh.T)", "Missing transpose on Wh",
        why=("The forward computes prev_h.dot(Wh), and the chain rule sends the gradient back through that matrix "
             "transposed. Wh is square, so forgetting the transpose still gives an (N, H) result and nothing raises.")),
    "dwaa-transposed": BugLines(
        "rnn_step_backward", "dWh = dtanh.T.dot(prev_h)", "dWh = prev_h.T.dot(dtanh)", "dWh computed transposed",
        why=("Column j of Wh produces unit j of next_h, so column j of dWh comes from column j of dtanh, and prev_h "
             "indexes its rows. Swapping the operands gives the transpose, which has the same (H, H) shape."),
        hint="dWh must have the shape of Wh, with columns indexed like next_h's units. Check which operand comes first."),
    "no-transpose-wax": BugLines(
        "rnn_step_backward", "dx = dtanh.dot(Wx)", "dx = dtanh.dot(Wx.T)", "Missing transpose on Wx", "raises",
        why=("The forward computes x.dot(Wx), so the gradient reaches x through that matrix transposed. Wx is (D, H), "
             "so without the transpose the shapes do not line up and numpy raises."),
        symptom="ValueError: shapes (N,H) and (D,H) not aligned, at the first step.",
        hint="Read the shapes in the error: which matrix, transposed, turns an (N, H) gradient into (N, D)?"),
    # the homework's b is (H,), so the same mistake, a bias gradient shaped unlike its bias, is keepdims=True
    "dba-no-keepdims": BugLines(
        "rnn_step_backward", "db = np.sum(dtanh, axis=0, keepdims=True)", "db = np.sum(dtanh, axis=0)",
        "db summed with keepdims, unlike b", "raises",
        why=("The homework's b has shape (H,), so db must too. Summing with keepdims=True gives (1, H), and adding "
             "that to the (H,) total in place broadcasts to (1, H), which numpy refuses for an in-place +=."),
        symptom="The step's db has shape (1, H); rnn_backward raises a broadcast ValueError at db += db_t.",
        hint="Compare the shape of your db with the shape of b."),
    "divide-by-m": BugLines(
        "rnn_step_backward", "\n".join(f"{line} / N" for line in _WEIGHTS.splitlines()), _WEIGHTS,
        "Divides the weight gradients by N",
        why=("Averaging over the batch belongs to the loss, and the dh handed in already carries it. "
             "Dividing again in the backward scales every weight gradient down by N."),
        symptom="dx and dh0 are right; dWx, dWh and db are exactly 1/N of the right values.",
        hint="Where in the pipeline does the 1/N of a mean loss enter? Has dh already been through it?"),
    # the homework carries both gradients in one line, so a missing carry is a value thrown away
    "lstm-no-carry": BugLines(
        "lstm_backward", _LSTM_CALL.format("_, _", "dprev_c"), _LSTM_CALL.format("dprev_h, dprev_c", "dprev_c"),
        "Neither dprev_h nor dprev_c is carried",
        why=("Throwing away the dprev_h and dprev_c the step returns leaves the carried gradients at their initial "
             "zeros, so every step sees only its own dh[:, t, :]. The LSTM's cell state, its whole point, carries "
             "nothing back in time.")),
    "lstm-dc-not-carried": BugLines(
        "lstm_backward", _LSTM_CALL.format("dprev_h, dprev_c", "np.zeros((N, H))"),
        _LSTM_CALL.format("dprev_h, dprev_c", "dprev_c"), "dnext_c overwritten with zeros: dprev_c is not carried"),
    # the homework keeps no cell-state array, so the view is into h; step 0 then differentiates at h[:, 0, :]
    "lstm-c-view": BugLines(
        "lstm_forward", "prev_c = h[:, 0, :]", "prev_c = np.zeros((N, H))", "First cell state is a view into h", "keys",
        why=("h[:, 0, :] is a view, not a copy: it holds zeros at first, so the forward is right, but the cache of "
             "step 0 keeps that view as prev_c. When the loop writes h[:, 0, :] = next_h, the cached prev_c silently "
             "becomes the first hidden state, and the backward of step 0 uses it."),
        symptom=("Every forward output is right; the backward is wrong only at t = 0 (dx[:, 0, :], dh0, and the f "
                 "blocks of dWx, dWh and db).")),
    # the homework's Wx and Wh are already apart, so using the whole stack becomes taking the wrong one
    "lstm-full-weights": BugLines(
        "lstm_step_backward", "dx = da.dot(Wh.T)\ndprev_h = da.dot(Wx.T)", "dx = da.dot(Wx.T)\ndprev_h = da.dot(Wh.T)",
        "Wx and Wh swapped for dx and dprev_h", "raises",
        why=("Wx multiplies x and Wh multiplies prev_h, so the gradient reaches x through Wx.T and prev_h through "
             "Wh.T. Taking them the other way round gives arrays of the wrong width, (N, H) for dx and (N, D) for "
             "dprev_h, which numpy refuses wherever D and H differ."),
        symptom="ValueError at dx[:, t, :] = ...: an (N, H) array into an (N, D) slot.",
        hint="In the forward, which of Wx and Wh touches x, and which touches prev_h?"),
    # the homework has no concat: the same slip, stacking in another order than the forward's, is in the gates
    "lstm-concat-order": BugLines(
        "lstm_step_backward", "da = np.hstack((df, di, do, dg))", "da = np.hstack((di, df, do, dg))",
        "Gates stacked in another order than the forward's", "analogue",
        why=("The forward slices the (N, 4H) activation in the order i, f, o, g, so the backward must stack the gates' "
             "gradients in that same order. Any other order has the same (N, 4H) shape, so each gate's gradient lands "
             "on another gate's weights without any error."),
        symptom="No error, right shapes, every gradient off: dx, dh0, dWx, dWh and db all mix up the gates.",
        hint="Compare the order in which the forward slices its activation with the order your backward stacks da in."),
    "lstm-tanh-c": BugLines(
        "lstm_step_backward", "dc = dnext_c + dnext_h * o * (1 - next_c ** 2)",
        "dc = dnext_c + dnext_h * o * (1 - np.tanh(next_c) ** 2)",
        "The derivative of tanh written from next_c as in the RNN"),
    "gru-missing-da-t": BugLines(
        "gru_backward", _GRU_CALL.format("dprev_h"), _GRU_CALL.format("dh[:, t, :] + dprev_h"),
        "GRU: forgot to add dh[:, t, :]"),
    "gru-z-swapped": BugLines(
        "gru_step_backward",
        "dh_tilde = dnext_h * z * (1 - h_tilde**2)\n"
        "dz = dnext_h * (h_tilde - prev_h) * z * (1 - z)\n"
        f"dprev_h = dnext_h * (1 - z) + drh * r + {_GRU_GATES}",
        "dh_tilde = dnext_h * (1 - z) * (1 - h_tilde**2)\n"
        "dz = dnext_h * (prev_h - h_tilde) * z * (1 - z)\n"
        f"dprev_h = dnext_h * z + drh * r + {_GRU_GATES}",
        "GRU: z and 1 - z swapped in the backward",
        symptom=("No error, right shapes, every gradient wrong from the first step on; that step's z blocks of dWx, "
                 "dWh and db are the right ones negated.")),
    "gru-reset-after-matmul": BugLines(
        "gru_step_backward",
        "dr = dh_tilde * prev_h.dot(Wh[:, 2 * H:]) * r * (1 - r)\n"
        f"dprev_h = dnext_h * z + (r * dh_tilde).dot(Wh[:, 2 * H:].T) + {_GRU_GATES}",
        f"dr = drh * prev_h * r * (1 - r)\ndprev_h = dnext_h * z + drh * r + {_GRU_GATES}",
        "GRU: reset gate applied after the matmul, in the backward only",
        why=("d2l's candidate resets prev_h before Wh sees it, (r * prev_h).dot(Wh[:, 2H:]); some libraries (cuDNN, "
             "PyTorch) reset after the product, r * prev_h.dot(Wh[:, 2H:]). Those are different functions with the same "
             "shapes, so differentiating the other one raises nothing and is wrong wherever the gradient passes the "
             "reset gate."),
        symptom=("No error, right shapes; at the last step only dx, dprev_h and the r blocks of dWx, dWh and db are "
                 "off, and from there every gradient.")),
    "gru-no-direct-path": BugLines(
        "gru_step_backward", f"dprev_h = drh * r + {_GRU_GATES}", f"dprev_h = dnext_h * z + drh * r + {_GRU_GATES}",
        "GRU: dprev_h misses the direct path dnext_h * z"),
    "gru-overwrite-not-accumulate": BugLines(
        "gru_backward", _ACCUMULATE.replace("+=", "="), _ACCUMULATE,
        "GRU: overwrites the weight gradients instead of adding them up",
        symptom="dx and dh0 are right; dWx, dWh and db equal step t = 0's share alone.",
        hint="Wx and Wh are used at every time step. How should the shares of the different steps combine?"),
}
