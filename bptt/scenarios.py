"""Seeded, reproducible inputs for a run, each scenario under a stable id used in URLs."""

from dataclasses import dataclass, replace

import numpy as np

from .activations import softmax
from .truncation import truncation_problem


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run; the app's URL holds exactly these fields."""

    cell: str = "rnn"  # "rnn", "lstm" or "gru"
    scenario: str = "course"  # a key of SCENARIOS
    seed: int = 1  # numpy seed for every random draw
    n_x: int = 3  # input size
    n_a: int = 5  # hidden size
    m: int = 10  # batch size
    T_x: int = 4  # sequence length the backward runs over
    scale: float = 1.0  # weight scale; for vanishing/exploding, the spectral radius of Waa
    bug: str | None = None  # a catalog id, or None for the correct code
    truncate: int = 0  # 0: full BPTT; k ≥ 1: the carried gradient is cut every k steps (bptt/truncation.py)
    randomized: bool = False  # randomized truncation with mean length `truncate`, unbiased, its draws from `seed`


CELLS = ("rnn", "lstm", "gru")

# Big enough for every benchmark size the app is measured at (n_a = 256, T_x = 200), small enough that one
# visitor's largest run (an LSTM: about 0.3 GB and seconds of CPU) cannot starve a shared classroom server.
LIMITS = {"n_x": (1, 128), "n_a": (1, 256), "m": (1, 64), "T_x": (1, 200), "seed": (0, 2**31 - 1)}
SCALE_LIMITS = (0.0, 10.0)


@dataclass(frozen=True)
class Scenario:
    """A named starting point: a short description, its default sizes, and whether they are fixed."""

    id: str
    title: str
    description: str
    defaults: RunConfig  # the sizes, seed and scale it opens with
    fixed: bool = False  # True when sizes and seed cannot change (the course's own example)


SCENARIOS = {
    s.id: s
    for s in (
        Scenario(
            "course",
            "The course's example",
            "np.random.seed(1) and the notebook's own draws, so every number matches what the notebook prints.",
            RunConfig(),
            fixed=True,
        ),
        Scenario(
            "classroom",
            "Classroom",
            "Small enough to read every number: 2 inputs, 3 hidden units, 2 examples, 5 steps.",
            RunConfig(scenario="classroom", seed=0, n_x=2, n_a=3, m=2, T_x=5),
        ),
        Scenario(
            "vanishing",
            "Vanishing gradients",
            "A loss at the last step only, and Waa with spectral radius 0.5: the gradient shrinks at every step back.",
            RunConfig(scenario="vanishing", seed=0, n_x=2, n_a=8, m=4, T_x=25, scale=0.5),
        ),
        Scenario(
            "exploding",
            "Exploding gradients",
            "A loss at the last step only, tiny inputs that keep tanh in its linear range, and Waa with spectral "
            "radius 1.5: the gradient grows as it flows back. (The GRU's Waa is Wh's block on a_prev, and its "
            "update gate, which keeps most of a_prev, holds the growth back.)",
            RunConfig(scenario="exploding", seed=0, n_x=2, n_a=8, m=4, T_x=25, scale=1.5),
        ),
        Scenario(
            "echo",
            "Echo task (real loss)",
            "Predict the previous input symbol. da comes from a softmax cross-entropy loss through the output "
            "weights, as in training.",
            RunConfig(scenario="echo", seed=0, n_x=4, n_a=6, m=8, T_x=8),
        ),
    )
}


@dataclass(frozen=True)
class Inputs:
    """What a run starts from, in the course's shapes."""

    x: np.ndarray  # (n_x, m, T) with T ≥ T_x (the course's LSTM example has T = 7, T_x = 4)
    a0: np.ndarray  # (n_a, m)
    parameters: dict  # the course's parameter names for the cell
    da: np.ndarray | None  # (n_a, m, T_x); None when it comes from a loss on the forward's output
    labels: np.ndarray | None = None  # (m, T_x) class indices, for scenarios with a real loss


