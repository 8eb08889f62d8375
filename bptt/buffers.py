"""Large arrays for the backward kernels: on huge pages, and recycled once nothing looks at them.

A backward writes tens of megabytes it has never touched: dx, a trace's stored vectors, its
checkpoints. Fresh memory is dear. Each 4 KiB page faults on its first write (about 3.5 µs on the
benchmark machine, a VM), and a huge page freed a few seconds earlier has often gone back to the
host, which makes its next first touch dearer still (52 MB: 4 ms when reused at once, 100 ms after
a pause). The fast backward hardly pays this, as the allocator recycles its scratch memory; the
traced one paid it for every stored vector, at every build. So when every view of an array from
empty() is gone, its mapping goes to a pool, and the next array of the same size reuses it, already
faulted in. The pool is bounded (POOL_BYTES); when it is full, the mappings idle longest are unmapped.

The arrays are np.empty's: uninitialised, and a reused one holds old numbers. Mappings in use are
declared to tracemalloc in numpy's domain, so a memory measurement sees them as it sees np.empty's;
idle ones are not, as malloc's free lists are not.
"""

import ctypes
import math
import mmap
import os
import threading
import weakref

import numpy as np

HUGE_PAGE = 2**21  # bytes; smaller arrays come from np.empty
NUMPY_TRACE_DOMAIN = 389047  # numpy's tracemalloc domain (numpy/_core/src/multiarray/alloc.c)
HAS_MAPPINGS = hasattr(mmap, "MAP_ANONYMOUS") and hasattr(mmap, "MADV_HUGEPAGE")  # Linux
# idle mappings kept for reuse, at most: a sixteenth of the machine's memory, and 1 GiB. A large LSTM trace
# (256, 512, 64, 200) and its backward's scratch come to about 290 MB, the app's largest run to about 120 MB
POOL_BYTES = min(2**30, os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 16) if HAS_MAPPINGS else 0

_idle: list = []  # idle mappings, the one released last at the end
_idle_bytes = 0
_lock = threading.RLock()  # reentrant: a release can run inside empty(), when the garbage collector frees an array


def _tracemalloc_hooks() -> tuple:
    track, untrack = ctypes.pythonapi.PyTraceMalloc_Track, ctypes.pythonapi.PyTraceMalloc_Untrack
    track.argtypes, track.restype = [ctypes.c_uint, ctypes.c_size_t, ctypes.c_size_t], ctypes.c_int
    untrack.argtypes, untrack.restype = [ctypes.c_uint, ctypes.c_size_t], ctypes.c_int
    return track, untrack


_track, _untrack = _tracemalloc_hooks() if HAS_MAPPINGS else (None, None)


def empty(shape: tuple) -> np.ndarray:
    """np.empty(shape) of float64; from a recycled mapping on huge pages when it is large and the system has them.

    empty((512, 64, 200)).shape -> (512, 64, 200)
    """
    size = 8 * math.prod(shape)
    if size < HUGE_PAGE or not HAS_MAPPINGS:
        return np.empty(shape)
    mapping = _take(size) or _map(size, shape)
    flat = np.frombuffer(mapping, dtype=np.float64)  # its base, a memoryview, is held by every view of the array
    address = flat.ctypes.data
    _track(NUMPY_TRACE_DOMAIN, address, size)
    weakref.finalize(flat.base, _release, mapping, address).atexit = False
    return flat.reshape(shape)


def _map(size: int, shape: tuple) -> mmap.mmap:
    try:
        mapping = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    except OSError as error:  # out of address space or memory: what np.empty would raise
        raise MemoryError(f"Unable to map {size} bytes for an array of shape {shape}: {error}") from error
    try:
        mapping.madvise(mmap.MADV_HUGEPAGE)
    except OSError:  # a kernel without transparent huge pages: plain pages, as np.empty has
        pass
    return mapping


def _take(size: int) -> mmap.mmap | None:
    """The idle mapping of exactly `size` bytes released last, out of the pool, or None."""
    global _idle_bytes
    with _lock:
        for i in range(len(_idle) - 1, -1, -1):
            if len(_idle[i]) == size:
                _idle_bytes -= size
                return _idle.pop(i)
    return None


def _release(mapping: mmap.mmap, address: int) -> None:
    """Called once the last view of the mapping's array is gone: into the pool, whose oldest go when it is full."""
    global _idle_bytes
    _untrack(NUMPY_TRACE_DOMAIN, address)
    with _lock:
        _idle.append(mapping)
        _idle_bytes += len(mapping)
        while _idle_bytes > POOL_BYTES:  # unmapped when dropped: nothing else holds an idle mapping
            _idle_bytes -= len(_idle.pop(0))
