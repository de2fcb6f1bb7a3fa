"""Both runtimes keep pykka's contract; the pool keeps per-actor order and exclusivity."""

from __future__ import annotations

import ast
import configparser
import inspect
import logging
import queue
import threading
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pykka
import pytest

from actorbot.runtime import _pool as _runtime
from actorbot.runtime._pool import ActorPool, Runtime, RuntimeActor, ThreadPerActor, unbind

ROOT = Path(__file__).resolve().parents[2]


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


# -- the pykka version and private API these runtimes are built on ---------------------------

RECHECK = (
    "re-check actorbot/runtime/_pool.py and actorbot/sending/_future.py against this "
    "pykka's sources (docs/architecture.md §3), then update PYKKA_TESTED and the pykka pin "
    "in setup.cfg"
)

#: pykka's private names actorbot code spells out (imports and ``pykka.x._y`` chains).
PRIVATE_NAMES_USED = {
    "pykka._envelope.Envelope",
    "pykka._actor.ActorInbox",
    "pykka.messages._ActorStop",
    "pykka.ThreadingActor._create_actor_inbox",
    "pykka._threading.ThreadingFutureResult",
}

#: pykka.Actor methods RuntimeActor overrides or calls: (name, static?, parameters).
ACTOR_METHODS = [
    ("_create_actor_inbox", True, []),
    ("_create_future", True, []),
    ("_start_actor_loop", False, ["self"]),
    ("_actor_loop", False, ["self"]),
    ("_actor_loop_setup", False, ["self"]),
    ("_handle_receive", False, ["self", "message"]),
    ("_handle_failure", False, ["self", "exception_type", "exception_value", "traceback"]),
    ("_stop", False, ["self"]),
    ("on_start", False, ["self"]),
    ("on_stop", False, ["self"]),
    ("on_failure", False, ["self", "exception_type", "exception_value", "traceback"]),
]


def _params(func: Any) -> list[str]:
    return list(inspect.signature(func).parameters)


def _private_pykka_names() -> set[str]:
    """Every private pykka name written in actorbot's code (the longest chain only)."""
    found: set[str] = set()
    for path in ROOT.joinpath("actorbot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pykka"):
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Attribute):
                parts, value = [node.attr], node.value
                while isinstance(value, ast.Attribute):
                    parts.append(value.attr)
                    value = value.value
                if isinstance(value, ast.Name) and value.id == "pykka":
                    found.add(".".join(["pykka", *reversed(parts)]))
    private = {n for n in found if any(part.startswith("_") for part in n.split("."))}
    return {n for n in private if not any(o.startswith(n + ".") for o in private)}


def test_installed_pykka_is_the_pinned_minor_version() -> None:
    installed = version("pykka")
    minor = ".".join(installed.split(".")[:2])
    assert minor == _runtime.PYKKA_TESTED, (
        f"pykka {installed} is installed, but actorbot's runtimes were checked against "
        f"pykka {_runtime.PYKKA_TESTED}: {RECHECK}"
    )
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    requires = config["options"]["install_requires"].split()
    major, low = (int(n) for n in _runtime.PYKKA_TESTED.split("."))
    assert f"pykka>={major}.{low},<{major}.{low + 1}" in requires, (
        f"setup.cfg must pin pykka to the tested minor version {_runtime.PYKKA_TESTED} "
        f"(the runtimes use its private API): {requires}"
    )


def test_the_private_pykka_names_used_are_the_ones_checked_here() -> None:
    used = _private_pykka_names()
    assert used == PRIVATE_NAMES_USED, (
        f"actorbot now uses private pykka names {sorted(used - PRIVATE_NAMES_USED)} and no "
        f"longer {sorted(PRIVATE_NAMES_USED - used)}: check each one below, then update "
        f"PRIVATE_NAMES_USED"
    )


def test_pykka_actor_extension_points_keep_their_shape() -> None:
    for name, static, params in ACTOR_METHODS:
        attr = inspect.getattr_static(pykka.Actor, name, None)
        assert attr is not None, f"pykka.Actor.{name} is gone: {RECHECK}"
        assert isinstance(attr, staticmethod) == static, (
            f"pykka.Actor.{name} is {'no longer' if static else 'now'} a staticmethod: "
            f"{RECHECK}"
        )
        assert _params(getattr(pykka.Actor, name)) == params, (
            f"pykka.Actor.{name}{inspect.signature(getattr(pykka.Actor, name))} changed "
            f"(expected parameters {params}): {RECHECK}"
        )
    assert _params(pykka.Actor.start) == ["args", "kwargs"], f"Actor.start changed: {RECHECK}"
    assert _params(pykka.ActorRef.__init__) == ["self", "actor"], (
        f"ActorRef(actor) changed: {RECHECK}"
    )


def test_pykka_actor_init_sets_only_the_fields_runtime_actor_sets() -> None:
    # RuntimeActor.__init__ does not call pykka's: it sets the same fields itself.
    class Plain(pykka.ThreadingActor):
        pass

    fields = set(vars(Plain()))
    assert fields == {"actor_urn", "actor_inbox", "actor_stopped", "_actor_ref"}, (
        f"pykka.Actor.__init__ now sets {sorted(fields)}: RuntimeActor.__init__ must set the "
        f"same; {RECHECK}"
    )
    assert set(RuntimeActor.__slots__) == {*fields, "_needs_setup"}


def test_pykka_messages_envelopes_and_inboxes_keep_their_shape() -> None:
    from pykka._actor import ActorInbox
    from pykka._envelope import Envelope
    from pykka.messages import _ActorStop

    assert Envelope.__slots__ == ["message", "reply_to"], f"Envelope changed: {RECHECK}"
    assert _params(Envelope.__init__) == ["self", "message", "reply_to"], RECHECK
    assert isinstance(_ActorStop(), tuple), f"messages._ActorStop changed: {RECHECK}"
    inbox_methods = {n for n in vars(ActorInbox) if not n.startswith("_")}
    assert inbox_methods == {"put", "get", "empty"}, f"ActorInbox is now {inbox_methods}"
    assert type(pykka.ThreadingActor._create_actor_inbox()) is queue.Queue, RECHECK
    assert logging.getLogger("pykka") is pykka._actor.logger, (
        f"pykka no longer logs actor failures on the 'pykka' logger: {RECHECK}"
    )


def test_pykka_threading_future_is_what_call_future_replaces() -> None:
    from pykka._threading import ThreadingFutureResult

    from actorbot.sending import CallFuture

    assert ThreadingFutureResult._fields == ("value", "exc_info"), RECHECK
    assert set(vars(pykka.ThreadingFuture())) == {
        "_get_hook", "_get_hook_result", "_condition", "_result",
    }, f"ThreadingFuture's fields changed: {RECHECK}"  # fmt: skip
    # CallFuture has no _condition: every ThreadingFuture method that uses it is replaced.
    methods = {n for n, v in vars(pykka.ThreadingFuture).items() if callable(v)}
    assert methods <= set(vars(CallFuture)), (
        f"ThreadingFuture has methods CallFuture does not replace: "
        f"{sorted(methods - set(vars(CallFuture)))}; {RECHECK}"
    )
    assert _params(pykka.ThreadingFuture.set_exception) == ["self", "exc_info"], RECHECK


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
