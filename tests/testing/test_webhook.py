"""Webhook delivery to a local receiver: order, secret header, retries, errors."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from actorbot.testing import FakeBotApi
from actorbot.testing._webhook import RETRY_BACKOFF, delivery_key, is_local_http
from tests.testing.fake_helpers import Api


class Receiver(ThreadingHTTPServer):
    """Collects webhook POSTs; answers 500 to the first ``fail`` of them.

    ``gate(update)`` runs before each answer (outside the lock); False answers 500.
    ``active`` counts requests being answered, overall and per chat, with their peaks.
    """

    daemon_threads = False  # server_close() joins the request threads

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[tuple[dict[str, Any], str | None]] = []
        self.fail = 0
        self.lock = threading.Lock()
        self.gate: Callable[[dict[str, Any]], bool] | None = None
        self.active: Counter[int | None] = Counter()
        self.peak: Counter[int | None] = Counter()  # key None: all chats together

    def enter(self, chat: int | None) -> None:
        with self.lock:
            for key in (chat, None):
                self.active[key] += 1
                self.peak[key] = max(self.peak[key], self.active[key])

    def leave(self, chat: int | None) -> None:
        with self.lock:
            self.active[chat] -= 1
            self.active[None] -= 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        update = json.loads(body)
        chat = update.get("message", {}).get("chat", {}).get("id")
        self.server.enter(chat)
        gate = self.server.gate
        passed = gate is None or gate(update)
        self.server.leave(chat)
        with self.server.lock:
            failing = self.server.fail > 0 or not passed
            self.server.fail -= 1
            if not failing:
                secret = self.headers.get("X-Telegram-Bot-Api-Secret-Token")
                self.server.received.append((json.loads(body), secret))
        self.send_response(500 if failing else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    srv = Receiver()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield srv
    srv.shutdown()
    thread.join()
    srv.server_close()


def test_updates_are_delivered_in_order_with_the_secret(
    tg: FakeBotApi, api: Api, receiver: Receiver
) -> None:
    first = tg.inject_message(1, "queued before the webhook")
    assert api("setWebhook", url=receiver.url, secret_token="abc_123").ok
    second = tg.inject_message(1, "after")
    assert tg.wait_for(lambda: len(receiver.received) == 2, timeout=10)
    assert receiver.received == [(first, "abc_123"), (second, "abc_123")]
    assert tg.wait_for(lambda: tg.pending_update_count == 0, timeout=10)
    assert tg.confirmed_offset == second["update_id"] + 1
    assert tg.stats["webhook_delivered"] == 2


def test_failed_deliveries_are_retried_and_reported(
    tg: FakeBotApi, api: Api, receiver: Receiver
) -> None:
    receiver.fail = 2
    update = tg.inject_message(1, "retry me")
    assert api("setWebhook", url=receiver.url).ok
    assert tg.wait_for(lambda: tg.stats.get("webhook_failed", 0) >= 1, timeout=10)
    info = api("getWebhookInfo").json()["result"]
    assert (
        info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    )
    assert isinstance(info["last_error_date"], int)
    assert tg.wait_for(lambda: len(receiver.received) == 1, timeout=10)
    assert receiver.received[0] == (update, None)
    assert tg.stats["webhook_failed"] == 2


def test_unreachable_webhook_keeps_updates_pending(tg: FakeBotApi, api: Api) -> None:
    with socket_port() as port:
        pass  # the port is closed again: nobody listens
    assert api("setWebhook", url=f"http://127.0.0.1:{port}/hook").ok
    tg.inject_message(1, "nobody home")
    assert tg.wait_for(lambda: tg.stats.get("webhook_failed", 0) >= 1, timeout=10)
    assert tg.pending_update_count == 1
    info = api("getWebhookInfo").json()["result"]
    assert info["last_error_message"].startswith("Connection error")


def test_delete_webhook_stops_delivery_and_polling_resumes(
    tg: FakeBotApi, api: Api, receiver: Receiver
) -> None:
    assert api("setWebhook", url=receiver.url).ok
    tg.inject_message(1, "one")
    assert tg.wait_for(lambda: len(receiver.received) == 1, timeout=10)
    assert api("deleteWebhook").ok
    later = tg.inject_message(1, "two")
    assert api("getUpdates").json()["result"] == [later]
    assert len(receiver.received) == 1


def test_remote_webhooks_are_never_contacted(tg: FakeBotApi, api: Api) -> None:
    assert api("setWebhook", url="https://example.org/hook").ok
    tg.inject_message(1, "stays")
    assert not tg.wait_for(lambda: tg.pending_update_count != 1, timeout=0.2)
    assert "webhook_failed" not in tg.stats


def test_delivery_can_be_disabled(api: Api, receiver: Receiver) -> None:
    with FakeBotApi(deliver_webhooks=False) as tg, requests.Session() as s:
        s.post(f"{tg.api_url}/setWebhook", json={"url": receiver.url})
        tg.inject_message(1, "x")
        assert not tg.wait_for(lambda: tg.pending_update_count == 0, timeout=0.2)
    assert receiver.received == []


def texts(receiver: Receiver, chat: int | None = None) -> list[str]:
    with receiver.lock:
        return [u["message"]["text"] for u, _ in receiver.received
                if chat is None or u["message"]["chat"]["id"] == chat]


def test_chats_are_delivered_in_parallel_up_to_max_connections(
    tg: FakeBotApi, api: Api, receiver: Receiver
) -> None:
    barrier = threading.Barrier(4, timeout=10)  # breaks unless 4 POSTs are open at once
    receiver.gate = lambda update: barrier.wait() >= 0
    for chat in range(1, 9):
        tg.inject_message(chat, f"to {chat}")
    assert api("setWebhook", url=receiver.url, max_connections=4).ok
    assert tg.wait_for(lambda: len(receiver.received) == 8, timeout=20)
    assert receiver.peak[None] == 4
    assert tg.stats["webhook_max_parallel"] == 4
    assert "webhook_failed" not in tg.stats
    assert sorted(texts(receiver)) == sorted(f"to {chat}" for chat in range(1, 9))


def test_one_update_at_a_time_per_chat_in_order(
    tg: FakeBotApi, api: Api, receiver: Receiver
) -> None:
    hold = threading.Event()  # never set: each answer takes 20 ms, so overlaps would show
    receiver.gate = lambda update: not hold.wait(0.02)
    for n in range(6):
        for chat in (1, 2, 3):
            tg.inject_message(chat, f"{chat}.{n}")
    assert api("setWebhook", url=receiver.url, max_connections=10).ok
    assert tg.wait_for(lambda: len(receiver.received) == 18, timeout=20)
    for chat in (1, 2, 3):
        assert receiver.peak[chat] == 1
        assert texts(receiver, chat) == [f"{chat}.{n}" for n in range(6)]
    assert receiver.peak[None] == 3
    assert tg.wait_for(lambda: tg.pending_update_count == 0, timeout=10)


def test_a_failing_chat_is_retried_without_holding_up_the_others(
    tg: FakeBotApi, api: Api, receiver: Receiver
) -> None:
    other_arrived = threading.Event()
    attempts = Counter[str]()

    def gate(update: dict[str, Any]) -> bool:
        if update["message"]["chat"]["id"] == 2:
            other_arrived.set()
            return True
        attempts[update["message"]["text"]] += 1
        # chat 1 fails once, and then until chat 2 got through
        return other_arrived.is_set() and attempts[update["message"]["text"]] > 1

    receiver.gate = gate
    tg.inject_message(1, "1.a")
    tg.inject_message(1, "1.b")
    tg.inject_message(2, "2.a")
    assert api("setWebhook", url=receiver.url).ok
    assert tg.wait_for(lambda: len(receiver.received) == 3, timeout=20)
    assert texts(receiver) == ["2.a", "1.a", "1.b"]
    assert tg.stats["webhook_failed"] >= 1
    assert receiver.peak[1] == 1


def test_delivery_key_and_backoff() -> None:
    assert delivery_key({"update_id": 1, "message": {"chat": {"id": 5}}}) == ("chat", 5)
    assert delivery_key({"update_id": 1, "inline_query": {"from": {"id": 7}}}) == ("chat", 7)
    assert delivery_key({"update_id": 1, "poll": {"id": "x"}}) == ("other", None)
    assert delivery_key([]) == ("other", None)
    assert [RETRY_BACKOFF.delay(n) for n in (1, 2, 3, 10)] == [0.05, 0.1, 0.2, 1.0]


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8080/x", True),
        ("http://localhost/x", True),
        ("https://127.0.0.1/x", False),
        ("http://example.org/x", False),
    ],
)
def test_is_local_http(url: str, local: bool) -> None:
    assert is_local_http(url) is local


class socket_port:  # noqa: N801  (used like a function)
    """A port that was free a moment ago."""

    def __enter__(self) -> int:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        port: int = self._sock.getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        self._sock.close()
