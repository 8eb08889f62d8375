"""The catalog of classic BPTT bugs: one source of truth for the stepper, the gallery,
the diagnosis of a student's code and the docs.

Each bug is data (where it lives, the wrong line against the right one, why students
write it, what it does) plus `variant`, the course's code with that one piece changed,
which the traced backward runs. `right` lines are copied from bptt/rnn.py, bptt/lstm.py
and bptt/gru.py (a test holds them to that), so a page can find them in the listing.
"""

from dataclasses import dataclass, replace

import numpy as np

from .variants import GRUCode, LSTMCode, RNNCode


@dataclass(frozen=True)
class Bug:
    """One classic mistake, as data plus an executable variant."""

    id: str  # stable, used in URLs and in the JSON of `python -m bptt check`
    cell: str  # "rnn", "lstm" or "gru"
    title: str  # a short name a student recognises
    function: str  # the course function the wrong line lives in
    wrong: str  # the wrong line(s) in course notation; "" when the bug is a missing line
    right: str  # the right line(s), exactly as in the reference code
    why: str  # two or three plain sentences: why students write it, what it does
    symptom: str  # what the student sees
    hint: str  # a nudge towards the fix that does not give the fix away
    variant: RNNCode | LSTMCode | GRUCode  # the course's code with this bug in it
    wrong_keys: tuple  # returned gradients that come out wrong (T_x ≥ 2, n_x ≠ n_a)
    first: tuple | None  # (scope, quantity, t as an index into range(T_x)) of the first divergence
    raises: str | None = None  # the exception's type when the bug raises instead


