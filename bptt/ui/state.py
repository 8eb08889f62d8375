"""The URL contract: query string <-> the stepper's state, with a plain message for every bad value.

    state, messages = parse({"bug": "missing-da-t", "t": "2"})
    link(state)  # './?cell=rnn&scenario=course&t=2&bug=missing-da-t'

Parameters: cell, scenario, seed, n_x, n_a, m, T_x, scale, bug, truncate, randomized (the run),
t (the step shown), notation=course|cs231n (whose names and shapes the page writes), present=1 (presenter layout), hide= and lock= (comma-separated control or panel names a teacher
hides or freezes), stepping=server (every step a server round trip, even for a classroom-sized run).
Pure python, no streamlit: the page reads st.query_params and hands them here.
"""

import math
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from ..catalog import BY_ID
from ..notation import NOTATIONS
from ..scenarios import CELLS, LIMITS, SCENARIOS, RunConfig, validate
from ..truncation import truncation_problem

SIZES = ("n_x", "n_a", "m", "T_x")
SCALE_RANGE = (0.001, 10.0)  # the sidebar's number input cannot go below 0.001
CONTROLS = ("cell", "scenario", "sizes", "seed", "scale", "bug", "truncate", "notation", "step", "play")
PANELS = ("timeline", "heatmaps", "code", "norms", "compare", "notebook", "export")
RUN_PARAMS = ("cell", "scenario", "seed", *SIZES, "scale", "bug", "truncate", "randomized")
KNOWN = (*RUN_PARAMS, "t", "notation", "present", "hide", "lock", "stepping")
STEPPING = ("browser", "server")  # where a click redraws: in the browser (classroom-sized runs) or on the server
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class PageState:
    """What the stepper shows: a run, a step, and how the page is laid out."""

    config: RunConfig = RunConfig()
    t: int | None = None  # forward time index shown; None: the first step the loop runs
    present: bool = False  # presenter layout: large fonts, no sidebar, figures full width
    hide: frozenset = field(default_factory=frozenset)  # control or panel names not drawn
    lock: frozenset = field(default_factory=frozenset)  # control names drawn but disabled
    stepping: str = "browser"  # "server": every step a round trip, as large runs always do
    notation: str = "course"  # "cs231n": the sibling homework's names, batch-first shapes and code

    def hidden(self, name: str) -> bool:
        return name in self.hide or (name in SIZES and "sizes" in self.hide)

    def locked(self, name: str) -> bool:
        return name in self.lock or (name in SIZES and "sizes" in self.lock)


@dataclass(frozen=True)
class Message:
    """One problem with the URL: which parameter, and what the page did about it."""

    param: str
    text: str


def _last(value) -> str:
    """st.query_params gives strings; a repeated parameter arrives as a list: the last one wins."""
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else ""
    return str(value)


def _whole(params: dict, name: str, default: int, low: int, high: int, messages: list) -> int:
    if name not in params:
        return default
    raw = _last(params[name]).strip()
    try:
        value = int(raw)
    except ValueError:
        messages.append(Message(name, f"{name}={raw!r} is not a whole number; using {name}={default}."))
        return default
    if not low <= value <= high:
        messages.append(Message(name, f"{name}={value} is out of range ({low} to {high}); using {name}={default}."))
        return default
    return value


def _scale(params: dict, default: float, messages: list) -> float:
    if "scale" not in params:
        return default
    raw = _last(params["scale"]).strip()
    low, high = SCALE_RANGE
    try:
        value = float(raw)
    except ValueError:
        messages.append(Message("scale", f"scale={raw!r} is not a number; using scale={default}."))
        return default
    if not (math.isfinite(value) and low <= value <= high):
        messages.append(Message("scale", f"scale={raw} is out of range ({low} to {high}); using scale={default}."))
        return default
    return value


