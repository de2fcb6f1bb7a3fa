"""Updates from any other source (a queue, a message-broker consumer) into the engine.

telepot's ``message_loop(source=queue)`` as a small adapter: one thread drains the source
into a sink, typically ``engine.feed`` or a :class:`~actorbot.intake.Reorderer` in front of
it. The thread is joined by :meth:`QueueSource.stop`; nothing is left behind.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Self

import structlog

from actorbot.errors import StateError

log = structlog.get_logger("actorbot.source")


class _Stop:
    """The marker :meth:`QueueSource.stop` queues; each source has its own."""

    __slots__ = ()


class QueueSource:
    """Feeds every update of ``source`` to ``sink``, in order, on one thread.

    ``source`` is a :class:`queue.Queue` (``stop()`` queues a marker: what was queued
    before it is still fed) or any iterable (the thread ends when it is exhausted;
    ``stop()`` takes effect when the next item arrives, which is then kept in
    ``unhandled``). If ``sink`` raises (the engine stopped...), the thread stops, the
    exception is kept in ``error`` and the update it failed on in ``unhandled``: the
    source can take it back, nothing is dropped silently. An iterable that raises ends the
    thread the same way (``error`` set, ``unhandled`` None).
    """

    def __init__(
        self,
        source: queue.Queue[Any] | Iterable[Any],
        sink: Callable[[Any], object],
        *,
        name: str = "actorbot-source",
    ) -> None:
        self.source = source
        self.sink = sink
        self.name = name
        self.fed = 0
        self.error: Exception | None = None
        self.unhandled: Any = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._marker = _Stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"QueueSource(name={self.name!r}, {state}, fed={self.fed})"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        if self._thread is not None:
            raise StateError("a QueueSource runs once")
        self._thread = threading.Thread(target=self._run, name=self.name)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> bool:
        """Stop the thread (see the class docstring); True once it has ended."""
        if not self._stopping.is_set():
            self._stopping.set()
            ended = self._thread is not None and not self.running
            if isinstance(self.source, queue.Queue) and not ended:  # no stale marker
                self.source.put(self._marker)
        return self.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _items(self) -> Iterator[Any]:
        if not isinstance(self.source, queue.Queue):
            yield from self.source
            return
        while (item := self.source.get()) is not self._marker:
            if not isinstance(item, _Stop):  # left by a source that had already ended
                yield item

    def _run(self) -> None:
        try:
            self._feed()
        except Exception as exc:  # noqa: BLE001 - the source itself failed: kept in .error
            self.error = exc
            log.warning("source.failed", source=self.name, error=type(exc).__name__)

    def _feed(self) -> None:
        for update in self._items():
            if self._stopping.is_set() and not isinstance(self.source, queue.Queue):
                self.unhandled = update
                return
            try:
                self.sink(update)
            except Exception as exc:  # noqa: BLE001 - kept in .error with the update
                self.error, self.unhandled = exc, update
                log.warning("source.stopped", source=self.name, error=type(exc).__name__)
                return
            self.fed += 1
