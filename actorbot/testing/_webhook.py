"""Webhook delivery: POST queued updates to the URL given to setWebhook, one at a time.

Only local ``http://`` URLs (127.0.0.1, localhost) are delivered to, so tests never reach
the network; with any other URL updates stay pending, as they would if Telegram could not
reach the bot. Like Telegram, an update is removed only after a 2xx answer; failures are
retried with backoff and shown in getWebhookInfo (``last_error_date``/``last_error_message``).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from typing import Final
from urllib.parse import urlsplit

from actorbot.testing._objects import now
from actorbot.testing._state import BotState

_LOCAL_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
_TIMEOUT: Final = 5.0
_BACKOFF_MIN: Final = 0.05
_BACKOFF_MAX: Final = 1.0


def is_local_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "") in _LOCAL_HOSTS


class WebhookDeliverer:
    """One thread that delivers updates while a local webhook is set."""

    def __init__(self, state: BotState, stop: threading.Event) -> None:
        self._state = state
        self._stop = stop
        self._thread: threading.Thread | None = None
        self._conn: http.client.HTTPConnection | None = None
        self._conn_url = ""
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fake-telegram-webhook", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        with self._lock:
            conn = self._conn
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout)
        self._close()

    def _close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _next(self) -> tuple[str, str | None, int, bytes] | None:
        st = self._state
        with st.lock:
            while True:
                if st.closing or self._stop.is_set():
                    return None
                url = st.webhook.url
                if url and is_local_http(url):
                    batch = st.collect(1)
                    if batch:
                        return url, st.webhook.secret_token, batch[0].seq, batch[0].data
                st.updates_cond.wait()

    def _run(self) -> None:
        failures = 0
        while (job := self._next()) is not None:
            url, secret, seq, data = job
            error = self._post(url, secret, data)
            st = self._state
            with st.lock:
                if error is None:
                    failures = 0
                    if st.queue and st.queue[0].seq == seq:
                        st.queue.popleft()
                        st.confirmed_offset = max(st.confirmed_offset, seq + 1)
                    st.stats["webhook_delivered"] += 1
                    st.changed.notify_all()
                    continue
                failures += 1
                st.webhook.last_error_date = now()
                st.webhook.last_error_message = error
                st.stats["webhook_failed"] += 1
                st.changed.notify_all()
            if self._stop.wait(min(_BACKOFF_MAX, _BACKOFF_MIN * 2 ** (failures - 1))):
                return

    def _post(self, url: str, secret: str | None, data: bytes) -> str | None:
        """POST one update; None on a 2xx answer, else Telegram-like error text."""
        parts = urlsplit(url)
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        try:
            with self._lock:
                if self._conn is None or self._conn_url != url:
                    if self._conn is not None:
                        self._conn.close()
                    self._conn = http.client.HTTPConnection(
                        parts.hostname or "127.0.0.1", parts.port or 80, timeout=_TIMEOUT
                    )
                    self._conn_url = url
                conn = self._conn
            conn.request("POST", target, body=data, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.will_close:
                self._close()
        except (OSError, http.client.HTTPException) as exc:
            self._close()
            return f"Connection error: {exc.__class__.__name__}"
        if 200 <= response.status < 300:
            return None
        return f"Wrong response from the webhook: {response.status} {response.reason}"
