"""The checker's channel: plain JSON and raw float64 arrays in one frame, written and read with bounds.

A frame is MAGIC, a 32-byte token, the header's length (8 bytes, little-endian), a JSON header
{"meta": {...}, "arrays": [[name, shape], ...]}, then every array's float64 numbers in order.
Nothing is compressed or pickled, so what a frame declares is exactly what it holds.

    data = encode({"stdout": ""}, {"p0.x": x}, token); meta, arrays = decode(data, token, Bounds())

The parent sends the child its job this way (token of zeros) and the child sends its results back
over a pipe only the parent reads. The child's writer is built from functions captured before the
student's code loads (`writer`), so replacing json, numpy, os or builtins later changes nothing in
what it writes; the token, read only after the student's module has loaded, tells the harness's
frame from bytes the student's module wrote into the pipe on its own.
"""

import hmac
import json
import math
import os
from dataclasses import dataclass

import numpy as np

MAGIC = b"BPTT-CHANNEL-1\n"
TOKEN_BYTES = 32
NO_TOKEN = bytes(TOKEN_BYTES)  # the parent's job frame: the child has no secret to check it against
LENGTH_BYTES = 8


class ChannelError(ValueError):
    """A frame that is not what the harness writes: too large, too deep, garbled, or not this check's."""


@dataclass(frozen=True)
class Bounds:
    """What a frame may hold before anything is built from it."""

    header_bytes: int = 2 << 20  # the JSON header: facts, printed output, array index (a check sends ~80 kB)
    array_bytes: int = 64 << 20  # every array's numbers together
    arrays: int = 20_000  # how many arrays (a check of both LSTM functions sends ~2 000)
    depth: int = 48  # nesting of the JSON
    name_chars: int = 300  # an array's name
    dimensions: int = 8  # an array's number of axes

    @property
    def frame_bytes(self) -> int:
        return len(MAGIC) + TOKEN_BYTES + LENGTH_BYTES + self.header_bytes + self.array_bytes


def encode(meta: dict, arrays: dict, token: bytes) -> bytes:
    """One frame, in the parent (the job) where nothing hostile runs."""
    index = [[name, list(np.shape(value))] for name, value in arrays.items()]
    header = json.dumps({"meta": meta, "arrays": index}, allow_nan=False).encode("utf-8")
    data = b"".join(np.ascontiguousarray(value, dtype="<f8").tobytes() for value in arrays.values())
    return MAGIC + token + len(header).to_bytes(LENGTH_BYTES, "little") + header + data


def decode(data: bytes, token: bytes, bounds: Bounds) -> tuple:
    """(meta, arrays) from a frame, every length, count and depth checked before an array is built.

    Raises ChannelError, in plain words, for anything the harness would not have written.
    """
    head = len(MAGIC) + TOKEN_BYTES + LENGTH_BYTES
    if len(data) < head or not data.startswith(MAGIC):
        raise ChannelError("they do not start the way the checker's results start")
    if not hmac.compare_digest(data[len(MAGIC): len(MAGIC) + TOKEN_BYTES], token):
        raise ChannelError("they do not carry this check's token, so the checker did not write them")
    length = int.from_bytes(data[head - LENGTH_BYTES: head], "little")
    if length > bounds.header_bytes or length > len(data) - head:
        raise ChannelError(f"their header declares {length:,} bytes, more than they hold or than allowed")
    header = _header(data[head: head + length], bounds)
    shapes = _shapes(header.get("arrays"), bounds)
    body = memoryview(data)[head + length:]
    need = 8 * sum(count for _, _, count in shapes)
    if need != len(body):
        raise ChannelError(f"they declare {need:,} bytes of numbers and hold {len(body):,}")
    arrays, offset = {}, 0
    for name, shape, count in shapes:
        # a copy in native order: the arrays outlive the frame and the engine may write to them
        arrays[name] = np.frombuffer(body, "<f8", count, offset).astype(np.float64).reshape(shape)
        offset += 8 * count
    return header["meta"], arrays


