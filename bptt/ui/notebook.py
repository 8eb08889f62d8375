"""The lines the course notebook prints after its backward test, computed from a run.

Students put these next to their own notebook's output: same keys, same indices, numpy's printing.

    notebook_lines("rnn", run(RunConfig()).trace.gradients())[0]
    # 'gradients["dx"][1][2] = [-2.07101689 -0.59255627  0.02466855  0.01483317]'
"""

import numpy as np

PRINTS = {
    "rnn": (("dx", (1, 2)), ("da0", (2, 3)), ("dWax", (3, 1)), ("dWaa", (1, 2)), ("dba", (4,))),
    "lstm": (
        ("dx", (1, 2)), ("da0", (2, 3)), ("dWf", (3, 1)), ("dWi", (1, 2)), ("dWc", (3, 1)), ("dWo", (1, 2)),
        ("dbf", (4,)), ("dbi", (4,)), ("dbc", (4,)), ("dbo", (4,)),
    ),
    # the course has no GRU notebook: the same kind of check values, laid out as the LSTM's
    "gru": (
        ("dx", (1, 2)), ("da0", (2, 3)), ("dWr", (3, 1)), ("dWz", (1, 2)), ("dWh", (3, 1)),
        ("dbr", (4,)), ("dbz", (4,)), ("dbh", (4,)),
    ),
}


def notebook_lines(cell: str, gradients: dict) -> list:
    """`gradients["key"][i][j] = value` and `gradients["key"].shape = shape`, in the notebook's order."""
    lines = []
    for key, index in PRINTS[cell]:
        value = gradients[key]
        for i in index:
            value = value[i]
        subscript = "".join(f"[{i}]" for i in index)
        lines.append(f'gradients["{key}"]{subscript} = {value}')
        lines.append(f'gradients["{key}"].shape = {np.shape(gradients[key])}')
    return lines
