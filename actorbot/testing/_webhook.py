"""Webhook delivery: POST queued updates to the URL given to setWebhook, like Telegram.

Telegram opens up to ``max_connections`` connections to the webhook and sends updates in
parallel, but one at a time per chat (or per user, for updates without a chat): the next
update of a chat goes out only after the previous one got a 2xx answer. A failed update
is retried with growing delays and blocks only its own chat. The fake does the same with
one dispatcher thread (the only one that scans the queue, so waking it is cheap) and up to
``max_connections`` worker threads, each with one keep-alive connection.

Only local ``http://`` URLs (127.0.0.1, localhost) are delivered to, so tests never reach
the network; with any other URL updates stay pending, as they would if Telegram could not
reach the bot. An update is removed only after a 2xx answer; failures show in
getWebhookInfo (``last_error_date``/``last_error_message``).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from actorbot.runtime import Backoff
from actorbot.testing._objects import now
from actorbot.testing._state import BotState, _Queued
from actorbot.updates import chat_id, user_id

_LOCAL_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
_TIMEOUT: Final = 5.0
#: Short and without jitter: tests of webhook retries should not wait long nor randomly.
RETRY_BACKOFF: Final = Backoff(initial=0.05, maximum=1.0, jitter=False)
#: Updates looked at per scan, per connection: Telegram too keeps only a window in memory.
_WINDOW_PER_CONNECTION: Final = 10
_WINDOW_MIN: Final = 100


def is_local_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "") in _LOCAL_HOSTS


def delivery_key(update: Any) -> Hashable:
    """Updates with the same key are delivered one at a time, in order."""
    key = chat_id(update)
    if key is None:
        key = user_id(update)
    return ("chat", key) if key is not None else ("other", None)


@dataclass(slots=True)
class _Job:
    url: str
    secret: str | None
    item: _Queued
    key: Hashable


class _Connection:
    """One worker's keep-alive connection to the webhook."""

    def __init__(self) -> None:
        self.conn: http.client.HTTPConnection | None = None
        self.url = ""
        self.opened = 0  # connections this worker opened (connection churn shows here)

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()

    def interrupt(self) -> None:
        conn = self.conn
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    def post(self, url: str, secret: str | None, data: bytes) -> str | None:
        """POST one update; None on a 2xx answer, else Telegram-like error text."""
        parts = urlsplit(url)
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        try:
            if self.conn is None or self.url != url:
                self.close()
                self.conn = http.client.HTTPConnection(
                    parts.hostname or "127.0.0.1", parts.port or 80, timeout=_TIMEOUT
                )
                self.url = url
                self.opened += 1
            self.conn.request("POST", target, body=data, headers=headers)
            response = self.conn.getresponse()
            response.read()
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return f"Connection error: {exc.__class__.__name__}"
        if 200 <= response.status < 300:
            return None
        return f"Wrong response from the webhook: {response.status} {response.reason}"


