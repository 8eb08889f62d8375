"""The channel back: the parent reads a frame with every bound checked first; the child's writer ignores patches."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bptt.check import check, engine, from_text, sandbox
from bptt.check.channel import MAGIC, TOKEN_BYTES, Bounds, ChannelError, decode, encode, writer

TOKEN = bytes(range(TOKEN_BYTES))
ROOT = Path(__file__).resolve().parent.parent


def frame(header: bytes, body: bytes = b"", token: bytes = TOKEN, length: int | None = None) -> bytes:
    declared = len(header) if length is None else length
    return MAGIC + token + declared.to_bytes(8, "little") + header + body


def test_a_frame_round_trips_plain_numbers_and_facts():
    arrays = {"p0.x": np.arange(6.0).reshape(2, 3), "p0.one": np.float64(2.5), "p0.none": np.zeros((0, 4))}
    meta, back = decode(encode({"stdout": "hi", "probes": [{"t": 3}]}, arrays, TOKEN), TOKEN, Bounds())
    assert meta == {"stdout": "hi", "probes": [{"t": 3}]}
    assert set(back) == set(arrays) and all(np.array_equal(back[k], arrays[k]) for k in arrays)
    assert back["p0.x"].flags.writeable and back["p0.x"].dtype == np.float64


@pytest.mark.parametrize("data, words", [
    (b"", "do not start"),
    (b"PK\x03\x04" + bytes(100), "do not start"),
    (frame(b"{}", token=bytes(TOKEN_BYTES)), "this check's token"),
    (frame(b'{"meta": {}, "arrays": []}', length=2 ** 60), "more than they hold or than allowed"),
    (frame(b'{"meta": {}, "arrays": []}', length=3), "not plain JSON"),
    (frame(b"[" * 1_000_000 + b"]" * 1_000_000), "nested deeper than"),
    (frame(b'{"meta": ' + b'{"a": ' * 100 + b"1" + b"}" * 100 + b', "arrays": []}'), "nested deeper than 48"),
    (frame(b'{"meta": {"stdout_chars": Infinity}, "arrays": []}'), "not plain JSON"),
    (frame(b'{"meta": [], "arrays": []}'), "not the object"),
    (frame(b'{"meta": {}, "arrays": [["a", [1000000, 1000000, 1000000]]]}', bytes(8)), "more than the 64 MB"),
    (frame(b'{"meta": {}, "arrays": [["a", [2]]]}', bytes(8)), "declare 16 bytes of numbers and hold 8"),
    (frame(b'{"meta": {}, "arrays": [["a", [1]]]}', bytes(16)), "declare 8 bytes of numbers and hold 16"),
    (frame(b'{"meta": {}, "arrays": [["a", [1]], ["a", [1]]]}', bytes(16)), "repeated"),
    (frame(b'{"meta": {}, "arrays": [["a", [-1]]]}'), "not [name, shape]"),
    (frame(b'{"meta": {}, "arrays": [["a", [true]]]}'), "not [name, shape]"),
    (frame(b'{"meta": {}, "arrays": [["a", [1.5]]]}'), "not [name, shape]"),
    (frame(b'{"meta": {}, "arrays": [["a", [1, 1, 1, 1, 1, 1, 1, 1, 1]]]}'), "not [name, shape]"),
    (frame(b'{"meta": {}, "arrays": {"a": 1}}'), "not a list"),
    (frame(b'{"meta": {}, "arrays": [' + b",".join([b'["a%d", []]' % i for i in range(20_001)]) + b"]}"),
     "at most 20,000"),
    (frame(b'{"meta": {}, "arrays": []}\xff'), "not plain JSON"),
], ids=["empty", "zip", "token", "huge-length", "short-length", "deep-list", "deep-meta", "infinity", "meta-list",
        "huge-count", "short-data", "long-data", "repeated", "negative", "bool-shape", "float-shape", "axes",
        "index-dict", "many-arrays", "not-utf8"])
def test_a_forged_frame_is_refused_in_plain_words_before_anything_is_built(data, words):
    started = time.process_time()
    with pytest.raises(ChannelError, match=words.replace("[", r"\[").replace("]", r"\]")):
        decode(data, TOKEN, Bounds())
    assert time.process_time() - started < 2  # no quadratic parse, no 8 TB array, no decompression


def test_garbled_results_reach_the_student_as_one_output_error(monkeypatch):
    """Whatever the channel refuses is kind output, exit 2, in the report: never a traceback."""
    def forged(code, arrays, job, limits):
        try:
            decode(frame(b"[" * 100_000), TOKEN, Bounds())
        except ChannelError as e:
            return sandbox.Outcome(error=sandbox._unreadable(e))

    monkeypatch.setattr(engine.sandbox, "run", forged)
    report = check(from_text("def rnn_backward(da, caches):\n    return {}\n"))
    assert report.exit_code == 2 and report.error["kind"] == "output" and "refused" in report.error["message"]
    json.dumps(report.to_json())


def test_the_printed_output_must_be_text():
    """A forged non-string stdout once put a raw AttributeError on the page."""
    with pytest.raises(ChannelError, match="not text"):
        sandbox._check_harness_facts({"stdout": {"evil": 1}, "stdout_chars": 3})
    with pytest.raises(ChannelError, match="not text"):
        sandbox._check_harness_facts({"stdout": "", "stdout_chars": 1e308})


WRITER = """
import builtins, json, os, sys
import numpy as np
sys.path.insert(0, {root!r})
from bptt.check import channel
r, w = os.pipe()
send = channel.writer(w)
json.dumps = json.dump = lambda *a, **k: '{{}}'
json.encoder.c_encode_basestring_ascii = json.encoder.encode_basestring_ascii = lambda s: '""'
np.ascontiguousarray = np.frombuffer = lambda *a, **k: np.zeros(0)
real_write = os.write
os.write = lambda fd, data: len(data)
builtins.isinstance = lambda o, t: False
builtins.len = lambda o: 0
builtins.memoryview = lambda b: b""
send({token!r}, {{"stdout": "x", "probes": [{{"t": 1}}]}}, {{"a": np.arange(3.0)}})
os.close(w)
sys.stdout.buffer.write(os.read(r, 1 << 20))
"""


def test_the_childs_writer_sends_the_truth_after_json_numpy_os_and_builtins_are_replaced():
    out = subprocess.run([sys.executable, "-c", WRITER.format(root=str(ROOT), token=TOKEN)], capture_output=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    meta, arrays = decode(out.stdout, TOKEN, Bounds())
    assert meta == {"stdout": "x", "probes": [{"t": 1}]} and arrays["a"].tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("meta, arrays", [
    ({"x": object()}, {}),
    ({"x": {1: "not a string key"}}, {}),
    ({}, {"a": [1.0, 2.0]}),
    ({}, {"a": np.array(["x"], dtype=object)}),
], ids=["object", "int-key", "list-array", "object-array"])
def test_the_writer_refuses_what_is_not_plain_numbers_and_text(meta, arrays):
    r, w = os.pipe()
    try:
        with pytest.raises((TypeError, ValueError)):
            writer(w)(TOKEN, meta, arrays)
    finally:
        os.close(r)
        os.close(w)
