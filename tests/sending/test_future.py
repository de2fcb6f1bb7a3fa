"""CallFuture behaves as pykka's ThreadingFuture: values, errors, waiting, hooks."""

from __future__ import annotations

import queue
import threading

import pykka
import pytest

from actorbot.sending._future import CallFuture


def test_a_value_set_before_or_after_get() -> None:
    early = CallFuture()
    early.set(1)
    assert early.get(timeout=0) == 1
    assert early.get() == 1  # any number of times

    late = CallFuture()
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(late.get(timeout=10)))
    waiter.start()
    late.set("two")
    waiter.join()
    assert got == ["two"]


def test_errors_timeouts_and_double_sets() -> None:
    future = CallFuture()
    with pytest.raises(pykka.Timeout):
        future.get(timeout=0.01)
    try:
        raise KeyError("x")
    except KeyError:
        future.set_exception()
    with pytest.raises(KeyError):
        future.get()
    with pytest.raises(queue.Full):
        future.set(3)
    other = CallFuture()
    error = ValueError("boom")
    other.set_exception((ValueError, error, None))
    with pytest.raises(ValueError, match="boom"):
        other.get()


def test_pykka_combinators_work_on_it() -> None:
    first, second = CallFuture(), CallFuture()
    mapped = first.map(lambda v: v * 2)
    first.set(21)
    second.set(1)
    assert mapped.get(timeout=1) == 42
    assert pykka.get_all([first, second], timeout=1) == [21, 1]
    assert isinstance(first, pykka.ThreadingFuture)


def test_many_waiters_on_many_futures() -> None:
    futures = [CallFuture() for _ in range(200)]
    results: list[int] = []
    lock = threading.Lock()

    def wait(f: CallFuture) -> None:
        value = f.get(timeout=10)
        with lock:
            results.append(value)

    threads = [threading.Thread(target=wait, args=(f,)) for f in futures for _ in range(2)]
    for thread in threads:
        thread.start()
    for i, future in enumerate(futures):
        future.set(i)
    for thread in threads:
        thread.join()
    assert sorted(results) == sorted([*range(200), *range(200)])
