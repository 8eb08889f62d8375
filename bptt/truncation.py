"""Truncated BPTT: which carried gradients are cut, the bias that costs, and where it stops an explosion.

A truncation is a factor on the gradient(s) the backward loop carries into each step t, a code's
`carry` (variants.py). Regular truncation with k (d2l's detaching every k steps) splits the
sequence into chunks [0, k), [k, 2k), ... and cuts the link into the last step of each chunk but
the last one, the gradient that would flow from step k·j back into step k·j - 1. Randomized
truncation (Tallec & Ollivier; d2l's "randomized truncation") cuts each link on its own with
probability 1/k, so chunks are k steps long on average, and scales each kept link by 1/p, p = 1 - 1/k
the probability of keeping it: every path of length L back survives with probability p^L and is
scaled by p^-L, so the gradient is unbiased. Everything here is a pure function of arrays or traces.
"""

from dataclasses import dataclass, replace

import numpy as np

from .trace import Trace

CARRIED = {"rnn": ("da_prevt",), "lstm": ("da_prevt", "dc_prevt"), "gru": ("da_prevt",)}  # what a cell's loop carries
# the weight gradients whose first n_a columns act on a_prev (all of dWaa's), the recurrent weights of each cell
RECURRENT = {"rnn": ("dWaa",), "lstm": ("dWf", "dWi", "dWc", "dWo"), "gru": ("dWr", "dWz", "dWh")}
ROUNDING = 1e-9  # relative: a norm larger by less than this is the same norm


@dataclass(frozen=True)
class CarryFactors:
    """A code's `carry` from fixed factors: factors[t] multiplies what the loop carries into step t.

    Compared and hashed by value, so two runs with the same truncation run equal codes.
    replace(RNNCode(), carry=CarryFactors((1.0, 0.0, 1.0)))  # cuts the gradient carried into step 1
    """

    factors: tuple  # (T_x,) floats

    def __call__(self, t: int) -> float:
        return self.factors[t]


def truncation_problem(truncate: int, randomized: bool, T_x: int) -> str | None:
    """What is wrong with a truncation setting, said so that the user can fix it; None when it is fine.

    truncation_problem(0, True, 4)  # "randomized = True needs a mean chunk length (truncate) of at least 2 ..."
    """
    if isinstance(truncate, bool) or not isinstance(truncate, (int, np.integer)) or not 0 <= truncate <= T_x:
        return (
            f"truncate = {truncate!r} is out of range: use 0 for full BPTT or a whole number of steps "
            f"from 1 to T_x = {T_x}"
        )
    if not isinstance(randomized, (bool, np.bool_)):
        return f"randomized = {randomized!r} is not a yes/no value: use True or False"
    if randomized and truncate < 2:
        return (
            f"randomized = True needs a mean chunk length (truncate) of at least 2 steps, not {truncate}: 0 is full "
            "BPTT, and with 1 every link is cut and none is left to rescale. Use truncate = 2 or more, or "
            "randomized = False"
        )
    return None


def carry_factors(T_x: int, truncate: int, randomized: bool = False, seed: int = 0) -> np.ndarray:
    """The factor on the gradient carried into each step t = 0 .. T_x-1 (nothing is carried into T_x-1: it stays 1).

    truncate = 0 is full BPTT (all ones); randomized draws come from `seed` alone, on their own
    generator, so the same run always cuts the same links and the run's inputs are drawn as before.
    carry_factors(6, 2) -> array([1., 0., 1., 0., 1., 1.])
    """
    problem = truncation_problem(truncate, randomized, T_x)
    if problem:
        raise ValueError(problem)
    factors = np.ones(T_x)  # (T_x,)
    if truncate == 0:
        return factors
    if randomized:
        keep = 1.0 - 1.0 / truncate
        kept = np.random.default_rng(seed).random(T_x) < keep  # (T_x,)
        factors = np.where(kept, 1.0 / keep, 0.0)
    else:
        starts = np.arange(truncate, T_x, truncate)  # the chunks' first steps after the first chunk
        factors[starts - 1] = 0.0  # the gradient from a chunk's first step into the chunk before is detached
    factors[T_x - 1] = 1.0
    return factors


def truncated(code, factors: np.ndarray):
    """`code` with its carried gradients multiplied by `factors`; the code itself when every factor is 1.

    trace_rnn(da, caches, truncated(RNNCode(), carry_factors(T_x, 3)))  # truncated BPTT with k = 3
    """
    if np.all(np.asarray(factors) == 1.0):
        return code
    return replace(code, carry=CarryFactors(tuple(float(f) for f in factors)))


