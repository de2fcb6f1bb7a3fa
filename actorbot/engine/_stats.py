"""The engine's figures, defined once: name, kind, help text and where each is read.

``Engine.stats()``, the periodic ``engine.stats`` log event and the Prometheus collector
all walk :data:`STATS`, so a figure cannot be added to one and forgotten in another, nor
carry a different name or kind in each. Reading is a few attribute loads per figure:
``stats()`` runs per stats timer and per scrape, never per update.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from actorbot.errors import ConfigError
from actorbot.intake import PollerStats
from actorbot.journal import JournalStats
from actorbot.routing import RouterStats
from actorbot.runtime import InFlight
from actorbot.sending import SenderStats

Kind = Literal["counter", "gauge", "info"]
"""``counter``: only grows while the engine lives; ``gauge``: goes up and down; ``info``:
not one number but a string (a state) or counts by name, exported under a label."""

KINDS: Final[tuple[Kind, ...]] = ("counter", "gauge", "info")


@dataclass(frozen=True, slots=True)
class Parts:
    """What the figures are read from: each stage's own counters, taken once per read."""

    status: str
    router: RouterStats
    sender: SenderStats
    poller: PollerStats
    tracker: InFlight
    journal: JournalStats
    now: float
    """Wall-clock time (``time.time()``) of the read, for ages of Telegram dates."""
    coroutines: int = 0
    """Coroutines of ``async def`` hooks running on the event loop."""


@dataclass(frozen=True, slots=True)
class Stat:
    """One figure. ``label`` names the Prometheus label of an ``info`` figure's values, or
    of a counter read as counts by name (``sender_failed_by_error``)."""

    name: str
    kind: Kind
    help: str
    read: Callable[[Parts], Any]
    label: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"stat {self.name!r}: kind must be one of {KINDS}")
        if self.kind == "info" and self.label is None:
            raise ConfigError(f"stat {self.name!r}: an info figure needs a label")
        if self.kind == "gauge" and self.label is not None:
            raise ConfigError(f"stat {self.name!r}: a gauge has no label (use info)")


def _lag(parts: Parts) -> float | None:
    date = parts.router.last_update_date
    return None if date is None else max(parts.now - date, 0.0)


STATS: Final[tuple[Stat, ...]] = (
    Stat("status", "info", "The engine's status: 1 under its name.",
         lambda p: p.status, label="status"),
    Stat("handlers_alive", "gauge", "Live handler actors.", lambda p: p.router.alive),
    Stat("handlers_by_class", "info", "Live handler actors by class.",
         lambda p: dict(p.router.alive_by_class), label="handler"),
    Stat("spawned", "counter", "Handler actors started.", lambda p: p.router.spawned),
    Stat("passivated", "counter", "Handlers stopped after their idle timeout.",
         lambda p: p.router.passivated),
    Stat("closed", "counter", "Handlers that closed themselves.", lambda p: p.router.closed),
    Stat("failed", "counter", "Handlers stopped by an exception.", lambda p: p.router.failed),
    Stat("in_flight", "gauge", "Updates received and not yet handled.",
         lambda p: len(p.tracker)),
    Stat("passivating", "gauge", "Handlers draining before they stop.",
         lambda p: p.router.passivating),
    Stat("buffered", "gauge", "Updates held for a seed whose handler is being replaced.",
         lambda p: p.router.buffered),
    Stat("buffered_total", "counter", "Updates ever held for a handler being replaced.",
         lambda p: p.router.buffered_total),
    Stat("routed", "counter", "Updates the router routed (skipped and banned ones included).",
         lambda p: p.router.routed),
    Stat("skipped", "counter", "Updates no route wanted.", lambda p: p.router.skipped),
    Stat("malformed", "counter", "Updates that were not valid updates.",
         lambda p: p.router.malformed),
    Stat("dropped", "counter", "Updates dropped: their seed gave up, or the engine was stopping.",
         lambda p: p.router.dropped),
    Stat("banned", "counter", "Updates dropped because their sender is banned.",
         lambda p: p.router.banned),
    Stat("handled", "counter", "Updates every handler they reached finished with.",
         lambda p: p.tracker.finished),
    Stat("coroutines_running", "gauge", "Async hooks running now on the event loop.",
         lambda p: p.coroutines),
    Stat("hook_failures", "counter",
         "Exceptions from tolerated hooks (callback and inline queries).",
         lambda p: p.tracker.hook_failures),
    Stat("sender_queue", "gauge", "Outgoing calls waiting in the sender.",
         lambda p: p.sender.queued),
    Stat("sender_in_flight", "gauge", "Outgoing calls on the wire.",
         lambda p: p.sender.in_flight),
    Stat("sender_calls", "counter", "Outgoing calls completed.", lambda p: p.sender.calls),
    Stat("sender_failed", "counter", "Outgoing calls that ended in an error.",
         lambda p: p.sender.failed),
    Stat("sender_failed_by_error", "counter", "Outgoing calls that failed for good, by error.",
         lambda p: dict(p.sender.failed_by_error), label="error"),
    Stat("sender_retries", "counter", "Outgoing call retries.", lambda p: p.sender.retries),
    Stat("sender_rate_limited", "counter", "429 answers to outgoing calls.",
         lambda p: p.sender.rate_limited),
    Stat("sender_bucket_wait_s", "counter", "Seconds calls waited for rate-limit budget.",
         lambda p: round(p.sender.bucket_wait_s, 3)),
    Stat("polls", "counter", "getUpdates requests that succeeded.", lambda p: p.poller.polls),
    Stat("fetched", "counter", "Updates received from getUpdates.",
         lambda p: p.poller.fetched),
    Stat("poll_errors", "counter", "getUpdates requests that failed.",
         lambda p: p.poller.errors),
    Stat("poll_rate_limited", "counter", "429 answers to getUpdates.",
         lambda p: p.poller.rate_limited),
    Stat("poll_unreadable", "counter", "getUpdates answers that could not be read.",
         lambda p: p.poller.unreadable),
    Stat("poll_below_offset", "counter", "Fetched updates with an id below the offset.",
         lambda p: p.poller.below_offset),
    Stat("poll_journal_failures", "counter", "Fetched batches the journal failed to record.",
         lambda p: p.poller.journal_failures),
    Stat("update_lag_s", "gauge", "Seconds since the date of the newest routed update.", _lag),
    Stat("journal_pending", "gauge", "Updates recorded and not yet handled.",
         lambda p: p.journal.pending),
    Stat("duplicates", "counter", "Updates dropped as already seen.",
         lambda p: p.journal.duplicates),
    Stat("replayed", "counter", "Pending updates replayed at a start.",
         lambda p: p.journal.replayed),
    Stat("dead_letters", "gauge", "Parked updates the journal keeps.",
         lambda p: p.journal.dead_letters),
)


def read_stats(parts: Parts) -> dict[str, Any]:
    """Every figure of :data:`STATS`, by name, in table order."""
    return {stat.name: stat.read(parts) for stat in STATS}