def _header(raw: bytes, bounds: Bounds) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise ChannelError(f"their header is nested deeper than {bounds.depth} levels") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise ChannelError(f"their header is not plain JSON ({type(e).__name__})") from None
    if not isinstance(header, dict) or not isinstance(header.get("meta"), dict):
        raise ChannelError("their header is not the object the checker writes")
    _check_depth(header, bounds.depth)
    return header


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _check_depth(value, limit: int) -> None:
    """Walks without recursion: a header nested a million deep ends here, not in a RecursionError later."""
    stack = [(value, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            raise ChannelError(f"their header is nested deeper than {limit} levels")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def _shapes(index, bounds: Bounds) -> list:
    """[(name, shape, count)] from the header's array index, each entry checked."""
    if not isinstance(index, list) or len(index) > bounds.arrays:
        raise ChannelError(f"their array index is not a list of at most {bounds.arrays:,} entries")
    shapes, seen, total = [], set(), 0
    for entry in index:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
                and isinstance(entry[1], list) and len(entry[1]) <= bounds.dimensions
                and all(type(n) is int and n >= 0 for n in entry[1])):
            raise ChannelError("an entry of their array index is not [name, shape]")
        name, shape = entry
        if len(name) > bounds.name_chars or name in seen:
            raise ChannelError(f"an array name is too long or repeated ({name[:60]!r})")
        count = 1
        for n in shape:
            count = min(count * n, bounds.array_bytes)  # stays small: a forged (10**9, 10**9) cannot overflow
        total += 8 * count
        if total > bounds.array_bytes:
            raise ChannelError(f"their arrays hold more than the {bounds.array_bytes >> 20} MB allowed")
        seen.add(name)
        shapes.append((name, tuple(shape), count))
    return shapes


def writer(fd: int):
    """send(token, meta, arrays) onto fd, built from functions captured now, before the student's code loads.

    Only exact dicts, lists, tuples, strings, numbers, None and float arrays are written; anything
    else (a patched np.array's object, a dict subclass) raises TypeError and nothing is sent.
    """
    escape = json.encoder.c_encode_basestring_ascii or json.encoder.py_encode_basestring_ascii
    float_repr, int_repr, isfinite, isinstance_, type_, len_ = float.__repr__, int.__repr__, math.isfinite, \
        isinstance, type, len
    str_, int_, float_, bool_, dict_, list_, tuple_, bytes_ = str, int, float, bool, dict, list, tuple, bytes
    items, join, encode_text = dict.items, str.join, str.encode
    ndarray, float64, astype, tobytes = np.ndarray, np.dtype("<f8"), np.ndarray.astype, np.ndarray.tobytes
    write, to_bytes, magic, length_bytes, view_of = os.write, int.to_bytes, MAGIC, LENGTH_BYTES, memoryview

    def text(value, depth: int, out: list) -> None:
        if depth > 40:
            raise TypeError("the results are nested too deeply")
        if value is None or value is True or value is False:
            out.append("null" if value is None else "true" if value else "false")
        elif isinstance_(value, str_):
            out.append(escape(value))
        elif isinstance_(value, int_):
            out.append(int_repr(value))
        elif isinstance_(value, float_):
            out.append(float_repr(value) if isfinite(value) else "null")
        elif type_(value) is dict_:
            parts = []
            for key, item in items(value):
                if not isinstance_(key, str_):
                    raise TypeError("a key of the results is not a string")
                parts.append(escape(key) + ":" + _joined(item, depth))
            out.append("{" + join(",", parts) + "}")
        elif type_(value) is list_ or type_(value) is tuple_:
            out.append("[" + join(",", [_joined(item, depth) for item in value]) + "]")
        else:
            raise TypeError(f"the results hold a {type_(value).__name__}")

    def _joined(value, depth: int) -> str:
        out = []
        text(value, depth + 1, out)
        return out[0]

    def send(token: bytes, meta: dict, arrays: dict) -> None:
        if type_(arrays) is not dict_ or type_(token) is not bytes_:
            raise TypeError("the results are not a dict of arrays")
        index, data = [], []
        for name, value in items(arrays):
            if type_(value) is not ndarray or not isinstance_(name, str_):
                raise TypeError(f"result {name!r} is not a numpy array")
            value = astype(value, float64)
            index.append([name, list_(value.shape)])
            data.append(tobytes(value))
        header = encode_text(_joined({"meta": meta, "arrays": index}, 0), "utf-8")
        frame = magic + token + to_bytes(len_(header), length_bytes, "little") + header + b"".join(data)
        view = view_of(frame)
        while len_(view):
            view = view[write(fd, view):]

    return send