def validate(config: RunConfig) -> RunConfig:
    """The config with scenario-fixed fields applied; raises ValueError saying what is wrong.

    validate(RunConfig(T_x=0))  # ValueError: T_x = 0 is out of range: use a whole number from 1 to 200
    """
    if config.cell not in CELLS:
        raise ValueError(f"cell = {config.cell!r} is not known: use 'rnn', 'lstm' or 'gru'")
    if config.scenario not in SCENARIOS:
        raise ValueError(f"scenario = {config.scenario!r} is not known: use one of {', '.join(SCENARIOS)}")
    scenario = SCENARIOS[config.scenario]
    if scenario.fixed:
        d = scenario.defaults
        config = replace(config, seed=d.seed, n_x=d.n_x, n_a=d.n_a, m=d.m, T_x=d.T_x, scale=d.scale)
    for name, (low, high) in LIMITS.items():
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
            raise ValueError(f"{name} = {value!r} is out of range: use a whole number from {low} to {high}")
    low, high = SCALE_LIMITS
    if isinstance(config.scale, bool) or not (isinstance(config.scale, (int, float)) and low < config.scale <= high):
        raise ValueError(f"scale = {config.scale!r} is out of range: use a number above {low} and at most {high}")
    problem = truncation_problem(config.truncate, config.randomized, config.T_x)
    if problem:
        raise ValueError(problem)
    return config


def make_inputs(config: RunConfig) -> Inputs:
    """The scenario's inputs, drawn from np.random.seed(config.seed) in a fixed order.

    make_inputs(RunConfig()).da.shape -> (5, 10, 4)
    """
    config = validate(config)
    if config.scenario == "course":
        return {"rnn": _course_rnn, "lstm": _course_lstm, "gru": _course_gru}[config.cell]()
    rng = np.random.RandomState(config.seed)
    n_x, n_a, m, T_x = config.n_x, config.n_a, config.m, config.T_x
    if config.scenario == "echo":
        return _echo(rng, config)
    parameters = _random_parameters(rng, config.cell, n_x, n_a, n_y=2, scale=config.scale)
    if config.scenario in ("vanishing", "exploding"):
        parameters[_recurrent_name(config.cell)] = _with_radius(rng, n_a, config.scale, parameters, config.cell)
        for name in ("ba", "bf", "bi", "bc", "bo", "br", "bz", "bh"):
            if name in parameters:
                parameters[name] = np.zeros((n_a, 1))  # no bias to push the states into saturation
        if config.cell == "lstm":
            parameters["bf"] += 2.0  # the usual forget-gate bias: the cell state remembers by default
        if config.cell == "gru":
            parameters["bz"] += 2.0  # the GRU's counterpart: zt near 0.88, a_next keeps most of a_prev
        # tanh is linear near 0: tiny inputs keep the states there, so the backward is ~ a product of Waa.T
        x = rng.randn(n_x, m, T_x) * (1e-5 if config.scenario == "exploding" else 1.0)
        da = np.zeros((n_a, m, T_x))
        da[:, :, -1] = rng.randn(n_a, m)  # one loss at the end, so the norm over t shows pure propagation
        return Inputs(x, np.zeros((n_a, m)), parameters, da)
    x = rng.randn(n_x, m, T_x)
    a0 = rng.randn(n_a, m)
    return Inputs(x, a0, parameters, rng.randn(n_a, m, T_x))


def _course_rnn() -> Inputs:
    np.random.seed(1)  # the notebook's own seeding, on purpose: students compare these exact draws
    x = np.random.randn(3, 10, 4)
    a0 = np.random.randn(5, 10)
    parameters = {}
    parameters["Wax"] = np.random.randn(5, 3)
    parameters["Waa"] = np.random.randn(5, 5)
    parameters["Wya"] = np.random.randn(2, 5)
    parameters["ba"] = np.random.randn(5, 1)
    parameters["by"] = np.random.randn(2, 1)
    da = np.random.randn(5, 10, 4)
    return Inputs(x, a0, parameters, da)


def _course_lstm() -> Inputs:
    np.random.seed(1)
    x = np.random.randn(3, 10, 7)
    a0 = np.random.randn(5, 10)
    parameters = {}
    for gate in ("f", "i", "o", "c"):  # the notebook draws them in this order
        parameters["W" + gate] = np.random.randn(5, 5 + 3)
        parameters["b" + gate] = np.random.randn(5, 1)
    parameters["Wy"] = np.zeros((2, 5))
    parameters["by"] = np.zeros((2, 1))
    da = np.random.randn(5, 10, 4)
    return Inputs(x, a0, parameters, da)


