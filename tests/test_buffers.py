"""bptt.buffers.empty: np.empty's contract, with large mappings recycled only once nothing can see them."""

import gc
import threading
import tracemalloc

import numpy as np
import pytest

from bptt import buffers

pytestmark = pytest.mark.skipif(not buffers.HAS_MAPPINGS, reason="anonymous mappings with huge-page advice: Linux")

LARGE = (256, 64, 20)  # 2.6 MB: above HUGE_PAGE, so it comes from a mapping


@pytest.fixture(autouse=True)
def empty_pool(monkeypatch):
    """Each test starts with no idle mapping, so that what it reuses is its own."""
    gc.collect()  # an earlier test's arrays, released now, go to the pool that test had
    monkeypatch.setattr(buffers, "_idle", [])
    monkeypatch.setattr(buffers, "_idle_bytes", 0)


def overlap(a: np.ndarray, b: np.ndarray) -> bool:
    return np.may_share_memory(a, b)  # by the bounds of each: any byte in common


@pytest.mark.parametrize("shape", [(3,), (512, 513), LARGE, (0, 10)])
def test_an_array_is_float64_of_the_shape_asked_and_writable_everywhere(shape):
    array = buffers.empty(shape)
    assert array.shape == shape and array.dtype == np.float64 and array.flags.writeable
    array[...] = 7.0
    assert np.all(array == 7.0)


def test_a_released_mapping_is_reused_for_the_next_array_of_the_same_size():
    first = buffers.empty(LARGE)
    first[...] = 7.0
    del first
    gc.collect()
    # the old numbers, not the kernel's zeros: the same pages, not a new mapping the kernel put at the same address
    assert np.all(buffers.empty(LARGE) == 7.0)


def test_a_mapping_is_not_reused_while_any_view_of_it_is_alive():
    first = buffers.empty(LARGE)
    view = first[3:5].transpose(1, 0, 2)  # outlives the array it was taken from
    del first
    gc.collect()
    second = buffers.empty(LARGE)
    assert not overlap(second, view)
    view[...] = 1.0
    second[...] = 2.0
    assert np.all(view == 1.0)  # writing one never shows in the other


def test_arrays_alive_at_once_never_share_memory_even_across_threads():
    alive, lock, errors = [], threading.Lock(), []

    def churn(seed: int) -> None:
        rng = np.random.default_rng(seed)
        for _ in range(40):
            array = buffers.empty(LARGE)
            with lock:
                if any(overlap(array, other) for other in alive):
                    errors.append("overlap")
                alive.append(array)
                if len(alive) > 4:
                    alive.pop(int(rng.integers(len(alive))))

    threads = [threading.Thread(target=churn, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_full_pool_drops_its_oldest_mappings_first(monkeypatch):
    size = 8 * int(np.prod(LARGE))
    monkeypatch.setattr(buffers, "POOL_BYTES", 3 * size)
    arrays = [buffers.empty(LARGE) for _ in range(4)]
    for i in range(4):
        arrays[i][...] = i  # tells the mappings apart by their contents, which a new mapping has as zeros
    while arrays:
        arrays.pop(0)  # released in the order made: the first one goes when the fourth comes in
    assert sum(len(mapping) for mapping in buffers._idle) == buffers._idle_bytes == 3 * size
    reused = [buffers.empty(LARGE) for _ in range(3)]  # kept alive, so each takes a different one
    assert sorted(float(a.flat[0]) for a in reused) == [1.0, 2.0, 3.0]


def test_a_mapping_is_reused_only_by_an_array_of_its_own_size():
    first = buffers.empty(LARGE)
    first[...] = 7.0
    del first
    gc.collect()
    assert not np.any(buffers.empty((LARGE[0] + 1,) + LARGE[1:]) == 7.0)  # a new mapping, all zeros
    assert np.all(buffers.empty(LARGE) == 7.0)


def test_tracemalloc_sees_an_array_while_it_lives_and_not_after():
    size = 8 * int(np.prod(LARGE))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        array = buffers.empty(LARGE)
        during = tracemalloc.get_traced_memory()[0] - before
        del array
        gc.collect()
        after = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert size <= during < size + 4096  # the array, plus the few objects that hold it
    assert after < 4096
