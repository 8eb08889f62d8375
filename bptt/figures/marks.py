"""The current step on the timeline and the norm chart, as a small stylesheet over figures that stay put.

The stepper draws the timeline and the norm chart once per run (stepper_component/charts.js: every
cell grey, an invisible band at every t) and marks the step with CSS: the current cell orange, the
cells already stepped blue, the current cell's label shown, the band at t lit. Changing a few lines
of CSS costs the browser nothing next to drawing a chart again.

    html = step_marks(T_x=4, order=(3, 2, 1, 0), t=2)  # '<style>/* current_t: 2 */ …</style>'
"""

from .timeline import DONE, NOW

RUNNING = "bptt-running"  # the class of the code listing's line that says which step is running
# charts.js draws cell t as the (t+1)-th rect of .bptt-tl-cells, its label as the (t+1)-th text, the band likewise
CELLS = (".bptt-tl-cells rect", "")
LABELS = (".bptt-tl-labels text", "")
BANDS = (".bptt-norm-bands rect", "")


def _runs(indices: list) -> list:
    """[(first, last), ...] of consecutive integers: [4, 3, 2, 0] -> [(0, 0), (2, 4)]"""
    runs = []
    for i in sorted(indices):
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _nth(selector: tuple, first: int, last: int) -> str:
    """CSS for the points first..last (0-based) of a plotly trace; selector is (the points, inside each)."""
    points, inside = selector
    return f"{points}:nth-child(n+{first + 1}):nth-child(-n+{last + 1}){inside}"


def step_marks(T_x: int, order: tuple, t: int, error_t: int | None = None, label: str = "") -> str:
    """A <style> block marking step t: on the timeline (colours as timeline() gives them) and the norm band.

    order is the loop's order of forward time indices; the cell that raised (error_t) keeps its red.
    label ('Step 2 of 4 — t = 2') is written under the code listing's loop line (codepanel.listing).
    The first line names t (`/* current_t: 2 */`) so tests read what is marked.
    """
    position = {s: k for k, s in enumerate(order)}
    now = position.get(t, len(order))
    done = [s for s in range(T_x) if s in position and position[s] < now and s != error_t]
    rules = [f"{_nth(CELLS, a, b)} {{fill: {DONE} !important;}}" for a, b in _runs(done)]
    if t != error_t:
        rules.append(f"{_nth(CELLS, t, t)} {{fill: {NOW} !important;}}")
    rules.append(f"{_nth(LABELS, t, t)} {{visibility: visible !important; font-weight: 700;}}")
    rules.append(f"{_nth(BANDS, t, t)} {{opacity: 0.35 !important;}}")
    if label:
        quoted = label.replace("\\", "\\\\").replace('"', '\\"')
        rules.append(f'.{RUNNING}::after {{content: "# ← running now: {quoted}";}}')
    return f"<style>/* current_t: {t} */\n" + "\n".join(rules) + "\n</style>"
