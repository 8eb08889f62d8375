"""The inputs a submission is run on: the course's own example, then shapes chosen to expose bugs.

Non-square sizes (n_x ≠ n_a ≠ m) make a missing transpose raise or show; m = 1 catches code
that squeezes the batch axis away; a longer sequence catches off-by-one loops and carried
gradients that are dropped after a few steps. One more probe is drawn fresh for every check
from a seed the parent picks (`fresh_probe`), so no table of fixed outputs can pass.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..scenarios import RunConfig, make_inputs

PROBE_SIZES = (  # (name, n_x, n_a, m, T_x); the course example comes first
    ("non-square", 4, 3, 2, 5),
    ("m = 1", 3, 5, 1, 4),
    ("long sequence", 2, 3, 3, 10),
)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: probes are made once and cached
class Probe:
    """One input to run the student's functions on, in the course's shapes."""

    name: str  # "course example", "non-square", ...
    cell: str  # "rnn" or "lstm"
    x: np.ndarray  # (n_x, m, T); T ≥ T_x (the course's LSTM example has 7 steps and T_x = 4)
    a0: np.ndarray  # (n_a, m)
    parameters: dict  # the course's parameter names
    da: np.ndarray  # (n_a, m, T_x) upstream gradient
    dc: np.ndarray  # (n_a, m, T_x) a second gradient, handed to lstm_cell_backward as dc_next when tested alone

    @property
    def T_x(self) -> int:
        return self.da.shape[2]

    @property
    def m(self) -> int:
        return self.da.shape[1]

    @property
    def sizes(self) -> str:
        n_a, m, T_x = self.da.shape
        return f"n_x={self.x.shape[0]}, n_a={n_a}, m={m}, T_x={T_x}"

    def arrays(self, prefix: str) -> dict:
        """Flat name -> array, for an .npz file the child reads without pickles."""
        out = {f"{prefix}x": self.x, f"{prefix}a0": self.a0, f"{prefix}da": self.da, f"{prefix}dc": self.dc}
        out.update({f"{prefix}p.{name}": value for name, value in self.parameters.items()})
        return out


FRESH_SIZES = (3, 4, 2, 6)  # n_x, n_a, m, T_x of the probe drawn fresh for every check


def fresh_probe(cell: str, seed: int) -> Probe:
    """A probe whose values no submission can know in advance: drawn from `seed`, chosen by the parent per check.

    fresh_probe("rnn", secrets.randbelow(2**31)).name -> 'drawn for this check'
    """
    n_x, n_a, m, T_x = FRESH_SIZES
    inputs = make_inputs(RunConfig(cell=cell, scenario="classroom", seed=seed, n_x=n_x, n_a=n_a, m=m, T_x=T_x))
    dc = np.random.RandomState(seed ^ 0x5EED).randn(n_a, m, T_x)  # (n_a, m, T_x)
    return Probe("drawn for this check", cell, inputs.x, inputs.a0, inputs.parameters, inputs.da, dc)


@lru_cache(maxsize=2)
def probes_for(cell: str) -> tuple:
    """The probes of one cell type, the course's example first.

    [p.name for p in probes_for("rnn")] -> ['course example', 'non-square', 'm = 1', 'long sequence']
    """
    course = make_inputs(RunConfig(cell=cell))
    rng = np.random.RandomState(7)
    probes = [Probe("course example", cell, course.x, course.a0, course.parameters, course.da,
                    rng.randn(*course.da.shape))]
    for seed, (name, n_x, n_a, m, T_x) in enumerate(PROBE_SIZES, start=1):
        inputs = make_inputs(RunConfig(cell=cell, scenario="classroom", seed=seed, n_x=n_x, n_a=n_a, m=m, T_x=T_x))
        probes.append(Probe(name, cell, inputs.x, inputs.a0, inputs.parameters, inputs.da, rng.randn(n_a, m, T_x)))
    return tuple(probes)
