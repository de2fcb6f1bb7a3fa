"""Webhook intake: the WSGI app alone, then under a real WSGI server (cheroot) with the fake
Bot API delivering in parallel, and the engine's webhook mode (set, keep, delete, switch)."""

from __future__ import annotations

import io
import socket
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar
from wsgiref.types import StartResponse, WSGIEnvironment

import pytest
import requests
from cheroot.wsgi import Server
from structlog.testing import capture_logs

from actorbot import ChatHandler, Client, Route, Webhook, WebhookApp, per_chat_id
from actorbot.errors import BadRequest
from actorbot.intake import SECRET_HEADER, Polling
from actorbot.testing import FakeBotApi
from tests.helpers import FAKE_THREADS, eventually, make_engine

SECRET = "s3cret_-TOKEN"

# -- the app alone ------------------------------------------------------------------------


class Unreadable(io.RawIOBase):
    """A request body that must not be read."""

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")


def call(
    app: WebhookApp,
    body: bytes | None = b'{"update_id": 1}',
    *,
    method: str = "POST",
    secret: str | None = SECRET,
    length: str | None = None,
    stream: Any = None,
) -> tuple[int, dict[str, str], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "wsgi.input": stream or io.BytesIO(body or b""),
        "CONTENT_LENGTH": str(len(body or b"")) if length is None else length,
        "REMOTE_ADDR": "127.0.0.1",
    }
    if secret is not None:
        environ["HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"] = secret
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
        answer["status"], answer["headers"] = status, dict(headers)

    out = b"".join(app(environ, start_response))
    assert answer["headers"]["Content-Length"] == str(len(out))
    return int(answer["status"][:3]), answer["headers"], out


@pytest.fixture
def fed() -> list[Any]:
    return []


@pytest.fixture
def app(fed: list[Any]) -> WebhookApp:
    return WebhookApp(fed.append, secret_token=SECRET, max_body=1000)


def test_a_good_update_is_fed_before_the_200(app: WebhookApp, fed: list[Any]) -> None:
    assert call(app, b'{"update_id": 7, "message": {"text": "hi"}}') == (
        200, {"Content-Type": "text/plain; charset=utf-8", "Content-Length": "0"}, b"")
    assert fed == [{"update_id": 7, "message": {"text": "hi"}}]
    assert app.stats() == {"accepted": 1}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"method": "GET"}, (405, b"only POST", "bad_method")),
        ({"method": "PUT"}, (405, b"only POST", "bad_method")),
        ({"secret": None}, (401, b"secret token missing", "unauthorized")),
        ({"secret": "wrong"}, (403, b"wrong secret token", "unauthorized")),
        ({"secret": SECRET + "x"}, (403, b"wrong secret token", "unauthorized")),
        ({"secret": "sécret"}, (403, b"wrong secret token", "unauthorized")),
        ({"secret": ""}, (403, b"wrong secret token", "unauthorized")),
        ({"body": b"{not json"}, (400, b"body is not JSON", "bad_request")),
        ({"body": b"\xff\xfe\x00garbage"}, (400, b"body is not JSON", "bad_request")),
        ({"body": b""}, (400, b"body is not JSON", "bad_request")),
        ({"body": b"[1, 2]"}, (400, b"body is not a JSON object", "bad_request")),
        ({"body": b'"update"'}, (400, b"body is not a JSON object", "bad_request")),
        ({"body": b'{"message": {}}'}, (400, b"update_id missing", "bad_request")),
        ({"body": b'{"update_id": "1"}'}, (400, b"update_id missing", "bad_request")),
        ({"body": b'{"update_id": true}'}, (400, b"update_id missing", "bad_request")),
        ({"body": b'{"update_id": 1.5}'}, (400, b"update_id missing", "bad_request")),
        ({"length": "abc"}, (400, b"bad Content-Length", "bad_request")),
        ({"length": "-1"}, (400, b"bad Content-Length", "bad_request")),
        ({"length": "100"}, (400, b"body shorter than Content-Length", "bad_request")),
        ({"length": ""}, (411, b"Content-Length missing", "bad_request")),
        ({"length": "1001", "stream": Unreadable()}, (413, b"body too large", "too_large")),
        ({"length": str(1 << 40), "stream": Unreadable()}, (413, b"body too large", "too_large")),
    ],
)
def test_bad_requests_get_a_clear_4xx_and_never_reach_the_engine(
    app: WebhookApp, fed: list[Any], kwargs: dict[str, Any], expected: tuple[int, bytes, str]
) -> None:
    status, reason, counter = expected
    with capture_logs() as logs:
        code, headers, body = call(app, **kwargs)
    assert (code, body) == (status, reason)
    assert fed == []
    assert app.stats() == {counter: 1}
    assert headers.get("Allow") == ("POST" if status == 405 else None)
    assert [e["event"] for e in logs] == ["webhook.rejected"]
    assert logs[0]["status"] == status
    assert SECRET not in repr(logs)


