"""What a traced backward pass keeps, and how two of them are compared.

Store vectors, derive matrices. A trace keeps, per step, only the (n_a, m) vectors the
loop produced, plus a handful of running totals at checkpoints. A step's weight
gradients are one small matmul of those vectors with the forward cache, and the running
totals after any step are the nearest checkpoint plus the few steps since it, or, one
step away from the step shown last, that step's totals plus or minus one step. Memory is
O(T_x·n_a·m + n_a²), never T_x copies of an (n_a, n_a) matrix: see `Trace.nbytes`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Callable, Iterator

import numpy as np

from .buffers import empty
from .fast import block_bounds

N_CHECKPOINTS = 8  # running totals are kept after this many evenly spaced steps, unless a trace says otherwise
MAX_MOVES = 32  # one-step moves in a row whose totals come from the neighbour's, before an exact sum again


@dataclass(frozen=True)
class StepError:
    """The loop raised at step t, as the student's notebook would; the trace stops there."""

    t: int  # forward time index of the step that raised
    quantity: str  # the quantity whose line raised, e.g. "dxt"
    kind: str  # the exception's type, e.g. "ValueError"
    message: str  # numpy's own message, with the shapes in it


@dataclass(frozen=True)
class Step:
    """Everything about one step of the backward loop, in the course's names."""

    t: int  # forward time index
    position: int  # 0 for the first step the loop runs (t = T_x-1 in correct code)
    inputs: dict  # what the loop hands to the cell: da_t (= da[:,:,t]), da_prevt, da_next, ...
    outputs: dict  # what the cell computes: dz or the gate gradients, dxt, da_prev, dWax, ...
    totals: Mapping  # the loop's running totals after this step: dx, dWax, ... (read-only arrays)


class Totals(Mapping):
    """A step's running totals. dx is as large as the whole input, so it is built when first read, not before.

    Totals(lambda: dx_so_far, {"dWaa": dWaa})["dx"]  # dx_so_far, built now
    """

    def __init__(self, dx: Callable[[], np.ndarray], matrices: dict):
        self._dx = dx
        self._built = None
        self.matrices = matrices  # the weight and bias totals, already computed

    def __getitem__(self, key: str) -> np.ndarray:
        if key != "dx":
            return self.matrices[key]
        if self._built is None:
            self._built = self._dx()
        return self._built

    def __iter__(self) -> Iterator[str]:
        return iter(("dx", *self.matrices))

    def __len__(self) -> int:
        return 1 + len(self.matrices)


@dataclass(frozen=True)
class Divergence:
    """Where a run first departs from a reference run, in backward order."""

    t: int | None  # forward time index; None when only a final value differs
    quantity: str  # course name, e.g. "da_next"
    scope: str  # "input", "step", "total", "final", or "error" when the run raised there
    max_abs_error: float  # inf when the shapes differ or the run raised


def max_abs_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest absolute difference; inf when shapes differ or NaN/Inf sit in different places.

    max_abs_error(np.zeros(2), np.ones(2)) -> 1.0
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return float("inf")
    finite_a, finite_b = np.isfinite(a), np.isfinite(b)
    same_nonfinite = np.array_equal(a[~finite_a], b[~finite_b], equal_nan=True)
    if not np.array_equal(finite_a, finite_b) or not same_nonfinite:
        return float("inf")
    both = finite_a & finite_b
    return float(np.max(np.abs(a[both] - b[both]), initial=0.0))


def differs(a: np.ndarray, b: np.ndarray, rtol: float = 1e-7, atol: float = 1e-10) -> bool:
    """True when a departs from the reference b by more than rounding can explain."""
    error = max_abs_error(a, b)
    scale = float(np.max(np.abs(b), initial=0.0, where=np.isfinite(b))) if np.size(b) else 0.0
    return error > atol + rtol * scale


