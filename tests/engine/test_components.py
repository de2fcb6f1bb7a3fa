"""Components and server tasks: started on the engine's loop after the stages, stopped
before them; a failing task is logged, not fatal."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from structlog.testing import capture_logs

from actorbot import Engine, Route, UserHandler
from actorbot.engine import ServerTasks
from actorbot.errors import ConfigError, StateError
from actorbot.seeds import per_from_id
from actorbot.testing import FakeBotApi
from tests.helpers import make_engine

pytestmark = pytest.mark.usefixtures("no_thread_left")


class Counter(UserHandler):
    def on_ask(self, message: Any) -> Any:
        return message


ROUTES = [Route(per_from_id(), Counter, name="users")]


def test_tasks_run_while_the_engine_runs_and_a_failure_is_not_fatal(tg: FakeBotApi) -> None:
    seen: list[str] = []
    ticked = threading.Event()
    cancelled = threading.Event()

    async def ticker(engine: Engine) -> None:
        assert engine.running  # started after every stage
        try:
            while True:
                seen.append(await engine.ask("users", 1, "tick"))
                ticked.set()
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            assert engine.status == "stopping"  # cancelled before any stage stopped
            cancelled.set()
            raise

    async def broken(engine: Engine) -> None:
        raise RuntimeError("feed unreachable")

    engine = make_engine(tg, ROUTES, components=[ServerTasks(ticker, broken)])
    with capture_logs() as logs, engine:
        assert ticked.wait(20)
    assert cancelled.is_set()
    assert seen
    assert set(seen) == {"tick"}
    failures = [e for e in logs if e["event"] == "engine.task_failed"]
    assert [(e["task"], e["error"]) for e in failures] == [
        ("test_tasks_run_while_the_engine_runs_and_a_failure_is_not_fatal.<locals>.broken",
         "RuntimeError")]
    assert engine.status == "stopped"


def test_components_are_checked_and_added_only_while_stopped(tg: FakeBotApi) -> None:
    def not_async(engine: Engine) -> None:
        pass

    with pytest.raises(ConfigError, match="async def"):
        ServerTasks(not_async)  # type: ignore[arg-type]
    engine = make_engine(tg, ROUTES)
    with pytest.raises(TypeError, match="component"):
        engine.add(object())  # type: ignore[arg-type]
    with engine, pytest.raises(StateError, match="before start"):
        engine.add(ServerTasks())


def test_a_component_that_fails_to_start_fails_start_and_stops_the_engine(
    tg: FakeBotApi,
) -> None:
    class Broken:
        name = "broken"

        async def start(self, engine: Engine) -> None:
            raise OSError("port taken")

        async def stop(self, timeout: float) -> None:
            pass

    engine = make_engine(tg, ROUTES, components=[Broken()])
    with pytest.raises(OSError, match="port taken"):
        engine.start()
    assert engine.status == "stopped"


def test_components_run_on_the_applications_loop_with_start_async(tg: FakeBotApi) -> None:
    loops: list[Any] = []

    async def where(engine: Engine) -> None:
        loops.append(asyncio.get_running_loop())

    async def main() -> None:
        engine = make_engine(tg, ROUTES, components=[ServerTasks(where)])
        async with engine:
            assert await engine.ask("users", 5, "hi") == "hi"
        assert loops == [asyncio.get_running_loop()]

    asyncio.run(main())