def _course_gru() -> Inputs:
    """The course has no GRU example: the RNN example's seeding and sizes, the gates drawn as the LSTM's are."""
    np.random.seed(1)
    x = np.random.randn(3, 10, 4)
    a0 = np.random.randn(5, 10)
    parameters = {}
    for gate in ("r", "z", "h"):
        parameters["W" + gate] = np.random.randn(5, 5 + 3)
        parameters["b" + gate] = np.random.randn(5, 1)
    parameters["Wy"] = np.random.randn(2, 5)
    parameters["by"] = np.random.randn(2, 1)
    da = np.random.randn(5, 10, 4)
    return Inputs(x, a0, parameters, da)


def _random_parameters(rng, cell: str, n_x: int, n_a: int, n_y: int, scale: float) -> dict:
    """Weights scaled by 1/sqrt(fan_in), so `scale` = 1 keeps activations away from saturation."""
    if cell == "rnn":
        return {
            "Wax": rng.randn(n_a, n_x) * scale / np.sqrt(n_x),
            "Waa": rng.randn(n_a, n_a) * scale / np.sqrt(n_a),
            "Wya": rng.randn(n_y, n_a) / np.sqrt(n_a),
            "ba": rng.randn(n_a, 1) * 0.1,
            "by": rng.randn(n_y, 1) * 0.1,
        }
    parameters = {}
    for gate in ("f", "i", "c", "o") if cell == "lstm" else ("r", "z", "h"):
        parameters["W" + gate] = rng.randn(n_a, n_a + n_x) * scale / np.sqrt(n_a + n_x)
        parameters["b" + gate] = rng.randn(n_a, 1) * 0.1
    parameters["Wy"] = rng.randn(n_y, n_a) / np.sqrt(n_a)
    parameters["by"] = rng.randn(n_y, 1) * 0.1
    return parameters


def _recurrent_name(cell: str) -> str:
    return {"rnn": "Waa", "lstm": "Wf", "gru": "Wh"}[cell]


def _with_radius(rng, n_a: int, radius: float, parameters: dict, cell: str) -> np.ndarray:
    """A random recurrent matrix rescaled to spectral radius `radius`.

    For the LSTM the forget gate's recurrent block is rescaled, the closest analogue of Waa. For the
    GRU it is the candidate's block on a_prev, Wh[:, :n_a]: with the update gate shut (zt = 0) and
    the reset open (rt = 1), a_next = tanh(Wh[:, :n_a]·a_prev + Wh[:, n_a:]·xt + bh) is the RNN's
    step with Waa = Wh[:, :n_a], and every other path from a_prev goes through a gate.
    """
    W = rng.randn(n_a, n_a)
    W = W * radius / np.max(np.abs(np.linalg.eigvals(W)))
    if cell == "rnn":
        return W
    name = _recurrent_name(cell)
    gated = parameters[name].copy()
    gated[:, :n_a] = W
    return gated


def _echo(rng, config: RunConfig) -> Inputs:
    """One-hot symbols; the target at t is the symbol at t-1 (at t = 0, the symbol itself)."""
    n_x, n_a, m, T_x = config.n_x, config.n_a, config.m, config.T_x
    symbols = rng.randint(0, n_x, size=(m, T_x))
    x = np.zeros((n_x, m, T_x))
    x[symbols, np.arange(m)[:, None], np.arange(T_x)[None, :]] = 1.0
    labels = np.concatenate([symbols[:, :1], symbols[:, :-1]], axis=1)  # (m, T_x)
    parameters = _random_parameters(rng, config.cell, n_x, n_a, n_y=n_x, scale=config.scale)
    return Inputs(x, np.zeros((n_a, m)), parameters, None, labels)


def cross_entropy_da(a: np.ndarray, Wy: np.ndarray, by: np.ndarray, labels: np.ndarray) -> tuple:
    """Mean softmax cross-entropy over the batch, summed over time, and its gradient at every a<t>.

    loss, da = cross_entropy_da(a, Wya, by, labels)  # da (n_a, m, T_x)
    """
    n_a, m, T_x = a.shape
    z = np.einsum("ya,amt->ymt", Wy, a) + by[:, :, None]  # (n_y, m, T_x)
    y_hat = softmax(z.reshape(z.shape[0], -1)).reshape(z.shape)
    picked = y_hat[labels, np.arange(m)[:, None], np.arange(T_x)[None, :]]  # (m, T_x)
    loss = -np.log(picked).sum() / m
    dz = y_hat.copy()
    dz[labels, np.arange(m)[:, None], np.arange(T_x)[None, :]] -= 1.0
    da = np.einsum("ya,ymt->amt", Wy, dz / m)  # the softmax-CE gradient, through the output weights
    return loss, da