class Trace:
    """The part shared by the RNN and LSTM traces: stepping, running totals, comparison.

    A subclass provides `_step_vectors(k, near)` (inputs and outputs of the step at position
    k; near is the Step at position k - 1 or k + 1 when one is at hand, or None), and
    `_matrix_contributions(k0, k1)` (the weight and bias gradients that positions k0..k1-1
    add, summed, as one matmul over the stacked vectors). It may override `_own_contributions`
    when a step's vectors already hold what its share is made of.
    """

    cell: str  # "rnn" or "lstm"
    # checkpoints of the running totals: more make a rebuild sum fewer steps, and cost the backward a copy each
    checkpoint_count: int = N_CHECKPOINTS
    input_keys: tuple  # compared in scope "input"
    step_keys: tuple  # the cell's gradient keys, compared in scope "step"
    total_keys: tuple  # the loop's running totals, compared in scope "total"
    final_keys: tuple  # the backward's returned keys

    def __init__(self, da, cell_caches, dx, order, error, accumulate, da0, checkpoints=None):
        self.da = da  # (n_a, m, T_x) upstream gradient, the input
        self.cell_caches = cell_caches  # the forward's per-step caches, the input
        self.dx = dx  # (n_x, m, T_x), as returned by the backward
        self.order = tuple(order)  # forward time index of each step run, in the order run
        self.error = error  # StepError, or None when the loop ran to the end
        self.accumulate = accumulate  # False when the code overwrites the totals at each step
        self.da0 = da0  # (n_a, m)
        self.position = {t: k for k, t in enumerate(self.order)}
        # a backward that already summed its blocks hands its totals in instead of having them recomputed
        self._checkpoints = self._make_checkpoints() if checkpoints is None else checkpoints
        for _, totals in self._checkpoints:  # shared with every step that ends on one: nobody may write to them
            for total in (totals or {}).values():
                total.flags.writeable = False
        self._near = None  # (the Step built last, one-step moves since its totals were summed exactly)

    @property
    def T_x(self) -> int:
        return self.da.shape[2]

    @np.errstate(all="ignore")  # Inf and NaN are shown to the user, not raised
    def _make_checkpoints(self) -> list:
        """Running matrix totals after evenly spaced positions: (end_position, totals)."""
        if not self.accumulate or not self.order:
            return []
        ends = checkpoint_ends(len(self.order), self.checkpoint_count)
        checkpoints, running = [(0, None)], None
        for k0, k1 in zip((0,) + ends[:-1], ends):
            chunk = self._matrix_contributions(k0, k1)
            running = chunk if running is None else {key: running[key] + chunk[key] for key in chunk}
            checkpoints.append((int(k1), running))
        return checkpoints

    def _own_contributions(self, k: int, inputs: dict, outputs: dict) -> dict:
        """The weight and bias gradients that position k adds, given its vectors from _step_vectors."""
        return self._matrix_contributions(k, k + 1)

    def _matrix_totals(self, k: int, own: dict | None = None) -> dict:
        """Running weight and bias gradients after position k: the checkpoint before plus the steps since,
        or, when it is nearer, the checkpoint after minus the steps up to it (if that stays finite).
        own, if given, is position k's share, so that the steps since need not sum it again."""
        if not self.accumulate:
            return self._matrix_contributions(k, k + 1) if own is None else own
        end, base = max((c for c in self._checkpoints if c[0] <= k + 1), key=lambda c: c[0])
        if end == k + 1:
            return base
        later = [c for c in self._checkpoints if c[0] > k + 1]
        if later and later[0][0] - (k + 1) < k + 1 - end:
            after, totals = later[0]
            back = self._matrix_contributions(k + 1, after)
            moved = {key: totals[key] - back[key] for key in back}
            if all(np.isfinite(total.sum()) for total in moved.values()):  # as in _totals_near
                return moved
        if own is None:
            since = self._matrix_contributions(end, k + 1)
        elif k == end:
            since = own
        else:
            before = self._matrix_contributions(end, k)
            since = {key: before[key] + own[key] for key in own}
        return since if base is None else {key: base[key] + since[key] for key in since}

    def _totals_near(self, k: int, own: dict, near: "Step | None", moves: int) -> tuple:
        """Running totals after position k, and how many one-step moves they are from an exact sum.

        One step from `near`, they are near's totals plus this step's share (moving on) or minus
        near's share (moving back): one step's matmul instead of re-summing up to T_x/16 steps.
        """
        if not self.accumulate:
            return own, 0
        if near is not None and moves < MAX_MOVES and not any(end == k + 1 for end, _ in self._checkpoints):
            if near.position == k - 1:
                moved = {key: near.totals[key] + own[key] for key in own}
            else:
                moved = {key: near.totals[key] - near.outputs[key] for key in own}
            # a finite sum means every entry is finite, so no Inf or NaN went into the step: else sum exactly
            if all(np.isfinite(total.sum()) for total in moved.values()):
                return moved, moves + 1
        return self._matrix_totals(k, own), 0

    def _dx_after(self, k: int) -> np.ndarray:
        """dx as the loop holds it after position k: columns not yet reached are still zero."""
        done = np.zeros(self.T_x, dtype=bool)
        done[list(self.order[: k + 1])] = True
        return np.where(done, self.dx, 0.0)  # one pass, no zeros-then-scatter

    @np.errstate(all="ignore")
    def step(self, t: int) -> Step:
        """The step at forward time index t, with its running totals.

        trace.step(trace.T_x - 1).inputs["da_next"]  # the first thing the loop hands the cell
        """
        if t not in self.position:
            raise KeyError(f"step t={t} was not run (T_x={self.T_x}, error: {self.error})")
        k = self.position[t]
        near, moves = self._near or (None, 0)  # read once: another session's thread may replace it meanwhile
        if near is not None and near.position == k:
            return near
        if near is not None and abs(near.position - k) != 1:
            near, moves = None, 0
        inputs, outputs = self._step_vectors(k, near)
        own = self._own_contributions(k, inputs, outputs)
        outputs.update(own)
        matrices, moves = self._totals_near(k, own, near, moves)
        for array in (*own.values(), *matrices.values()):  # the next step's totals are derived from these
            array.flags.writeable = False
        step = Step(t, k, inputs, outputs, Totals(partial(self._dx_after, k), matrices))
        self._near = (step, moves)
        return step

    def steps(self) -> Iterator[Step]:
        """Every step, in the order the loop ran them, with running totals kept incrementally."""
        running, previous = None, None
        for k, t in enumerate(self.order):
            with np.errstate(all="ignore"):  # not around the yield: that would leak into the caller
                inputs, outputs = self._step_vectors(k, previous)
                contribution = self._own_contributions(k, inputs, outputs)
                outputs.update(contribution)
                if running is None or not self.accumulate:
                    running = contribution
                else:
                    running = {key: running[key] + contribution[key] for key in contribution}
            previous = Step(t, k, inputs, outputs, Totals(partial(self._dx_after, k), running))
            yield previous

    def gradients(self) -> dict:
        """What the backward returns, under the course's keys; raises if the loop raised."""
        if self.error is not None:
            raise ValueError(f"the backward raised at t={self.error.t}: {self.error.message}")
        last = len(self.order) - 1
        grads = {"dx": self.dx, "da0": self.da0, **self._matrix_totals(last)}
        return {key: grads[key] for key in self.final_keys}

    @np.errstate(all="ignore")
    def norms(self, key: str) -> np.ndarray:
        """Frobenius norm of an input or output vector at every t (NaN where the step was not run).

        trace.norms("da_prevt")  # (T_x,), the gradient carried into each step
        """
        values, previous = np.full(self.T_x, np.nan), None
        for k, t in enumerate(self.order):
            inputs, outputs = self._step_vectors(k, previous)
            values[t] = np.linalg.norm({**inputs, **outputs}[key])
            previous = Step(t, k, inputs, outputs, {})
        return values

    @property
    def nbytes(self) -> int:
        """Bytes this trace holds beyond its inputs (the forward caches and da): its per-step vectors,
        dx and da0, the checkpoints' totals, and the step shown last (its vectors, shares and totals).
        Never more than `nbytes_bound`."""
        stored = [self.dx, self.da0, *self._stored_vectors()]
        stored += [m for _, totals in self._checkpoints if totals for m in totals.values()]
        if self._near is not None:
            near, kept = self._near[0], {id(a) for a in stored}
            shown = [*near.inputs.values(), *near.outputs.values(), *near.totals.matrices.values()]
            stored += [a for a in shown if a.base is None and id(a) not in kept]  # views cost nothing more
        return int(sum(a.nbytes for a in stored))

    @property
    def nbytes_bound(self) -> int:
        """What nbytes may reach: 8·[(v·n_a + n_x)·m·T_x + n_a·m + (N + 2)·P + S] bytes.

        v: the (n_a, m) vectors stored per step (RNN: dz, 1; LSTM: da_prevt and dc_prevt, 2);
        n_x·m·T_x: dx; n_a·m: da0; N: checkpoint_count (RNN 4, LSTM and GRU 8); P: the weight and
        bias entries, one set per checkpoint plus the shown step's share and totals
        (RNN: n_a² + n_a·n_x + n_a; LSTM: 4·(n_a² + n_a·n_x + n_a));
        S: the shown step's vectors (RNN: 3·n_a·m; LSTM: 8·n_a·m + n_x·m).
        """
        n_a, m, T_x = self.da.shape
        n_x = self.dx.shape[0]
        v, P, S = self._memory_terms(n_x, n_a, m)
        return 8 * ((v * n_a + n_x) * m * T_x + n_a * m + (self.checkpoint_count + 2) * P + S)

    def first_divergence(self, reference: "Trace") -> Divergence | None:
        """The earliest place, in backward order, where this run departs from `reference`.

        buggy.first_divergence(correct)  # Divergence(t=3, quantity='da_next', scope='input', ...)
        """
        mine = self.steps() if self.order[: len(reference.order)] == reference.order[: len(self.order)] else None
        for ref_step in reference.steps():
            t = ref_step.t
            if t not in self.position:
                error = self.error
                return Divergence(error.t, error.quantity, "error", float("inf")) if error else None
            step = next(mine) if mine is not None else self.step(t)
            for scope, keys, got, want in (
                ("input", self.input_keys, step.inputs, ref_step.inputs),
                ("step", self.step_keys, step.outputs, ref_step.outputs),
                ("total", self.total_keys, step.totals, ref_step.totals),
            ):
                for key in keys:
                    if differs(got[key], want[key]):
                        return Divergence(t, key, scope, max_abs_error(got[key], want[key]))
        if self.error is not None:
            return Divergence(self.error.t, self.error.quantity, "error", float("inf"))
        if reference.error is not None:
            return None
        got, want = self.gradients(), reference.gradients()
        for key in self.final_keys:
            if differs(got[key], want[key]):
                return Divergence(None, key, "final", max_abs_error(got[key], want[key]))
        return None


