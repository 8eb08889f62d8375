"""Random inputs in the course's shapes, for tests that sweep sizes."""

import numpy as np


def random_case(cell: str, n_x: int, n_a: int, m: int, T_x: int, seed: int = 0) -> tuple:
    """(x, a0, parameters, da) with weights small enough to keep tanh and sigmoid out of saturation."""
    rng = np.random.RandomState(seed)
    x = rng.randn(n_x, m, T_x)
    a0 = rng.randn(n_a, m) * 0.5
    if cell == "rnn":
        parameters = {
            "Wax": rng.randn(n_a, n_x) * 0.5, "Waa": rng.randn(n_a, n_a) * 0.5, "Wya": rng.randn(2, n_a),
            "ba": rng.randn(n_a, 1) * 0.1, "by": rng.randn(2, 1),
        }
    else:
        gates = "fico" if cell == "lstm" else "rzh"  # the GRU's reset, update and candidate
        parameters = {f"W{g}": rng.randn(n_a, n_a + n_x) * 0.5 for g in gates}
        parameters |= {f"b{g}": rng.randn(n_a, 1) * 0.1 for g in gates}
        parameters |= {"Wy": rng.randn(2, n_a), "by": rng.randn(2, 1)}
    return x, a0, parameters, rng.randn(n_a, m, T_x)
