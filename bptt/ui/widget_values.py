"""A widget value the server cannot read is treated as no value at all: the widget keeps its default.

A browser sends each widget's value in the field that widget uses (a select slider's list of
numbers, a selectbox's string). A client that is not a browser can put any field in any widget's
message: an int where a list belongs, a NaN, a string for a number input. Streamlit deserializes
those before the page's script starts, so the exception (TypeError: object of type 'int' has no
len()) lands on the page and no try in the page can catch it. With this in place such a value is
dropped as if it had never been sent, and the page can say so (`dropped_values`).

    forgive_odd_widget_values_once()  # once per process; every session after that is covered
    dropped_values()  # ['check:t'] in the session that sent an int for the step slider
"""

import threading
from functools import cache

from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
from streamlit.runtime.state.session_state import Serialized, WStates

MAX_SESSIONS = 1000  # sessions with dropped values not yet reported; beyond it the oldest reports are forgotten
_dropped: dict = {}  # session id -> user keys of the widgets whose value was dropped
_lock = threading.Lock()


def _user_key(widget_id: str) -> str:
    """'$$ID-<hash>-check:t' -> 'check:t'; an id without a user key is returned as it is."""
    parts = widget_id.split("-", 2)
    return parts[2] if widget_id.startswith("$$ID") and len(parts) == 3 else widget_id


def _note(widget_id: str) -> None:
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return
    with _lock:
        if ctx.session_id not in _dropped and len(_dropped) >= MAX_SESSIONS:
            _dropped.pop(next(iter(_dropped)))
        _dropped.setdefault(ctx.session_id, []).append(_user_key(widget_id))


def _blank(states: WStates, key: str) -> None:
    """Replace the value by an empty one, as if none had been sent: the widget falls back to its default.

    Replaced, not removed: Streamlit may be iterating over the states when it asks for this one.
    """
    states.states[key] = Serialized(WidgetState(id=key))
    _note(key)


@cache
def forgive_odd_widget_values_once() -> None:
    """Make a value that fails to deserialize read as no value, in every session of this process."""
    original = WStates.__getitem__

    def getitem(self: WStates, key: str):
        state, metadata = self.states.get(key), self.widget_metadata.get(key)
        if isinstance(state, Serialized) and metadata is not None:
            field = state.value.WhichOneof("value")
            numbers = {field, metadata.value_type} == {"int_value", "double_value"}  # a browser's int number input
            if field is not None and field != metadata.value_type and not numbers:  # an int where a list belongs
                _blank(self, key)
        try:
            return original(self, key)
        except KeyError:
            raise
        except Exception:  # the right field, but a value this widget cannot hold
            _blank(self, key)
        try:
            return original(self, key)
        except Exception:  # not even "no value" deserializes: say the widget has none
            raise KeyError(key) from None

    WStates.__getitem__ = getitem


def dropped_values() -> list:
    """The user keys of this session's widgets whose last value could not be read; reading clears them."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return []
    with _lock:
        return _dropped.pop(ctx.session_id, [])
