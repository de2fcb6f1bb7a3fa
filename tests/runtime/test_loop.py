"""LoopRuntime: actors on an event loop, the coroutines their messages return awaited in order."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from typing import Any, ClassVar

import pykka
import pytest

from actorbot.errors import StateError
from actorbot.runtime import LoopRuntime, RuntimeActor
from actorbot.runtime._loop import THROUGHPUT


class Recorder(RuntimeActor):
    """Answers each message with a coroutine that sleeps a little before recording it."""

    active: ClassVar[dict[int, int]] = defaultdict(int)
    overlaps: ClassVar[list[int]] = []
    seen: ClassVar[dict[int, list[int]]] = defaultdict(list)

    def __init__(self, key: int) -> None:
        super().__init__()
        self.key = key

    def on_receive(self, message: Any) -> Any:
        return self._handle(message)

    async def _handle(self, message: Any) -> Any:
        self.active[self.key] += 1
        if self.active[self.key] > 1:
            self.overlaps.append(self.key)
        await asyncio.sleep(0.0005 if message % 3 == 0 else 0)
        self.seen[self.key].append(message)
        self.active[self.key] -= 1
        return message * 2


@pytest.fixture
def runtime() -> Any:
    rt = LoopRuntime().start()
    yield rt
    assert rt.shutdown(5)


def test_each_actor_awaits_one_coroutine_at_a_time_in_order(runtime: LoopRuntime) -> None:
    Recorder.seen.clear()
    Recorder.overlaps.clear()
    refs = [runtime.spawn(Recorder, k) for k in range(50)]
    threads = [threading.Thread(target=lambda r=ref: [r.tell(i) for i in range(100)])
               for ref in refs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answers = [ref.ask(1000, timeout=10) for ref in refs]  # behind every tell
    assert answers == [2000] * 50
    assert Recorder.overlaps == []
    assert dict(Recorder.seen) == {
        k: [*range(100), 1000] for k in range(50)}


def test_different_actors_run_concurrently_on_the_loop(runtime: LoopRuntime) -> None:
    both = asyncio.Event()
    arrived: list[str] = []

    class Waiter(RuntimeActor):
        def on_receive(self, message: Any) -> Any:
            return self._wait(message)

        async def _wait(self, name: str) -> str:
            arrived.append(name)
            if len(arrived) == 2:
                both.set()
            await asyncio.wait_for(both.wait(), 5)
            return name

    first, second = runtime.spawn(Waiter), runtime.spawn(Waiter)
    a, b = first.ask("a", block=False), second.ask("b", block=False)
    assert (a.get(timeout=10), b.get(timeout=10)) == ("a", "b")  # neither waited for the other


def test_a_coroutine_that_raises_fails_the_ask_not_the_runtime(runtime: LoopRuntime) -> None:
    class Failing(RuntimeActor):
        def on_receive(self, message: Any) -> Any:
            return self._fail()

        async def _fail(self) -> None:
            await asyncio.sleep(0)
            raise ValueError("boom")

    ref = runtime.spawn(Failing)
    with pytest.raises(ValueError, match="boom"):
        ref.ask("x", timeout=10)
    assert runtime.spawn(Recorder, 999).ask(3, timeout=10) == 6


def test_cancel_running_cancels_and_later_messages_still_run(runtime: LoopRuntime) -> None:
    started = threading.Event()

    class Stuck(RuntimeActor):
        def on_receive(self, message: Any) -> Any:
            if message == "hang":
                return self._hang()
            return "after"

        async def _hang(self) -> None:
            started.set()
            await asyncio.Event().wait()

    ref = runtime.spawn(Stuck)
    hung = ref.ask("hang", block=False)
    assert started.wait(10)
    assert runtime.busy() == 1
    assert runtime.cancel_running(5) == 1
    with pytest.raises(StateError, match="cancelled"):
        hung.get(timeout=10)
    assert ref.ask("next", timeout=10) == "after"


class TaskRecorder(RuntimeActor):
    """Records the task each message's coroutine ran in; the first waits for a gate."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate
        self.tasks: list[asyncio.Task[Any] | None] = []

    def on_receive(self, message: Any) -> Any:
        return self._record(message)

    async def _record(self, message: Any) -> Any:
        if message == "tasks":
            return self.tasks
        self.tasks.append(asyncio.current_task())
        if message == "gate":
            await asyncio.to_thread(self.gate.wait, 10)
        return message