def test_deep_nesting_is_a_bad_request_not_a_crash(fed: list[Any]) -> None:
    app = WebhookApp(fed.append, secret_token=None)
    assert call(app, b"[" * 200_000 + b"]" * 200_000, secret=None)[:3:2] == (
        400, b"body is not JSON")
    assert call(app, b'{"update_id": 1}', secret=None)[0] == 200


def test_the_body_limit_is_exact(fed: list[Any]) -> None:
    app = WebhookApp(fed.append, secret_token=None, max_body=16)
    assert call(app, b'{"update_id":12}', secret=None)[0] == 200  # 16 bytes
    assert call(app, b'{"update_id": 12}', secret=None)[0] == 413  # 17 bytes


def test_a_body_without_length_is_read_up_to_the_limit_when_terminated(fed: list[Any]) -> None:
    app = WebhookApp(fed.append, secret_token=SECRET, max_body=20)

    def chunked(body: bytes) -> int:
        environ = {"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(body),
                   "wsgi.input_terminated": True, "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": SECRET}
        statuses: list[str] = []
        b"".join(app(environ, lambda status, headers, exc=None: statuses.append(status)))
        return int(statuses[0][:3])

    assert chunked(b'{"update_id": 3}') == 200
    assert chunked(b'{"update_id": 3, "x": "far too long"}') == 413
    assert fed == [{"update_id": 3}]


def test_without_a_secret_anyone_may_post(fed: list[Any]) -> None:
    app = WebhookApp(fed.append, secret_token=None)
    assert call(app, secret=None)[0] == 200
    assert call(app, secret="anything")[0] == 200
    assert len(fed) == 2


class Busy(Exception):
    retry_after = 3


@pytest.mark.parametrize(
    ("error", "status", "retry_after"),
    [
        (RuntimeError("engine is stopping"), 503, None),
        (Busy(), 429, "3"),
        (ValueError("journal full"), 503, None),
    ],
)
def test_a_refused_update_is_never_acknowledged(
    error: Exception, status: int, retry_after: str | None
) -> None:
    def feed(update: Any) -> None:
        raise error

    app = WebhookApp(feed, secret_token=SECRET)
    with capture_logs() as logs:
        code, headers, body = call(app, b'{"update_id": 42}')
    assert (code, body) == (status, b"not accepted now, retry")
    assert headers.get("Retry-After") == retry_after
    assert app.stats() == {"refused": 1}
    assert logs[0]["event"] == "webhook.refused"
    assert logs[0]["update_id"] == 42
    assert logs[0]["error"] == type(error).__name__


def test_secrets_stay_out_of_reprs() -> None:
    app = WebhookApp(print, secret_token=SECRET)
    hook = Webhook("https://bot.example.org/hook/path-secret", secret_token=SECRET)
    assert SECRET not in repr(app)
    assert SECRET not in repr(hook)
    assert "path-secret" not in repr(hook)
    assert repr(hook) == ("Webhook(url='https://bot.example.org/...', secret_token=<hidden>, "
                          "max_connections=None, delete_on_stop=False)")
    with_password = Webhook("https://bot:pass-secret@bot.example.org:8443/hook")
    assert repr(with_password).startswith("Webhook(url='https://bot.example.org:8443/...'")