def _names(params: dict, name: str, allowed: tuple, messages: list) -> frozenset:
    if name not in params:
        return frozenset()
    given = {n.strip() for n in _last(params[name]).split(",") if n.strip()}
    unknown = sorted(given - set(allowed))
    if unknown:
        messages.append(Message(
            name, f"{name}= names {', '.join(unknown)} are not known and were ignored; use any of {', '.join(allowed)}."
        ))
    return frozenset(given & set(allowed))


def parse(params: dict) -> tuple:
    """(PageState, [Message]) from query parameters; every bad value falls back to its default.

    parse({"cell": "tree"})[1][0].text  # "cell='tree' is not known: use rnn, lstm or gru; using cell=rnn."
    """
    messages = []
    for name in sorted(set(params) - set(KNOWN)):
        messages.append(Message(name, f"{name}= is not a parameter of this page and was ignored; "
                                      f"known ones: {', '.join(KNOWN)}."))
    cell = _last(params.get("cell", "rnn")).strip().lower()
    if cell not in CELLS:
        messages.append(Message("cell", f"cell={cell!r} is not known: use {', '.join(CELLS[:-1])} or {CELLS[-1]}; "
                                        "using cell=rnn."))
        cell = "rnn"
    scenario_id = _last(params.get("scenario", "course")).strip().lower()
    if scenario_id not in SCENARIOS:
        messages.append(Message("scenario", f"scenario={scenario_id!r} is not known: use one of "
                                            f"{', '.join(SCENARIOS)}; using scenario=course."))
        scenario_id = "course"
    scenario = SCENARIOS[scenario_id]
    d = scenario.defaults
    values = {}
    for name in ("seed", *SIZES):
        low, high = LIMITS[name]
        values[name] = _whole(params, name, getattr(d, name), low, high, messages)
    scale = _scale(params, d.scale, messages)
    if scenario.fixed:
        changed = [n for n in ("seed", *SIZES) if n in params and values[n] != getattr(d, n)]
        changed += ["scale"] if "scale" in params and scale != d.scale else []
        if changed:
            messages.append(Message(", ".join(changed), (
                f"The course's example fixes its sizes and seed to the notebook's (n_x=3, n_a=5, m=10, T_x=4, "
                f"np.random.seed(1)), so the URL's {', '.join(changed)} did not apply. "
                "Choose another scenario (e.g. scenario=classroom) to change them."
            )))
    bug = _bug(params, cell, messages)
    truncate, randomized = _truncation(params, d.T_x if scenario.fixed else values["T_x"], messages)
    config = validate(RunConfig(cell, scenario_id, values["seed"], *(values[n] for n in SIZES), scale, bug,
                                truncate=truncate, randomized=randomized))
    t = _t(params, config.T_x, messages)
    present = _flag(params, "present", messages)
    hide = _names(params, "hide", CONTROLS + PANELS, messages)
    lock = _names(params, "lock", CONTROLS, messages)
    stepping = _last(params.get("stepping", "browser")).strip().lower()
    if stepping not in STEPPING:
        messages.append(Message("stepping", f"stepping={stepping!r} is not understood: use stepping=browser or "
                                            "stepping=server; using stepping=browser."))
        stepping = "browser"
    notation = _last(params.get("notation", "course")).strip().lower()
    if notation not in NOTATIONS:
        messages.append(Message("notation", f"notation={notation!r} is not known: use notation=course (the "
                                            "course's names) or notation=cs231n (CS231n's rnn_layers.py); "
                                            "using notation=course."))
        notation = "course"
    return PageState(config, t, present, hide, lock, stepping, notation), messages


def _truncation(params: dict, T_x: int, messages: list) -> tuple:
    """(truncate, randomized): full BPTT (0, False) unless the URL asks for a truncation this run can have."""
    truncate = _whole(params, "truncate", 0, 0, T_x, messages)
    randomized = _flag(params, "randomized", messages)
    problem = truncation_problem(truncate, randomized, T_x)
    if problem:
        messages.append(Message("randomized", f"{problem}; using randomized=0."))
        randomized = False
    return truncate, randomized