def checkpoint_ends(positions: int, count: int = N_CHECKPOINTS) -> tuple:
    """After which numbers of steps run a trace keeps its running totals: `count` evenly spaced, the last one included.

    checkpoint_ends(100) -> (12, 25, 37, 50, 62, 75, 87, 100)
    """
    # sorted(set(...)), not np.unique: that imports numpy.ma, a quarter of a second on an uncompiled cold start
    return tuple(sorted({int(k) for k in np.linspace(0, positions, count + 1).astype(int)})[1:])


def checkpoints_on_blocks(T_x: int, m: int, keys: tuple, count: int = N_CHECKPOINTS) -> tuple:
    """For a blocked backward: its block bounds, the splits where it hands over running totals,
    the checkpoint list it fills, and the on_block that fills it.

    The checkpoints are the `count` evenly spaced ones a trace would take, so that a step is never
    more than T_x/count steps from one, which is what keeps a rebuild of any step within a few
    milliseconds. The blocks stay as wide as the fast backward's: only the products that sum the
    totals are cut at a checkpoint.
    bounds, splits, checkpoints, keep = checkpoints_on_blocks(T_x, m, ("dWax", "dWaa", "dba"), 4)
    """
    ends = checkpoint_ends(T_x, count)
    checkpoints = [(0, None)]
    store = []  # one buffer for them all, made at the first: large enough for buffers.empty to recycle it

    def keep(t0: int, totals: dict) -> None:
        if T_x - t0 not in ends:
            return
        if not store:
            store.append(empty((len(ends), sum(totals[key].size for key in keys))))
        row, kept = store[0][len(checkpoints) - 1], {}
        for key in keys:
            kept[key], row = row[: totals[key].size].reshape(totals[key].shape), row[totals[key].size:]
            np.copyto(kept[key], totals[key])
        checkpoints.append((T_x - t0, kept))

    return block_bounds(T_x, m), tuple(T_x - end for end in ends), checkpoints, keep


