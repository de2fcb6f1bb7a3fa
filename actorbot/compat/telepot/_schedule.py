"""Events a delegate schedules for itself (telepot 12's ``self.scheduler``), on the engine's clock.

telepot kept one scheduler thread per bot and sent every event through the bot's
``handle``, to be routed back by ``per_event_source_id``. Here an event goes straight
back to the handler actor of the delegate that scheduled it, on the engine's one clock;
an event whose delegate has ended meanwhile is dropped.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from actorbot.compat.telepot.exception import EventNotFound

if TYPE_CHECKING:
    from actorbot.compat.telepot._listen import Listener
    from actorbot.runtime import Clock


class Event:
    """A scheduled event: ``cancel`` it through the scheduler that made it."""

    __slots__ = ("_timer", "data", "timestamp")

    def __init__(self, timestamp: float, data: Any, timer: Any) -> None:
        self.timestamp = timestamp
        self.data = data
        self._timer = timer


class EventScheduler:
    """telepot's ``StandardEventScheduler``: events are ``{'_flavor': {'source': ..., ...}}``."""

    def __init__(
        self,
        clock: Clock,
        emit: Callable[[Any], None],
        event_space: Any = None,
        source_id: Any = None,
    ) -> None:
        self._clock = clock
        self._emit = emit
        self._event_space = event_space
        self._source_id = source_id
        self._pending: set[Event] = set()
        self._lock = threading.Lock()

    def standard(self, event_space: Any, source_id: Any) -> EventScheduler:
        """The same scheduler, stamping events with a source as telepot 12 did."""
        return EventScheduler(self._clock, self._emit, event_space, source_id)

    @property
    def event_space(self) -> Any:
        return self._event_space

    def configure(self, listener: Listener) -> None:
        """Make ``listener`` capture this scheduler's events."""
        source = {"space": self._event_space, "id": self._source_id}
        listener.capture([{re.compile("^_.+"): {"source": source}}])

    def make_event_data(self, flavor: str, data: dict[str, Any]) -> dict[str, Any]:
        if not flavor.startswith("_"):
            raise ValueError("Event flavor must start with _underscore")
        body = {"source": {"space": self._event_space, "id": self._source_id}, **data}
        return {flavor: body}

    def _data(self, data: Any) -> Any:
        if self._event_space is None or not isinstance(data, tuple):
            return data
        return self.make_event_data(*data)

    def event_at(self, when: float, data: Any) -> Event:
        """Emit ``data`` (a ``(flavor, dict)`` pair for standard events) at ``when`` (epoch)."""
        return self.event_later(when - time.time(), data)

    def event_later(self, delay: float, data: Any) -> Event:
        payload = self._data(data)
        event = Event(time.time() + delay, payload, None)
        with self._lock:
            self._pending.add(event)
            event._timer = self._clock.call_later(max(delay, 0.0), self._fire, event)
        return event

    def event_now(self, data: Any) -> Event:
        return self.event_later(0.0, data)

    def cancel(self, event: Event) -> None:
        with self._lock:
            if event not in self._pending:
                raise EventNotFound(event)
            self._pending.discard(event)
        event._timer.cancel()

    def cancel_all(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, set()
        for event in pending:
            event._timer.cancel()

    def _fire(self, event: Event) -> None:
        with self._lock:
            if event not in self._pending:
                return
            self._pending.discard(event)
        self._emit(event.data)
