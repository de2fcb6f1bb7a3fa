"""What runs beside the stages for the engine's lifetime: components and server tasks.

A component (the Mini App websocket server, a set of background jobs) is started on the
engine's event loop after every stage is up, and stopped before any stage stops, so while
it runs it may feed updates, dispatch events and call the Bot API; it needs no thread of
its own. The engine owns the loop (or uses the application's, see ``start_async``).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import structlog

from actorbot.errors import ConfigError

if TYPE_CHECKING:
    from actorbot.engine._engine import Engine

log = structlog.get_logger("actorbot.engine")

Job = Callable[["Engine"], Awaitable[None]]
"""A server task: ``async def job(engine) -> None``, run for the engine's lifetime."""


@runtime_checkable
class Component(Protocol):
    """Something the engine starts after its stages and stops before them, on its loop."""

    name: str

    async def start(self, engine: Engine) -> None:
        """Begin; a raise here makes ``Engine.start`` fail (after stopping the engine)."""

    async def stop(self, timeout: float) -> None:
        """End within ``timeout`` seconds; the stages are still running meanwhile."""


class ServerTasks:
    """User coroutines that run while the engine runs: periodic jobs, external feeds.

    Each ``job(engine)`` starts once every stage is up and is cancelled when the engine
    stops, before any stage stops. A job that raises is logged (``engine.task_failed``)
    and not restarted; the engine goes on. Write a periodic job as a loop with
    ``await asyncio.sleep(interval)``; never block in one (it shares the event loop).
    """

    name = "server tasks"

    def __init__(self, *jobs: Job) -> None:
        for job in jobs:
            if not inspect.iscoroutinefunction(job):
                raise ConfigError(f"a server task is an 'async def job(engine)', not {job!r}")
        self.jobs = list(jobs)
        self.tasks: list[asyncio.Task[None]] = []

    def __repr__(self) -> str:
        return f"ServerTasks({', '.join(_name(job) for job in self.jobs)})"

    async def start(self, engine: Engine) -> None:
        self.tasks = [asyncio.get_running_loop().create_task(self._run(job, engine),
                                                               name=_name(job))
                      for job in self.jobs]

    async def _run(self, job: Job, engine: Engine) -> None:
        try:
            await job(engine)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("engine.task_failed", task=_name(job), error=type(exc).__name__,
                      exc_info=exc)
        else:
            log.info("engine.task_finished", task=_name(job))

    async def stop(self, timeout: float) -> None:
        tasks, self.tasks = self.tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                log.warning("engine.stop_timeout", stage="server task", task=task.get_name())


def _name(job: Any) -> str:
    return str(getattr(job, "__qualname__", None) or repr(job))