def _t(params: dict, T_x: int, messages: list) -> int | None:
    if "t" not in params:
        return None
    raw = _last(params["t"]).strip()
    try:
        t = int(raw)
    except ValueError:
        messages.append(Message("t", f"t={raw!r} is not a whole number; showing the first step of the loop."))
        return None
    if not 0 <= t < T_x:
        messages.append(Message("t", f"t={t} is outside this run (t goes from 0 to T_x-1 = {T_x - 1}); "
                                     "showing the first step of the loop."))
        return None
    return t


def _bug(params: dict, cell: str, messages: list) -> str | None:
    raw = _last(params.get("bug", "")).strip()
    if raw in ("", "none"):
        return None
    if raw not in BY_ID:
        messages.append(Message("bug", f"bug={raw!r} is not in the catalog; showing the correct code. "
                                       f"Known {cell.upper()} bugs: "
                                       f"{', '.join(b.id for b in BY_ID.values() if b.cell == cell)}."))
        return None
    if BY_ID[raw].cell != cell:
        messages.append(Message("bug", f"bug={raw} is a bug of the {BY_ID[raw].cell.upper()}, not of the "
                                       f"{cell.upper()}; showing the correct code. Add cell={BY_ID[raw].cell} "
                                       "to see it."))
        return None
    return raw


def _flag(params: dict, name: str, messages: list) -> bool:
    if name not in params:
        return False
    raw = _last(params[name]).strip().lower()
    if raw in TRUE:
        return True
    if raw not in FALSE:
        messages.append(Message(name, f"{name}={raw!r} is not understood: use {name}=1 or {name}=0; using {name}=0."))
    return False


def to_params(state: PageState) -> dict:
    """The query parameters that restore `state` exactly (sizes only where the scenario lets them vary).

    to_params(PageState())  # {'cell': 'rnn', 'scenario': 'course'}
    """
    c = state.config
    params = {"cell": c.cell, "scenario": c.scenario}
    if not SCENARIOS[c.scenario].fixed:
        params |= {"seed": str(c.seed), **{n: str(getattr(c, n)) for n in SIZES}, "scale": repr(float(c.scale))}
    if state.t is not None:
        params["t"] = str(state.t)
    if c.bug is not None:
        params["bug"] = c.bug
    if c.truncate:
        params["truncate"] = str(c.truncate)
    if c.randomized:
        params["randomized"] = "1"
    if state.notation != "course":
        params["notation"] = state.notation
    if state.present:
        params["present"] = "1"
    if state.hide:
        params["hide"] = ",".join(sorted(state.hide))
    if state.lock:
        params["lock"] = ",".join(sorted(state.lock))
    if state.stepping != "browser":
        params["stepping"] = state.stepping
    return params


def link(state: PageState | None = None, **changes) -> str:
    """A relative link that opens the stepper in `state`, with RunConfig fields or t/present overridden.

    link(bug="missing-da-t", t=2)  # './?cell=rnn&scenario=course&t=2&bug=missing-da-t'
    """
    state = state or PageState()
    config_changes = {k: v for k, v in changes.items() if k in RunConfig.__dataclass_fields__}
    page_changes = {k: v for k, v in changes.items() if k not in config_changes}
    config = state.config
    if "scenario" in config_changes:  # a new scenario starts from its own sizes, not the old ones
        config = replace(SCENARIOS[config_changes["scenario"]].defaults, cell=config.cell, bug=config.bug)
        if not truncation_problem(state.config.truncate, state.config.randomized, config.T_x):
            config = replace(config, truncate=state.config.truncate, randomized=state.config.randomized)
    state = replace(state, config=validate(replace(config, **config_changes)), **page_changes)
    return "./?" + urlencode(to_params(state), safe=",")