def test_an_actors_queued_coroutines_run_in_one_task_up_to_the_throughput(
    runtime: LoopRuntime
) -> None:
    gate = threading.Event()
    ref = runtime.spawn(TaskRecorder, gate)
    ref.tell("gate")
    for i in range(THROUGHPUT + 4):  # queued behind the gate
        ref.tell(i)
    gate.set()
    tasks = ref.ask("tasks", timeout=10)
    assert len(tasks) == THROUGHPUT + 5
    first, rest = tasks[:THROUGHPUT], tasks[THROUGHPUT:]
    assert len(set(map(id, first))) == 1  # no task (nor loop pass) per message
    assert first[0] not in rest  # then a fresh task: the others get the loop meanwhile
    assert len(set(map(id, rest))) == 1
    assert ref.ask("later", timeout=10) == "later"


def test_after_a_cancellation_the_handler_caught_the_next_message_gets_a_fresh_task(
    runtime: LoopRuntime
) -> None:
    started = threading.Event()

    class Catches(RuntimeActor):
        def on_receive(self, message: Any) -> Any:
            return self._run(message)

        async def _run(self, message: str) -> Any:
            task = asyncio.current_task()
            assert task is not None
            if message == "hang":
                started.set()
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    return "caught"
            return id(task), task.cancelling()

    ref = runtime.spawn(Catches)
    hung = ref.ask("hang", block=False)
    queued = ref.ask("next", block=False)
    assert started.wait(10)
    assert runtime.cancel_running(5) == 1
    assert hung.get(timeout=10) == "caught"
    _, cancelling = queued.get(timeout=10)
    assert cancelling == 0  # not the cancelled task: asyncio.timeout() in it works as usual


def test_shutdown_joins_its_own_loop_thread() -> None:
    rt = LoopRuntime().start()
    assert any(t.name == "actorbot-loop" for t in threading.enumerate())
    assert rt.shutdown(5)
    assert not any(t.name == "actorbot-loop" for t in threading.enumerate())
    with pytest.raises(StateError):
        rt.spawn(Recorder, 1)


def test_on_the_applications_loop_it_never_stops_that_loop() -> None:
    async def main() -> tuple[Any, bool]:
        rt = LoopRuntime(asyncio.get_running_loop()).start()
        ref = rt.spawn(Recorder, 7)
        answer = await asyncio.to_thread(ref.ask, 21, timeout=10)  # a blocking ask off-loop
        assert rt.in_loop_thread()
        assert rt.shutdown(1)
        return answer, asyncio.get_running_loop().is_running()

    assert asyncio.run(main()) == (42, True)


def test_a_pooled_actor_answering_with_a_coroutine_is_a_clear_error() -> None:
    from actorbot.errors import AsyncHookError
    from actorbot.runtime import ActorPool

    pool = ActorPool(1)
    try:
        ref = pool.spawn(Recorder, 5)
        with pytest.raises(AsyncHookError, match="no event loop"):
            ref.ask(1, timeout=10)
        ref.stop()
    finally:
        pool.shutdown(5)


def test_a_stopped_actor_on_the_loop_refuses_asks(runtime: LoopRuntime) -> None:
    ref = runtime.spawn(Recorder, 11)
    ref.stop()
    with pytest.raises(pykka.ActorDeadError):
        ref.ask(1, timeout=10)


def test_its_thread_is_not_the_loops_once_the_loop_stopped() -> None:
    loop = asyncio.new_event_loop()
    try:
        rt = LoopRuntime(loop).start()

        async def inside() -> bool:
            return rt.in_loop_thread()

        assert loop.run_until_complete(inside())
        assert not rt.in_loop_thread()  # same thread, loop not running: stop() may block
        assert rt.shutdown(1)
    finally:
        loop.close()