@pytest.mark.parametrize(
    "kwargs",
    [{"url": ""}, {"secret_token": "with space"}, {"secret_token": ""},
     {"secret_token": "x" * 257}, {"max_connections": 0}, {"max_connections": 101}],
)
def test_webhook_settings_are_checked(kwargs: dict[str, Any]) -> None:
    options: dict[str, Any] = {"url": "https://example.org/hook"} | kwargs
    with pytest.raises(ValueError):  # noqa: PT011  (each message is its own)
        Webhook(**options)


def test_max_body_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_body"):
        WebhookApp(print, secret_token=None, max_body=0)


# -- under a real WSGI server, with the fake delivering ------------------------------------


class Mount:
    """A site with the bot mounted at /telegram (swappable: an engine needs the URL first)."""

    def __init__(self) -> None:
        self.bot: WebhookApp | None = None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/telegram" and self.bot is not None:
            return self.bot(environ, start_response)
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]


@contextmanager
def wsgi_server(app: Mount, threads: int = 8) -> Iterator[str]:
    """cheroot on 127.0.0.1; every thread it started is joined on exit."""
    before = set(threading.enumerate())
    server = Server(("127.0.0.1", 0), app, numthreads=threads)
    server.keep_alive_conn_limit = None  # the fake keeps one connection per worker
    server.request_queue_size = 128  # listen backlog: the fake connects 20 at once
    server.prepare()
    thread = threading.Thread(target=server.serve, name="test-wsgi-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.bind_addr[1]}/telegram"
    finally:
        server.stop()
        for t in set(threading.enumerate()) - before:
            if not t.name.startswith(FAKE_THREADS):
                t.join(10)
                assert not t.is_alive(), f"{t.name} outlived the WSGI server"


@pytest.fixture
def site() -> Iterator[tuple[Mount, str]]:
    mount = Mount()
    with wsgi_server(mount, threads=20) as url:
        yield mount, url


class Recorder(ChatHandler):
    """Records each chat's texts in arrival order."""

    lock = threading.Lock()
    seen: ClassVar[defaultdict[int, list[str]]] = defaultdict(list)

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        with self.lock:
            self.seen[msg["chat"]["id"]].append(msg["text"])

    @classmethod
    def total(cls) -> int:
        with cls.lock:
            return sum(len(texts) for texts in cls.seen.values())


@pytest.fixture(autouse=True)
def _fresh_recorder() -> None:
    Recorder.seen.clear()


def message(chat: int, text: str) -> dict[str, Any]:
    return {"message": {"message_id": 1, "date": 0, "text": text,
                        "chat": {"id": chat, "type": "private"},
                        "from": {"id": chat, "is_bot": False, "first_name": "u"}}}


def webhook_info(tg: FakeBotApi) -> dict[str, Any]:
    with Client(tg.token, base_url=tg.base_url) as client:
        info: dict[str, Any] = client.get_webhook_info()
        return info


ROUTES = [Route(per_chat_id(), Recorder)]


@pytest.mark.usefixtures("no_thread_left")
def test_500_chats_x_10_messages_in_per_chat_order(
    tg: FakeBotApi, site: tuple[Mount, str]
) -> None:
    mount, url = site
    chats, per_chat = 500, 10
    tg.inject_updates(message(1000 + c, f"{c}.{i}") for i in range(per_chat) for c in range(chats))
    engine = make_engine(tg, ROUTES, intake=Webhook(url, secret_token=SECRET, max_connections=20))
    mount.bot = WebhookApp(engine.feed, secret_token=SECRET)
    with engine:
        eventually(lambda: Recorder.total() == chats * per_chat, 240, "every update")
    wrong = [c for c in range(chats)
             if Recorder.seen[1000 + c] != [f"{c}.{i}" for i in range(per_chat)]]
    assert wrong == []
    assert Recorder.total() == chats * per_chat
    assert mount.bot.stats() == {"accepted": chats * per_chat}
    assert tg.pending_update_count == 0
    assert 1 < tg.stats["webhook_max_parallel"] <= 20
    assert "webhook_failed" not in tg.stats, webhook_info(tg)["last_error_message"]


@pytest.mark.usefixtures("no_thread_left")
def test_a_wrong_secret_is_rejected_and_nothing_is_handled(
    tg: FakeBotApi, site: tuple[Mount, str]
) -> None:
    mount, url = site
    engine = make_engine(tg, ROUTES, intake=Webhook(url, secret_token="other-secret"))
    mount.bot = WebhookApp(engine.feed, secret_token=SECRET)
    with capture_logs() as logs, engine:
        tg.inject_message(1, "let me in")
        eventually(lambda: mount.bot is not None and mount.bot.stats().get("unauthorized", 0) >= 2,
                   30, "two refused deliveries")
        info = webhook_info(tg)
    assert info["last_error_message"] == "Wrong response from the webhook: 403 Forbidden"
    assert info["pending_update_count"] == 1
    assert Recorder.total() == 0
    assert "accepted" not in mount.bot.stats()
    assert "other-secret" not in repr(logs)
    assert SECRET not in repr(logs)


@pytest.mark.usefixtures("no_thread_left")
def test_garbage_is_rejected_while_good_traffic_goes_on(
    tg: FakeBotApi, site: tuple[Mount, str]
) -> None:
    mount, url = site
    chats, per_chat, rounds = 50, 10, 40
    engine = make_engine(tg, ROUTES, intake=Webhook(url, secret_token=SECRET))
    mount.bot = WebhookApp(engine.feed, secret_token=SECRET, max_body=4096)
    garbage: list[tuple[int, Callable[[requests.Session], requests.Response]]] = [
        (400, lambda s: s.post(url, data=b"{oops", headers={SECRET_HEADER: SECRET})),
        (400, lambda s: s.post(url, json=[1, 2], headers={SECRET_HEADER: SECRET})),
        (400, lambda s: s.post(url, json={"no": "id"}, headers={SECRET_HEADER: SECRET})),
        (413, lambda s: s.post(url, data=b"x" * 10_000, headers={SECRET_HEADER: SECRET})),
        (403, lambda s: s.post(url, json={"update_id": 1}, headers={SECRET_HEADER: "nope"})),
        (401, lambda s: s.post(url, json={"update_id": 1})),
        (405, lambda s: s.get(url)),
    ]
    statuses: list[tuple[int, int]] = []

    def attack() -> None:
        with requests.Session() as session:
            for _ in range(rounds):
                for expected, send in garbage:
                    try:
                        statuses.append((expected, send(session).status_code))
                    except requests.ConnectionError:  # an unread body may end in a reset
                        statuses.append((expected, 413 if expected == 413 else 0))

    with engine:
        tg.inject_updates(message(c, f"{c}.{i}") for i in range(per_chat) for c in range(chats))
        attacker = threading.Thread(target=attack, name="test-attacker")
        attacker.start()
        attacker.join(120)
        eventually(lambda: Recorder.total() == chats * per_chat, 120, "the good updates")
    assert [expected for expected, _ in statuses] == [got for _, got in statuses]
    assert len(statuses) == rounds * len(garbage)
    assert all(Recorder.seen[c] == [f"{c}.{i}" for i in range(per_chat)] for c in range(chats))
    assert mount.bot.stats() == {"accepted": chats * per_chat, "bad_request": 3 * rounds,
                                 "too_large": rounds, "unauthorized": 2 * rounds,
                                 "bad_method": rounds}
    assert engine.stats()["malformed"] == 0


# -- the engine's webhook mode ------------------------------------------------------------


@pytest.mark.usefixtures("no_thread_left")
def test_webhook_mode_sets_everything_and_can_delete_on_stop(tg: FakeBotApi) -> None:
    tg.inject_message(1, "old, dropped")
    hook = Webhook("https://bot.example.org/hook", secret_token=SECRET, max_connections=7,
                   drop_pending_updates=True, delete_on_stop=True, allowed_updates=["message"])
    engine = make_engine(tg, ROUTES, intake=hook)
    assert engine.polling is False
    with capture_logs() as logs, engine:
        info = webhook_info(tg)
        assert tg.webhook_secret() == SECRET
        assert engine.stats()["polls"] == 0
    assert info == {"url": "https://bot.example.org/hook", "has_custom_certificate": False,
                    "pending_update_count": 0, "max_connections": 7,
                    "allowed_updates": ["message"]}
    assert webhook_info(tg)["url"] == ""
    events = [e["event"] for e in logs if e["event"].startswith("webhook.")]
    assert events == ["webhook.set", "webhook.deleted"]
    assert SECRET not in repr(logs)
    assert "/hook" not in repr(logs)


@pytest.mark.usefixtures("no_thread_left")
def test_a_refused_set_webhook_fails_start_and_leaves_nothing_running(tg: FakeBotApi) -> None:
    engine = make_engine(tg, ROUTES, intake=Webhook("http://bot.example.org/hook"))
    with pytest.raises(BadRequest, match="HTTPS URL must be provided"):
        engine.start()
    assert engine.status == "stopped"


@pytest.mark.usefixtures("no_thread_left")
def test_switch_polling_to_webhook_and_back(tg: FakeBotApi, site: tuple[Mount, str]) -> None:
    mount, url = site
    texts = [f"m{i}" for i in range(8)]
    # 1. polling
    with make_engine(tg, ROUTES):
        for text in texts[:3]:
            tg.inject_message(1, text)
        eventually(lambda: Recorder.total() == 3, 30, "polled updates")
    # 2. webhook: stop() leaves it set, so Telegram keeps what comes next
    engine = make_engine(tg, ROUTES, intake=Webhook(url, secret_token=SECRET))
    mount.bot = WebhookApp(engine.feed, secret_token=SECRET)
    with engine:
        for text in texts[3:6]:
            tg.inject_message(1, text)
        eventually(lambda: Recorder.total() == 6, 30, "webhook updates")
    for text in texts[6:]:
        tg.inject_message(1, text)  # refused by the stopped engine: 503, kept by Telegram
    assert tg.wait_for(lambda: tg.stats.get("webhook_failed", 0) >= 1, 30)
    assert webhook_info(tg)["url"] == url
    # 3. polling again: deleteWebhook first, then the kept updates come by getUpdates
    with make_engine(tg, ROUTES, intake=Polling(timeout=1, delete_webhook=True)):
        eventually(lambda: Recorder.total() == 8, 30, "updates kept during the switch")
        assert webhook_info(tg)["url"] == ""
    assert Recorder.seen[1] == texts
    assert mount.bot.stats()["refused"] >= 1


class BrokenChunks(io.RawIOBase):
    """What cheroot's chunked reader does with a bad chunk size line."""

    def read(self, size: int = -1) -> bytes:
        raise ValueError("Bad chunked transfer size: b'zz'")


def test_an_unreadable_body_is_a_counted_400(app: WebhookApp, fed: list[Any]) -> None:
    with capture_logs() as logs:
        code, _, body = call(app, length="10", stream=BrokenChunks())
    assert (code, body) == (400, b"body unreadable (ValueError)")
    assert app.stats() == {"bad_request": 1}
    assert fed == []
    assert [e["event"] for e in logs] == ["webhook.rejected"]


def test_a_bad_chunk_size_on_cheroot_is_a_400(fed: list[Any]) -> None:
    app = WebhookApp(fed.append, secret_token=None)
    with wsgi_server(app) as url:  # type: ignore[arg-type]
        port = int(url.split(":")[2].split("/")[0])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(b"POST /telegram HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                         b"Content-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
            answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert app.stats() == {"bad_request": 1}
    assert fed == []