RNN_KEYS = ("dx", "da0", "dWax", "dWaa", "dba")
LSTM_KEYS = ("dx", "da0", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")
GRU_KEYS = ("dx", "da0", "dWr", "dbr", "dWz", "dbz", "dWh", "dbh")
GRU_DA_PREV = "np.dot(Wr[:, :n_a].T, drt) + np.dot(Wz[:, :n_a].T, dzt)"  # the two gates' share of da_prev

BUGS = (
    Bug(
        id="missing-da-t",
        cell="rnn",
        title="Forgot to add da[:,:,t]",
        function="rnn_backward",
        wrong="gradients = rnn_cell_backward(da_prevt, caches[t])",
        right="gradients = rnn_cell_backward(da[:,:,t] + da_prevt, caches[t])",
        why=(
            "a<t> feeds two places, the prediction at t and the next step, so the gradient reaching it is "
            "the sum of both. Passing only the carried da_prevt drops the loss's own gradient; since "
            "da_prevt starts at zero, nothing ever enters the cell."
        ),
        symptom="Every gradient is exactly zero, and every shape is right.",
        hint="What does the first call of the loop hand to the cell? Where does the loss's gradient at step t come in?",
        variant=replace(RNNCode(), da_next=lambda da_t, da_prevt: da_prevt),
        wrong_keys=RNN_KEYS,
        first=("input", "da_next", -1),
    ),
    Bug(
        id="missing-da-prev",
        cell="rnn",
        title="Forgot to carry da_prevt",
        function="rnn_backward",
        wrong="gradients = rnn_cell_backward(da[:,:,t], caches[t])",
        right="gradients = rnn_cell_backward(da[:,:,t] + da_prevt, caches[t])",
        why=(
            "Only the loss's gradient at step t is passed, so each step is treated as if it were the last. "
            "No gradient flows backward through time: the weights learn nothing about earlier steps."
        ),
        symptom="The last step is right; every earlier step is wrong, and the gradients never grow or shrink with distance.",
        hint="The cell at step t influences the loss at t and at every later step. Which of those does your call include?",
        variant=replace(RNNCode(), da_next=lambda da_t, da_prevt: da_t),
        wrong_keys=RNN_KEYS,
        first=("input", "da_next", -2),
    ),
    Bug(
        id="overwrite-not-accumulate",
        cell="rnn",
        title="Overwrites the weight gradients instead of adding them up",
        function="rnn_backward",
        wrong="dWax = dWaxt\ndWaa = dWaat\ndba = dbat",
        right="dWax += dWaxt\ndWaa += dWaat\ndba += dbat",
        why=(
            "The same weights are used at every step, so their gradient is the sum of every step's share. "
            "Assigning instead of adding keeps only the last step the loop ran, which is t = 0."
        ),
        symptom="dx and da0 are right; dWax, dWaa and dba equal step t = 0's share alone.",
        hint="Waa is shared by all time steps. How should the shares of the different steps combine?",
        variant=replace(RNNCode(), accumulate=False),
        wrong_keys=("dWax", "dWaa", "dba"),
        first=("total", "dWax", -2),
    ),
    Bug(
        id="da0-not-set",
        cell="rnn",
        title="da0 never set",
        function="rnn_backward",
        wrong="",
        right="da0 = da_prevt",
        why=(
            "After the loop, the gradient carried out of step 0 is the gradient with respect to a0. "
            "Without that line da0 keeps the zeros it was initialised with."
        ),
        symptom="Every gradient is right except da0, which is all zeros.",
        hint="After the loop ends, which variable holds the gradient that flowed out of the first step?",
        variant=replace(RNNCode(), set_da0=False),
        wrong_keys=("da0",),
        first=("final", "da0", None),
    ),
    Bug(
        id="forward-order",
        cell="rnn",
        title="The backward loop runs forward in time",
        function="rnn_backward",
        wrong="for t in range(T_x):",
        right="for t in reversed(range(T_x)):",
        why=(
            "The gradient carried into step t comes from step t+1, so step t+1 must be done first. "
            "Running t = 0, 1, ... carries each step's gradient into the step after it, which is backwards."
        ),
        symptom="Shapes are right and numbers are plausible, but every gradient is wrong.",
        hint="da_prevt at step t has to come from step t+1. In which order must the loop visit the steps?",
        variant=replace(RNNCode(), order=lambda T_x: range(T_x)),
        wrong_keys=RNN_KEYS,
        first=("input", "da_next", -1),
    ),
    Bug(
        id="wrong-cache",
        cell="rnn",
        title="Uses the previous step's cache",
        function="rnn_backward",
        wrong="gradients = rnn_cell_backward(da[:,:,t] + da_prevt, caches[t-1])",
        right="gradients = rnn_cell_backward(da[:,:,t] + da_prevt, caches[t])",
        why=(
            "Each cell's backward needs that step's own a_next, a_prev and xt. An off-by-one index "
            "differentiates at the wrong point; at t = 0 Python's caches[-1] silently wraps to the last step."
        ),
        symptom="No error, right shapes, every gradient wrong from the first step on.",
        hint="Which step's activations does the cell at step t need to differentiate tanh?",
        variant=replace(RNNCode(), cache_index=lambda t: t - 1),
        wrong_keys=RNN_KEYS,
        first=("step", "dxt", -1),
    ),
    Bug(
        id="tanh-twice",
        cell="rnn",
        title="tanh applied twice in the derivative",
        function="rnn_cell_backward",
        wrong="dz = da_next * (1 - np.tanh(a_next)**2)",
        right="dz = da_next * (1 - a_next**2)",
        why=(
            "The cache holds a_next, which is already tanh(z), and tanh's derivative can be written from that "
            "value as it is. Writing np.tanh(a_next) takes tanh of a value that is already a tanh, which shrinks "
            "it and makes every gradient slightly too large."
        ),
        symptom="No error, right shapes, all gradients a little off (too large in magnitude).",
        hint="What does the cache hold in a_next: z, or tanh(z)?",
        variant=replace(RNNCode(), dz=lambda da_next, a_next, a_prev: da_next * (1 - np.tanh(a_next) ** 2)),
        wrong_keys=RNN_KEYS,
        first=("step", "dxt", -1),
    ),
    Bug(
        id="dtanh-a-prev",
        cell="rnn",
        title="tanh derivative taken at a_prev",
        function="rnn_cell_backward",
        wrong="dz = da_next * (1 - a_prev**2)",
        right="dz = da_next * (1 - a_next**2)",
        why=(
            "The tanh being differentiated is this step's, the one whose output is a_next; a_prev is the "
            "previous step's output. It sits in the same cache and has the same shape, so using it raises nothing."
        ),
        symptom="No error, right shapes, every gradient wrong from the first step on.",
        hint="Which activation did this step's tanh produce: the one coming in, or the one going out?",
        variant=replace(RNNCode(), dz=lambda da_next, a_next, a_prev: da_next * (1 - a_prev**2)),
        wrong_keys=RNN_KEYS,
        first=("step", "dxt", -1),
    ),
    Bug(
        id="no-transpose-waa",
        cell="rnn",
        title="Missing transpose on Waa",
        function="rnn_cell_backward",
        wrong="da_prev = np.dot(Waa, dz)",
        right="da_prev = np.dot(Waa.T, dz)",
        why=(
            "The forward computes Waa·a_prev, and the chain rule sends the gradient back through that matrix "
            "transposed. Waa is square, so forgetting the transpose still gives an (n_a, m) result and nothing raises."
        ),
        symptom="Silent: the last step's dxt is right, but the gradient carried back in time is wrong.",
        hint="In the forward, a_prev is multiplied by Waa. What does the chain rule do to that matrix on the way back?",
        variant=replace(RNNCode(), da_prev=lambda Waa, dz: np.dot(Waa, dz)),
        wrong_keys=RNN_KEYS,
        first=("step", "da_prev", -1),
    ),
    Bug(
        id="dwaa-transposed",
        cell="rnn",
        title="dWaa computed transposed",
        function="rnn_cell_backward",
        wrong="dWaa = np.dot(a_prev, dz.T)",
        right="dWaa = np.dot(dz, a_prev.T)",
        why=(
            "Row i of Waa produces unit i of z, so row i of dWaa comes from row i of dz, and a_prev indexes its "
            "columns. Swapping the operands gives the transpose, which has the same (n_a, n_a) shape."
        ),
        symptom="Only dWaa is wrong, and it is exactly the transpose of the right one.",
        hint="dWaa must have the shape of Waa, with rows indexed like z. Check which operand should come first.",
        variant=replace(RNNCode(), dWaa=lambda dz, a_prev, m: np.dot(a_prev, dz.T)),
        wrong_keys=("dWaa",),
        first=("step", "dWaa", -1),
    ),
    Bug(
        id="no-transpose-wax",
        cell="rnn",
        title="Missing transpose on Wax",
        function="rnn_cell_backward",
        wrong="dxt = np.dot(Wax, dz)",
        right="dxt = np.dot(Wax.T, dz)",
        why=(
            "The forward computes Wax·xt, so the gradient reaches xt through that matrix transposed. Wax is "
            "(n_a, n_x), so without the transpose the shapes do not line up and numpy raises."
        ),
        symptom="ValueError: shapes (n_a,n_x) and (n_a,m) not aligned, at the first step.",
        hint="Read the shapes in the error: which matrix, transposed, turns an (n_a, m) gradient into (n_x, m)?",
        variant=replace(RNNCode(), dxt=lambda Wax, dz: np.dot(Wax, dz)),
        wrong_keys=RNN_KEYS,
        first=("error", "dxt", -1),
        raises="ValueError",
    ),
    Bug(
        id="dba-no-keepdims",
        cell="rnn",
        title="dba summed without keepdims",
        function="rnn_cell_backward",
        wrong="dba = np.sum(dz, axis=1)",
        right="dba = np.sum(dz, axis=1, keepdims=True)",
        why=(
            "Summing over the batch without keepdims gives shape (n_a,) instead of (n_a, 1). Adding it to the "
            "(n_a, 1) total broadcasts to (n_a, n_a), which numpy refuses for an in-place +=."
        ),
        symptom="The cell's dba has shape (n_a,); rnn_backward raises a broadcast ValueError at dba += dbat.",
        hint="Compare the shape of your dba with the shape of ba.",
        variant=replace(RNNCode(), dba=lambda dz, m: np.sum(dz, axis=1)),
        wrong_keys=RNN_KEYS,
        first=("error", "dba", -1),
        raises="ValueError",
    ),
    Bug(
        id="divide-by-m",
        cell="rnn",
        title="Divides the weight gradients by m",
        function="rnn_cell_backward",
        wrong="dWax = np.dot(dz, xt.T) / m\ndWaa = np.dot(dz, a_prev.T) / m\ndba = np.sum(dz, axis=1, keepdims=True) / m",
        right="dWax = np.dot(dz, xt.T)\ndWaa = np.dot(dz, a_prev.T)\ndba = np.sum(dz, axis=1, keepdims=True)",
        why=(
            "Averaging over the batch belongs to the loss, and the da handed in already carries it. "
            "Dividing again in the backward scales every weight gradient down by m."
        ),
        symptom="dx and da0 are right; dWax, dWaa and dba are exactly 1/m of the right values.",
        hint="Where in the pipeline does the 1/m of a mean loss enter? Has da already been through it?",
        variant=replace(
            RNNCode(),
            dWax=lambda dz, xt, m: np.dot(dz, xt.T) / m,
            dWaa=lambda dz, a_prev, m: np.dot(dz, a_prev.T) / m,
            dba=lambda dz, m: np.sum(dz, axis=1, keepdims=True) / m,
        ),
        wrong_keys=("dWax", "dWaa", "dba"),
        first=("step", "dWax", -1),
    ),
    Bug(
        id="lstm-no-carry",
        cell="lstm",
        title="Neither da_prevt nor dc_prevt is carried",
        function="lstm_backward",
        wrong="",
        right='da_prevt = gradients["da_prev"]\ndc_prevt = gradients["dc_prev"]',
        why=(
            "Without these two lines the carried gradients stay at their initial zeros, so every step sees "
            "only its own da[:,:,t]. The LSTM's cell state, its whole point, carries nothing back in time."
        ),
        symptom="The last step is right; earlier steps miss everything that flowed from the future.",
        hint="After the cell returns, which two gradients must the loop hand to the step before?",
        variant=replace(LSTMCode(), carry_da=False, carry_dc=False),
        wrong_keys=LSTM_KEYS,
        first=("input", "da_next", -2),
    ),
    Bug(
        id="lstm-dc-not-carried",
        cell="lstm",
        title="dc_prevt is not carried",
        function="lstm_backward",
        wrong="",
        right='dc_prevt = gradients["dc_prev"]',
        why=(
            "The cell state has its own path back in time, next to the hidden state's. Forgetting to carry "
            "dc_prevt cuts that path, which is the one that lets LSTM gradients survive long sequences."
        ),
        symptom="da_next is right at every step, but dc_next is zero where it should not be; all weights are off.",
        hint="An LSTM carries two gradients between steps. Is each of them updated inside your loop?",
        variant=replace(LSTMCode(), carry_dc=False),
        wrong_keys=LSTM_KEYS,
        first=("input", "dc_next", -2),
    ),
    Bug(
        id="lstm-c-view",
        cell="lstm",
        title="First cell state is a view into c",
        function="lstm_forward",
        wrong="c_next = c[:,:,0]",
        right="c_next = np.zeros(a_next.shape)",
        why=(
            "c[:,:,0] is a view, not a copy: it holds zeros at first, so the forward is right, but the cache "
            "of step 0 keeps that view as c_prev. When the loop writes c[:,:,0] = c_next, the cached c_prev "
            "silently becomes c<1>, and the backward of step 0 uses it."
        ),
        symptom="Every forward output is right; the backward is wrong only at t = 0 (dWf, dbf, dx[:,:,0], da0).",
        hint="Does the array you start the cell state from share memory with something the loop writes to later?",
        variant=replace(LSTMCode(), c0=lambda c: c[:, :, 0]),
        wrong_keys=("dx", "da0", "dWf", "dbf"),
        first=("step", "dxt", 0),
    ),
    Bug(
        id="lstm-full-weights",
        cell="lstm",
        title="Full gate weights used for da_prev and dxt",
        function="lstm_cell_backward",
        wrong=(
            "da_prev = np.dot(Wf.T, dft) + np.dot(Wi.T, dit) + np.dot(Wc.T, dcct) + np.dot(Wo.T, dot)\n"
            "dxt = np.dot(Wf.T, dft) + np.dot(Wi.T, dit) + np.dot(Wc.T, dcct) + np.dot(Wo.T, dot)"
        ),
        right=(
            "da_prev = np.dot(Wf[:, :n_a].T, dft) + np.dot(Wi[:, :n_a].T, dit) + np.dot(Wc[:, :n_a].T, dcct) "
            "+ np.dot(Wo[:, :n_a].T, dot)\n"
            "dxt = np.dot(Wf[:, n_a:].T, dft) + np.dot(Wi[:, n_a:].T, dit) + np.dot(Wc[:, n_a:].T, dcct) "
            "+ np.dot(Wo[:, n_a:].T, dot)"
        ),
        why=(
            "Each gate acts on the stack [a_prev; xt], so W.T @ dgate is the gradient of that whole stack, "
            "shape (n_a + n_x, m). Its first n_a rows belong to a_prev and the rest to xt; using the full W "
            "for both gives arrays of the wrong height."
        ),
        symptom="ValueError at dx[:,:,t] = gradients[\"dxt\"]: a (n_a + n_x, m) array into an (n_x, m) slot.",
        hint="W multiplies [a_prev; xt]. Which columns of W touch a_prev, and which touch xt?",
        variant=replace(LSTMCode(), Wa=lambda W, n_a: W, Wx=lambda W, n_a: W),
        wrong_keys=LSTM_KEYS,
        first=("error", "dxt", -1),
        raises="ValueError",
    ),
    Bug(
        id="lstm-concat-order",
        cell="lstm",
        title="[xt; a_prev] stacked in the wrong order in the backward",
        function="lstm_cell_backward",
        wrong="concat = np.concatenate((xt, a_prev), axis=0)",
        right="concat = np.concatenate((a_prev, xt), axis=0)",
        why=(
            "The forward stacks a_prev on top of xt, so the first n_a columns of every W belong to a_prev. "
            "Stacking them the other way in the backward has the same (n_a + n_x, m) shape, so the weight "
            "gradients land in the wrong columns without any error."
        ),
        symptom="dx, da0 and the biases are right; all four weight gradients have their columns shuffled.",
        hint="Compare how the forward builds concat with how your backward builds it.",
        variant=replace(LSTMCode(), concat=lambda a_prev, xt: np.concatenate((xt, a_prev), axis=0)),
        wrong_keys=("dWf", "dWi", "dWc", "dWo"),
        first=("step", "dWf", -1),
    ),
    Bug(
        id="lstm-tanh-c",
        cell="lstm",
        title="The derivative of tanh written from c_next as in the RNN",
        function="lstm_cell_backward",
        wrong="dc = dc_next + ot * (1 - c_next ** 2) * da_next",
        right="dc = dc_next + ot * (1 - np.tanh(c_next) ** 2) * da_next",
        why=(
            "In the RNN, a_next is already the output of a tanh, so the derivative can be written from it directly. "
            "In the LSTM, c_next is the input of a tanh, not its output (a_next is ot times the tanh of c_next), "
            "so writing the derivative from c_next directly evaluates it at the wrong value."
        ),
        symptom="No error, right shapes, every gradient off; the error grows where |c_next| is large.",
        hint="Is c_next the output of a tanh, or its input?",
        variant=replace(LSTMCode(), dtanh_c=lambda c_next: 1 - c_next**2),
        wrong_keys=LSTM_KEYS,
        first=("step", "dxt", -1),
    ),
    Bug(
        id="gru-missing-da-t",
        cell="gru",
        title="GRU: forgot to add da[:,:,t]",
        function="gru_backward",
        wrong="gradients = gru_cell_backward(da_prevt, caches[t])",
        right="gradients = gru_cell_backward(da[:,:,t] + da_prevt, caches[t])",
        why=(
            "The famous RNN bug in a GRU's clothes: the gates change what happens inside the cell, not what "
            "reaches it. a<t> feeds the prediction at t and the next step, so the loop must hand the cell both "
            "gradients; with da_prevt alone, which starts at zero, nothing ever enters."
        ),
        symptom="Every gradient is exactly zero, and every shape is right.",
        hint="What does the first call of the loop hand to the cell? Where does the loss's gradient at step t come in?",
        variant=replace(GRUCode(), da_next=lambda da_t, da_prevt: da_prevt),
        wrong_keys=GRU_KEYS,
        first=("input", "da_next", -1),
    ),
    Bug(
        id="gru-z-swapped",
        cell="gru",
        title="GRU: z and 1 - z swapped in the backward",
        function="gru_cell_backward",
        wrong=(
            "dh_tilde = da_next * zt * (1 - h_tilde**2)\n"
            "dzt = da_next * (h_tilde - a_prev) * zt * (1 - zt)\n"
            f"da_prev = da_next * (1 - zt) + dra * rt + {GRU_DA_PREV}"
        ),
        right=(
            "dh_tilde = da_next * (1 - zt) * (1 - h_tilde**2)\n"
            "dzt = da_next * (a_prev - h_tilde) * zt * (1 - zt)\n"
            f"da_prev = da_next * zt + dra * rt + {GRU_DA_PREV}"
        ),
        why=(
            "Two conventions are in print: d2l.ai, Cho et al. and PyTorch put the update gate on a_prev and give "
            "the candidate the rest, while Chung et al. (2014), Wikipedia and Colah's blog write it the other way "
            "round. A backward derived from the other one is consistent and plausible, but it differentiates a "
            "cell this forward does not compute."
        ),
        symptom=(
            "No error, right shapes, every gradient wrong from the first step on; that step's dWz and dbz are "
            "the right ones negated."
        ),
        hint="Read the forward's a_next line again: which of its two terms does the update gate weigh?",
        variant=replace(
            GRUCode(),
            dh_tilde=lambda da_next, zt, h_tilde: da_next * zt * (1 - h_tilde**2),
            dzt=lambda da_next, zt, a_prev, h_tilde: da_next * (h_tilde - a_prev) * zt * (1 - zt),
            da_direct=lambda da_next, zt: da_next * (1 - zt),
        ),
        wrong_keys=GRU_KEYS,
        first=("step", "dxt", -1),
    ),
    Bug(
        id="gru-reset-after-matmul",
        cell="gru",
        title="GRU: reset gate applied after the matmul, in the backward only",
        function="gru_cell_backward",
        wrong=(
            "drt = dh_tilde * np.dot(Wh[:, :n_a], a_prev) * rt * (1 - rt)\n"
            f"da_prev = da_next * zt + np.dot(Wh[:, :n_a].T, rt * dh_tilde) + {GRU_DA_PREV}"
        ),
        right=(
            "drt = dra * a_prev * rt * (1 - rt)\n"
            f"da_prev = da_next * zt + dra * rt + {GRU_DA_PREV}"
        ),
        why=(
            "d2l's candidate resets a_prev before Wh sees it, Wh·(rt * a_prev); some libraries (cuDNN, PyTorch) reset "
            "after the product, rt * (Wh·a_prev). Those are different functions with the same shapes, so "
            "differentiating the other one raises nothing and is wrong wherever the gradient passes the reset gate."
        ),
        symptom=(
            "No error, right shapes; at the last step only dxt, da_prev, dWr and dbr are off, and from there "
            "every gradient."
        ),
        hint=(
            "In the forward, is rt multiplied into a_prev before Wh acts, or into Wh's result? Follow rt's "
            "gradient through that exact expression."
        ),
        variant=replace(
            GRUCode(),
            drt=lambda dra, a_prev, rt, Wha, dh_tilde: dh_tilde * np.dot(Wha, a_prev) * rt * (1 - rt),
            da_reset=lambda dra, rt, Wha, dh_tilde: np.dot(Wha.T, rt * dh_tilde),
        ),
        wrong_keys=GRU_KEYS,
        first=("step", "dxt", -1),
    ),
    Bug(
        id="gru-no-direct-path",
        cell="gru",
        title="GRU: da_prev misses the direct path da_next * zt",
        function="gru_cell_backward",
        wrong=f"da_prev = dra * rt + {GRU_DA_PREV}",
        right=f"da_prev = da_next * zt + dra * rt + {GRU_DA_PREV}",
        why=(
            "a_prev reaches a_next twice: through the gates and the candidate, and directly, as zt * a_prev. "
            "Dropping the direct term keeps every path that goes through a matrix and loses the one that does not, "
            "which is the path that lets a GRU's gradient survive long sequences."
        ),
        symptom=(
            "The last step is right but for its da_prev; the gradient carried back is a fraction of the right one "
            "at every step, and where the update gate holds the state (the vanishing preset) it is gone within "
            "a few steps."
        ),
        hint="List every place a_prev appears in the forward's a_next. Does each of them send a gradient back?",
        variant=replace(GRUCode(), da_direct=lambda da_next, zt: np.zeros_like(da_next)),
        wrong_keys=GRU_KEYS,
        first=("step", "da_prev", -1),
    ),
    Bug(
        id="gru-overwrite-not-accumulate",
        cell="gru",
        title="GRU: overwrites the weight gradients instead of adding them up",
        function="gru_backward",
        wrong=(
            'dWr = gradients["dWr"]\ndWz = gradients["dWz"]\ndWh = gradients["dWh"]\n'
            'dbr = gradients["dbr"]\ndbz = gradients["dbz"]\ndbh = gradients["dbh"]'
        ),
        right=(
            'dWr += gradients["dWr"]\ndWz += gradients["dWz"]\ndWh += gradients["dWh"]\n'
            'dbr += gradients["dbr"]\ndbz += gradients["dbz"]\ndbh += gradients["dbh"]'
        ),
        why=(
            "The gates' weights are shared by every step, so their gradient is the sum of every step's share. "
            "Assigning instead of adding keeps only the last step the loop ran, which is t = 0."
        ),
        symptom="dx and da0 are right; all six weight and bias gradients equal step t = 0's share alone.",
        hint="Wr, Wz and Wh are used at every time step. How should the shares of the different steps combine?",
        variant=replace(GRUCode(), accumulate=False),
        wrong_keys=("dWr", "dbr", "dWz", "dbz", "dWh", "dbh"),
        first=("total", "dWr", -2),
    ),
)

BY_ID = {bug.id: bug for bug in BUGS}


def get_bug(bug_id: str) -> Bug:
    """The catalog entry with this id. get_bug("missing-da-t").title -> 'Forgot to add da[:,:,t]'"""
    if bug_id not in BY_ID:
        raise KeyError(f"unknown bug id {bug_id!r}; known ids: {', '.join(BY_ID)}")
    return BY_ID[bug_id]


def bugs_for(cell: str) -> tuple:
    """The catalog entries of one cell: "rnn", "lstm" or "gru". [b.id for b in bugs_for("lstm")][0] -> 'lstm-no-carry'"""
    return tuple(bug for bug in BUGS if bug.cell == cell)
