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


# -- awaiting on an event loop --------------------------------------------------------------


def test_await_returns_a_value_set_later_on_another_thread_without_blocking_the_loop() -> None:
    import asyncio

    future: CallFuture[str] = CallFuture()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    async def main() -> str:
        tick = asyncio.get_running_loop().create_task(ticker())
        asyncio.get_running_loop().call_later(
            0.02, lambda: threading.Thread(target=future.set, args=("sent",)).start())
        value = await future
        tick.cancel()
        return value

    assert asyncio.run(main()) == "sent"
    assert ticks > 10  # the loop kept running while the call was out


def test_await_raises_the_calls_error_and_marks_it_seen() -> None:
    import asyncio

    future: CallFuture[int] = CallFuture()

    async def main() -> None:
        asyncio.get_running_loop().call_soon(
            lambda: future.set_exception((KeyError, KeyError("gone"), None)))
        await future

    with pytest.raises(KeyError, match="gone"):
        asyncio.run(main())
    assert future.error_seen  # a handler saw it: the update is not parked


def test_await_of_a_settled_future_does_not_suspend() -> None:
    future: CallFuture[int] = CallFuture()
    future.set(5)
    awaiting = future.__await__()
    with pytest.raises(StopIteration) as done:
        next(awaiting)
    assert done.value.value == 5


def test_a_cancelled_awaiter_does_not_break_the_setter() -> None:
    import asyncio

    future: CallFuture[int] = CallFuture()

    async def main() -> None:
        task = asyncio.get_running_loop().create_task(_await(future))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    future.set(1)  # the awaiter's loop is closed by now: nothing to wake, no error
    assert future.get(timeout=0) == 1


async def _await(future: CallFuture[int]) -> int:
    return await future
