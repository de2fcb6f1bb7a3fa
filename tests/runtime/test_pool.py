"""Both runtimes keep pykka's contract; the pool keeps per-actor order and exclusivity."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import pykka
import pytest

from actorbot.runtime import _pool as _runtime
from actorbot.runtime._pool import ActorPool, Runtime, RuntimeActor, ThreadPerActor, unbind


class Recorder(RuntimeActor):
    """Records messages and detects two threads inside one actor at once."""

    def __init__(self, label: str = "") -> None:
        super().__init__()
        self.label = label
        self.seen: list[Any] = []
        self.inside = False
        self.overlaps = 0
        self.started = False
        self.stopped_hook = False

    def on_start(self) -> None:
        self.started = True

    def on_stop(self) -> None:
        self.stopped_hook = True

    def on_receive(self, message: Any) -> Any:
        if self.inside:
            self.overlaps += 1
        self.inside = True
        self.seen.append(message)
        if message == "boom":
            self.inside = False
            raise ValueError("boom")
        self.inside = False
        return message

    def snapshot(self) -> tuple[list[Any], int, bool]:
        return list(self.seen), self.overlaps, self.started


@pytest.fixture(params=["pool", "threads"])
def runtime(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    rt: Runtime = ActorPool(3, throughput=4) if request.param == "pool" else ThreadPerActor()
    yield rt
    assert rt.shutdown(5)


def test_pykka_extension_points_are_the_ones_we_built_on() -> None:
    """Fails loudly when pykka changes the private points the runtimes rely on."""
    installed = version("pykka")
    assert ".".join(installed.split(".")[:2]) == _runtime.PYKKA_TESTED, (
        f"pykka {installed}: re-check actorbot/runtime/_pool.py against it and "
        "update PYKKA_TESTED"
    )
    for name in ("_create_actor_inbox", "_create_future", "_start_actor_loop",
                 "_actor_loop_setup", "_handle_receive", "_handle_failure", "_stop",
                 "_actor_loop"):
        assert callable(getattr(pykka.Actor, name)), name
    assert pykka.ThreadingActor._create_actor_inbox().__class__.__name__ == "Queue"
    from pykka._envelope import Envelope

    assert Envelope.__slots__ == ["message", "reply_to"]


def test_tell_ask_proxy_and_stop(runtime: Runtime) -> None:
    ref = runtime.spawn(Recorder, "a")
    for i in range(200):
        ref.tell(i)
    assert ref.ask("last") == "last"
    seen, overlaps, started = ref.proxy().snapshot().get(timeout=5)
    assert seen == [*range(200), "last"]
    assert overlaps == 0
    assert started
    assert ref.proxy().label.get(timeout=5) == "a"
    assert unbind(ref.actor_class) is Recorder
    assert ref.stop(timeout=5) is True
    assert not ref.is_alive()
    with pytest.raises(pykka.ActorDeadError):
        ref.tell("late")
    assert ref.stop(timeout=5) is False


def test_ask_failure_goes_to_the_asker_and_actor_survives(runtime: Runtime) -> None:
    ref = runtime.spawn(Recorder)
    with pytest.raises(ValueError, match="boom"):
        ref.ask("boom", timeout=5)
    assert ref.ask("still here", timeout=5) == "still here"
    ref.stop(timeout=5)


def test_told_failure_stops_the_actor_like_pykka(runtime: Runtime) -> None:
    ref = runtime.spawn(Recorder)
    ref.tell("boom")
    with pytest.raises(pykka.ActorDeadError):
        ref.ask("after", timeout=5)
    assert not ref.is_alive()


def test_not_in_the_global_registry(runtime: Runtime) -> None:
    refs = [runtime.spawn(Recorder) for _ in range(5)]
    assert pykka.ActorRegistry.get_all() == []
    for ref in refs:
        ref.stop(timeout=5)


def test_pool_ask_to_a_stopped_actor_fails_fast() -> None:
    pool = ActorPool(1)
    try:
        ref = pool.spawn(Recorder)
        actor = ref._actor_weakref()
        assert actor is not None
        ref.stop(timeout=5)
        # Bypass tell's is_alive() check: the message reaches the closed inbox itself.
        from pykka._envelope import Envelope

        reply: pykka.Future[Any] = actor._create_future()
        actor.actor_inbox.put(Envelope("late", reply_to=reply))
        with pytest.raises(pykka.ActorDeadError):
            reply.get(timeout=1)  # pykka's own runtime would leave this hanging
    finally:
        pool.shutdown(5)


def test_actor_without_runtime_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="no runtime"):
        Recorder.start()


def test_pool_stress_many_actors_many_producers_exact_outcome() -> None:
    pool = ActorPool(4, throughput=3)
    try:
        refs = [pool.spawn(Recorder, str(i)) for i in range(300)]
        per_producer = 100

        def produce(p: int) -> None:
            for i in range(per_producer):
                for ref in refs:
                    ref.tell((p, i))

        producers = [threading.Thread(target=produce, args=(p,)) for p in range(4)]
        for t in producers:
            t.start()
        for t in producers:
            t.join()
        for ref in refs:
            seen, overlaps, _ = ref.proxy().snapshot().get(timeout=10)
            assert overlaps == 0
            assert len(seen) == 4 * per_producer
            for p in range(4):  # each producer's messages in the order it sent them
                assert [i for q, i in seen if q == p] == list(range(per_producer))
        stops = [ref.stop(block=False) for ref in refs]
        assert all(s.get(timeout=10) for s in stops)
    finally:
        assert pool.shutdown(5)


def test_pool_shutdown_joins_its_threads() -> None:
    before = set(threading.enumerate())
    pool = ActorPool(3, name="joined")
    assert len(set(threading.enumerate()) - before) == 3
    assert pool.shutdown(5)
    assert set(threading.enumerate()) - before == set()
    with pytest.raises(RuntimeError, match="shut down"):
        pool.spawn(Recorder)