class WebhookDeliverer:
    """Delivers updates while a local webhook is set; every thread is joined by stop()."""

    def __init__(self, state: BotState, stop: threading.Event) -> None:
        self._state = state
        self._stop = stop
        self._jobs: deque[_Job] = deque()
        self._jobs_cond = threading.Condition(state.lock)  # wakes idle workers
        self._busy: set[Hashable] = set()  # keys with a POST in flight
        self._failures: dict[Hashable, int] = {}
        self._retry_at: dict[Hashable, float] = {}
        self._threads: list[threading.Thread] = []
        self._connections: list[_Connection] = []
        self._idle = 0  # workers without a job
        self._posting = 0  # POSTs in flight

    def start(self) -> None:
        self._spawn(self._dispatch, "fake-telegram-webhook")

    def stop(self, timeout: float) -> None:
        """Interrupt POSTs in flight and join every thread (the stop event is already set)."""
        with self._state.lock:
            self._state.updates_cond.notify_all()
            self._jobs_cond.notify_all()
            threads = list(self._threads)
            for conn in self._connections:
                conn.interrupt()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _stopping(self) -> bool:
        return self._state.closing or self._stop.is_set()

    # -- the dispatcher: finds deliverable updates, hands them to workers ------------------

    def _dispatch(self) -> None:
        st = self._state
        with st.lock:
            while not self._stopping():
                wait: float | None = None
                url = st.webhook.url
                if url and is_local_http(url):
                    wait = self._assign(url)
                st.updates_cond.wait(wait)

    def _assign(self, url: str) -> float | None:
        """Queue a job for each chat that may send now; the seconds until a retry is due."""
        st = self._state
        limit = st.webhook.max_connections
        free = limit - len(self._busy)
        window = max(_WINDOW_MIN, _WINDOW_PER_CONNECTION * limit)
        clock = time.monotonic()
        wait: float | None = None
        seen: set[Hashable] = set()
        dropped: list[_Queued] = []
        for index, item in enumerate(st.queue):
            if free <= 0 or index >= window:
                break
            if not st._deliverable(item.kind):
                dropped.append(item)
                continue
            key = delivery_key(item.obj)
            if key in seen:
                continue
            seen.add(key)  # a chat's later updates wait for this one
            if key in self._busy:
                continue
            due = self._retry_at.get(key, 0.0) - clock
            if due > 0:
                wait = due if wait is None else min(wait, due)
                continue
            self._busy.add(key)
            self._jobs.append(_Job(url, st.webhook.secret_token, item, key))
            free -= 1
        for item in dropped:
            st.queue.remove(item)
            st.stats["updates_filtered"] += 1
        if self._jobs:
            missing = min(len(self._jobs) - self._idle, limit - (len(self._threads) - 1))
            for _ in range(missing):
                self._idle += 1  # counted from its start, so the next scan spawns no twin
                self._spawn(self._work, f"fake-telegram-webhook-{len(self._threads)}")
            self._jobs_cond.notify(len(self._jobs))
        return wait

    # -- workers: one POST at a time each --------------------------------------------------

    def _work(self) -> None:
        conn = _Connection()
        with self._state.lock:
            self._connections.append(conn)
        try:
            while (job := self._take()) is not None:
                opened = conn.opened
                error = conn.post(job.url, job.secret, job.item.data)
                self._done(job, error, conn.opened - opened)
        finally:
            conn.close()

    def _take(self) -> _Job | None:
        with self._state.lock:
            while not self._stopping():
                if self._jobs:
                    self._idle -= 1
                    self._posting += 1
                    stats = self._state.stats
                    stats["webhook_max_parallel"] = max(
                        stats["webhook_max_parallel"], self._posting
                    )
                    return self._jobs.popleft()
                self._jobs_cond.wait()
            return None

    def _done(self, job: _Job, error: str | None, opened: int) -> None:
        st = self._state
        with st.lock:
            if opened:
                st.stats["webhook_connections"] += opened
            self._busy.discard(job.key)
            self._idle += 1
            self._posting -= 1
            if error is None:
                self._failures.pop(job.key, None)
                self._retry_at.pop(job.key, None)
                with contextlib.suppress(ValueError):  # dropped meanwhile (drop_pending)
                    st.queue.remove(job.item)
                first = st.queue[0].seq if st.queue else st.next_seq
                st.confirmed_offset = max(st.confirmed_offset, first)
                st.stats["webhook_delivered"] += 1
            else:
                failures = self._failures[job.key] = self._failures.get(job.key, 0) + 1
                self._retry_at[job.key] = time.monotonic() + RETRY_BACKOFF.delay(failures)
                st.webhook.last_error_date = now()
                st.webhook.last_error_message = error
                st.stats["webhook_failed"] += 1
            st.updates_cond.notify_all()  # the dispatcher looks again
            st.changed.notify_all()
