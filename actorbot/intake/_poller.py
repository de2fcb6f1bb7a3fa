"""The poller actor: long-polls ``getUpdates`` and hands each batch to the router.

It owns its own :class:`~actorbot.api.Client` (its own connection pool: a long poll must
never wait behind sends, nor sends behind it), drives itself one fetch per message, and
reacts to each failure as Telegram asks (errors.json): 401/404/logged out stop it with a
clear error; 409 names the webhook or the other poller; 429 waits ``retry_after``;
5xx and network errors back off exponentially with jitter. An answer that cannot be
read (not JSON, not a list of updates, or a local error such as RecursionError while
decoding it) is counted in ``unreadable``, backed off, and after
``Polling.unreadable_retries`` in a row stops polling with a clear error: retrying an
answer the bot cannot read would otherwise spin forever. Every wait is interruptible by
:meth:`Poller.stop_fetching`, and no wait is a busy loop.

Backpressure: before each fetch it waits while the updates in flight reach
``max_in_flight``, so a slow bot stops fetching instead of piling up memory.

No loss: each batch is recorded in the journal before the next ``getUpdates`` (whose
offset confirms the batch to Telegram) is sent; if recording fails, the offset stays and
Telegram sends the batch again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pykka
import structlog

from actorbot.api import Client
from actorbot.errors import (
    ApiError,
    Conflict,
    InvalidResponse,
    LoggedOut,
    NotFound,
    PollingStopped,
    RetryAfter,
    TelegramError,
    Unauthorized,
)
from actorbot.intake._settings import Polling
from actorbot.journal import Journal, Keep
from actorbot.routing import Batch
from actorbot.runtime import InFlight

log = structlog.get_logger("actorbot.poller")


@dataclass
class PollerStats:
    polls: int = 0
    fetched: int = 0
    errors: int = 0
    rate_limited: int = 0
    unreadable: int = 0
    """getUpdates answers that could not be read (also counted in ``errors``)."""
    below_offset: int = 0
    """Updates in a batch with an id below the offset asked for (handed to the journal,
    which drops those it has seen)."""
    journal_failures: int = 0
    """Batches the journal failed to record (retried; also counted in ``errors``)."""
    last_error: str | None = None


class _Poll:
    """Self-message: fetch once more."""


class Poller(pykka.ThreadingActor):
    """See the module docstring. ``offset`` is the next update_id to ask for."""

    def __init__(
        self,
        client: Client,
        router: pykka.ActorRef[Any],
        tracker: InFlight,
        settings: Polling | None = None,
        *,
        max_in_flight: int = 1000,
        on_fatal: Callable[[PollingStopped], None] | None = None,
        journal: Journal | None = None,
        keep: Keep | None = None,
        offset: int | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.router = router
        self.tracker = tracker
        self.settings = settings = settings or Polling()
        self.timeout = settings.timeout
        self.limit = settings.limit
        types = settings.allowed_updates
        self.allowed_updates = list(types) if types is not None else None
        self.max_in_flight = max_in_flight
        self.backoff = settings.backoff
        self.conflict_retries = settings.conflict_retries
        self.unreadable_retries = settings.unreadable_retries
        self.on_fatal = on_fatal
        self.journal = journal
        self.keep = keep
        self.offset: int | None = offset
        self.stats = PollerStats()
        self.on_state: Callable[[str, BaseException | None], None] | None = None
        """Told ``("connected", None)`` at the first getUpdates that succeeds (after start
        or after errors) and ``("retrying", error)`` for each failure it will retry."""
        self._connected = False
        self._stopping = threading.Event()
        self._failures = 0
        self._conflicts = 0
        self._unreadable = 0

    def on_start(self) -> None:
        self.actor_ref.tell(_Poll())

    def stop_fetching(self) -> None:
        """Called from another thread: no new fetch starts, waits end now."""
        self._stopping.set()
        self.tracker.poke()  # ends a backpressure wait

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, _Poll) and not self.stopping and self._poll_once():
            self.actor_ref.tell(_Poll())
        return None

    def _poll_once(self) -> bool:
        """One fetch; False once polling must stop for good."""
        if not self.tracker.wait_below(self.max_in_flight, cancelled=self._stopping.is_set):
            return False  # stopping
        params: dict[str, Any] = {"offset": self.offset, "timeout": self.timeout,
                                  "limit": self.limit, "allowed_updates": self.allowed_updates}
        try:
            batch = self.client.request("getUpdates", params)
        except InvalidResponse as exc:
            return self._unreadable_answer(exc)
        except TelegramError as exc:
            return self._on_error(exc)
        except Exception as exc:  # noqa: BLE001 - local, e.g. RecursionError: never spin
            return self._unreadable_answer(exc)
        self.stats.polls += 1
        self._conflicts = 0
        if not isinstance(batch, list):
            return self._unreadable_answer(InvalidResponse(
                200, f"getUpdates result is a {type(batch).__name__}, not a list",
                method="getUpdates"))
        self._failures = 0
        self._unreadable = 0
        self._report("connected", None)
        if batch:
            return self._hand_over(batch)
        return True

    def _hand_over(self, batch: list[Any]) -> bool:
        ids = [u["update_id"] for u in batch
               if isinstance(u, dict) and type(u.get("update_id")) is int]
        newest = max(ids, default=None)
        if newest is None:
            return self._no_progress(batch)  # nothing here can move the offset
        offset = self.offset
        restarted = offset is not None and newest < offset
        fresh = batch
        if restarted:
            # Telegram starts from a random update_id after a week without updates: a new
            # sequence, not old news (the journal still drops true duplicates).
            log.warning("poller.new_sequence", offset=offset, newest=newest)
        elif offset is not None:
            below = sum(
                1 for u in batch if isinstance(u, dict) and type(u.get("update_id")) is int
                and u["update_id"] < offset)
            if below:
                # Not dropped: the journal tells true duplicates from late newcomers.
                self.stats.below_offset += below
                log.warning("poller.below_offset", offset=offset, updates=below)
        if self.journal is not None:
            try:
                fresh = self.journal.record(fresh, offset=newest + 1, keep=self.keep)
            except Exception as exc:
                self.stats.errors += 1
                self.stats.journal_failures += 1
                self.stats.last_error = type(exc).__name__
                log.error("poller.journal_failed", error=f"{type(exc).__name__}: {exc}",
                          batch_size=len(batch), exc_info=exc)
                self._report("retrying", exc)  # not "connected": nothing gets through
                return self._wait(self._next_backoff())
        if restarted and not fresh:
            return self._no_progress(batch)  # the same old updates again: don't spin
        self.offset = newest + 1
        self.stats.fetched += len(fresh)
        if fresh:
            self.tracker.admit(len(fresh))
            self.router.tell(Batch(fresh))
        return True

    def _no_progress(self, batch: list[Any]) -> bool:
        self.stats.errors += 1
        log.warning("poller.no_progress", batch_size=len(batch), offset=self.offset)
        return self._wait(self._next_backoff())

    def _unreadable_answer(self, exc: Exception) -> bool:
        stats = self.stats
        stats.errors += 1
        stats.unreadable += 1
        stats.last_error = type(exc).__name__
        self._unreadable += 1
        if self._unreadable > self.unreadable_retries:
            return self._fatal(
                f"{self._unreadable} getUpdates answers in a row could not be read "
                f"(last: {type(exc).__name__}): is base_url a Bot API server?", exc)
        delay = self._next_backoff()
        log.error("poller.unreadable", error=type(exc).__name__, attempt=self._unreadable,
                  retry_in=round(delay, 3))
        self._report("retrying", exc)
        return self._wait(delay)

    def _on_error(self, exc: TelegramError) -> bool:
        stats = self.stats
        stats.errors += 1
        stats.last_error = type(exc).__name__
        if isinstance(exc, Conflict):
            if self.stopping:
                return False  # our own stop ended the long poll
            if "webhook" in exc.description.lower():
                return self._fatal(
                    "a webhook is set for this bot: delete it (deleteWebhook; "
                    "Engine(delete_webhook=True) does it at start) to poll, or run the "
                    "engine in webhook mode (webhook=Webhook(...))", exc)
            self._conflicts += 1
            if self._conflicts > self.conflict_retries:
                return self._fatal(
                    "another getUpdates poller keeps running for this bot (another instance "
                    "of this program?): only one may poll", exc)
            log.warning("poller.error", error="Conflict", description=exc.description,
                        attempt=self._conflicts)
            self._report("retrying", exc)
            return self._wait(self._next_backoff())
        if isinstance(exc, Unauthorized | LoggedOut | NotFound):
            return self._fatal(f"the Bot API refused the token or URL ({exc.description})", exc)
        if isinstance(exc, RetryAfter):
            stats.rate_limited += 1
            log.warning("poller.rate_limited", retry_after=exc.retry_after)
            self._report("retrying", exc)
            return self._wait(float(exc.retry_after))
        delay = self._next_backoff()
        fields: dict[str, Any] = {"error": type(exc).__name__, "retry_in": round(delay, 3)}
        if isinstance(exc, ApiError):
            fields["error_code"] = exc.error_code
        log.warning("poller.error", **fields)
        self._report("retrying", exc)
        return self._wait(delay)

    def _report(self, state: str, error: BaseException | None) -> None:
        if state == "connected":
            if self._connected:
                return  # only the transition is news
            self._connected = True
        else:
            self._connected = False
        if self.on_state is not None:
            self.on_state(state, error)

    def _next_backoff(self) -> float:
        self._failures += 1
        return self.backoff.delay(self._failures)

    def _wait(self, seconds: float) -> bool:
        return not self._stopping.wait(seconds)

    def _fatal(self, message: str, cause: BaseException) -> bool:
        error = PollingStopped(message, cause)
        log.error("poller.error", fatal=True, error=type(cause).__name__, reason=message)
        if self.on_fatal is not None:
            self.on_fatal(error)
        return False


def confirm_offset(client: Client, offset: int | None) -> None:
    """A short ``getUpdates`` at ``offset``: it confirms every update below ``offset``, and
    ends a pending long poll at once (Telegram answers the older request with 409). With
    the poller's own offset it confirms nothing new, so it is also the interrupt."""
    try:
        client.request("getUpdates", {"offset": offset, "timeout": 0, "limit": 1})
    except Exception as exc:  # noqa: BLE001 - called while stopping: stopping must go on
        log.warning("poller.confirm_failed", offset=offset, error=type(exc).__name__)