def stack(arrays: list) -> np.ndarray:
    """Side by side along the batch axis: k arrays (n, m) -> (n, k·m), so one matmul sums k steps.

    One array is handed back uncopied (a step view sums one step), read-only since it is the trace's own.
    """
    if len(arrays) == 1:
        alone = arrays[0].view()
        alone.flags.writeable = False
        return alone
    return np.concatenate(arrays, axis=1)


def scaled(factor: float, carried: np.ndarray) -> np.ndarray:
    """A carried gradient times its carry factor; the array itself when the factor is 1 (full BPTT).

    A cut gives exact zeros, as detaching does, even where the carried gradient overflowed (0 * Inf is NaN).
    scaled(0.0, da_prevt)  # zeros: truncation cut the gradient here
    """
    if factor == 0.0:
        return np.zeros_like(carried)
    return carried if factor == 1.0 else factor * carried


def carry_array(carry: Callable, T_x: int) -> np.ndarray | None:
    """A code's carry factors at t = 0 .. T_x-1 for a fast kernel, or None when every one is 1 (full BPTT).

    carry_array(lambda t: 1.0, 4) -> None
    """
    factors = np.array([carry(t) for t in range(T_x)], dtype=float)  # (T_x,)
    return None if np.all(factors == 1.0) else factors