def cut_steps(factors: np.ndarray) -> tuple:
    """The steps t whose carried gradient is cut (factor 0), latest first as the backward meets them.

    cut_steps(carry_factors(6, 2)) -> (3, 1)
    """
    return tuple(int(t) for t in np.flatnonzero(np.asarray(factors)[:-1] == 0.0)[::-1])


def carried_norms(trace: Trace) -> np.ndarray:
    """Norm of everything the loop carried into each step, after any cut (NaN where the step did not run).

    For the LSTM it is da_prevt and dc_prevt together: sqrt(|da_prevt|² + |dc_prevt|²).
    carried_norms(trace)  # (T_x,), 0 at T_x-1 and wherever truncation cut
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return np.sqrt(sum(trace.norms(key) ** 2 for key in CARRIED[trace.cell]))


def relative_errors(truncated_trace: Trace, full: Trace) -> dict:
    """|g_truncated - g_full| / |g_full| (Frobenius) for every gradient the backward returns, measured on both runs.

    0.0 where both are zero; inf where only the full one is zero.
    relative_errors(run_k3.trace, run_full.trace)["dWaa"]  # e.g. 0.18
    """
    got, want = truncated_trace.gradients(), full.gradients()
    return {key: _relative(got[key], want[key]) for key in want}


def recurrent_bias(truncated_trace: Trace, full: Trace) -> float:
    """The relative error truncation makes in the recurrent weights' gradient: dWaa for the RNN; for the LSTM
    and the GRU the columns of every gate's weights that see a_prev, stacked ([:, :n_a] of dWf, dWi, dWc, dWo).

    recurrent_bias(run_k3.trace, run_full.trace)  # e.g. 0.18: dWaa is 18% off full BPTT
    """
    n_a = full.da.shape[0]
    got, want = truncated_trace.gradients(), full.gradients()
    keys = RECURRENT[full.cell]
    return _relative(np.stack([got[key][:, :n_a] for key in keys]), np.stack([want[key][:, :n_a] for key in keys]))


def explosion_stopped(truncated_trace: Trace, full: Trace) -> tuple:
    """The steps where truncation stops an explosion: the full run's carried gradient has grown past the largest
    one the truncated run carries at any step. Latest first, as the backward meets them.

    In a run whose gradient vanishes there are none: the full run only shrinks from where both start.
    explosion_stopped(run_k5.trace, run_full.trace)  # exploding scenario: (19, 18, ..., 0)
    """
    full_norms, ceiling = carried_norms(full), np.nanmax(carried_norms(truncated_trace), initial=0.0)
    with np.errstate(invalid="ignore"):
        grown = full_norms > ceiling * (1 + ROUNDING)  # NaN (a step not run) is never grown
    return tuple(int(t) for t in full.order if grown[t])


@dataclass(frozen=True)
class Comparison:
    """A truncated run against full BPTT on the same inputs: what was cut, what it cost, what it saved."""

    factors: np.ndarray  # (T_x,) the factor on what was carried into each step
    cut: tuple  # steps whose carried gradient was cut, latest first
    recurrent_bias: float  # relative error of the recurrent weights' gradient (dWaa)
    relative_errors: dict  # the same for every returned gradient
    stopped: tuple  # steps where the full run's carried gradient grew past anything the truncated one carried
    truncated_norms: np.ndarray  # (T_x,) carried_norms of the truncated run
    full_norms: np.ndarray  # (T_x,) and of full BPTT


def compare(truncated_trace: Trace, full: Trace) -> Comparison:
    """Everything the pages show about a truncation, from the truncated run's trace and full BPTT's on the same inputs.

    compare(run(replace(config, truncate=3)).trace, run(replace(config, truncate=0)).trace).recurrent_bias
    """
    factors = np.array([truncated_trace.code.carry(t) for t in range(truncated_trace.T_x)], dtype=float)  # (T_x,)
    return Comparison(
        factors=factors,
        cut=cut_steps(factors),
        recurrent_bias=recurrent_bias(truncated_trace, full),
        relative_errors=relative_errors(truncated_trace, full),
        stopped=explosion_stopped(truncated_trace, full),
        truncated_norms=carried_norms(truncated_trace),
        full_norms=carried_norms(full),
    )


def _relative(got: np.ndarray, want: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        error, scale = np.linalg.norm(got - want), np.linalg.norm(want)
        if scale == 0.0:
            return 0.0 if error == 0.0 else float("inf")
        return float(error / scale)
