"""The ASGI webhook app under a real ASGI server (uvicorn) over real sockets: the same
answers as the WSGI app for the same bytes (cheroot beside it), hostile clients, feed off
the event loop, a Starlette mount, and the fake Bot API delivering in parallel."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from cheroot.wsgi import Server as Cheroot
from starlette.applications import Starlette
from starlette.routing import Mount
from structlog.testing import capture_logs

from actorbot import Webhook
from actorbot.intake import SECRET_HEADER, WebhookApp, WebhookASGIApp
from tests.helpers import FAKE_THREADS, eventually, make_engine
from tests.intake.test_webhook import ROUTES, Busy, Recorder, message

SECRET = "s3cret_-TOKEN"


@contextmanager
def uvicorn_server(app: Any, loop: str = "asyncio") -> Iterator[int]:
    """uvicorn (lifespan on, httptools) on 127.0.0.1 in a thread; its port. Joined on
    exit, with the loop's executor threads (the server's run shuts them down)."""
    before = set(threading.enumerate())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False,
                            backlog=128, loop=loop, http="httptools")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, args=([sock],), name="test-uvicorn")
    thread.start()
    try:
        eventually(lambda: server.started or not thread.is_alive(), 10, "uvicorn to start")
        assert server.started
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        left = [t.name for t in set(threading.enumerate()) - before
                if t.is_alive() and not t.name.startswith(FAKE_THREADS)]
        assert not left, f"outlived the ASGI server: {left}"


@contextmanager
def cheroot_server(app: WebhookApp) -> Iterator[int]:
    server = Cheroot(("127.0.0.1", 0), app, numthreads=4)
    server.prepare()
    thread = threading.Thread(target=server.serve, name="test-cheroot")
    thread.start()
    try:
        yield server.bind_addr[1]
    finally:
        server.stop()
        thread.join(10)


def exchange(port: int, head: str, body: bytes = b"", *,
             then: Callable[[socket.socket], None] | None = None) -> tuple[int, dict[str, str],
                                                                            bytes]:
    """Send ``head`` (CRLF added) and ``body`` as raw bytes; the answer's status, headers
    (lower-case names, without Date/Server) and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n" + body)
        if then is not None:
            then(sock)
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        data = answer.read()
    headers = {k.lower(): v for k, v in answer.getheaders()
               if k.lower() in ("content-type", "content-length", "allow", "retry-after")}
    return answer.status, headers, data


def post(body: bytes, *, secret: str | None = SECRET, extra: str = "",
         length: bool = True) -> tuple[str, bytes]:
    lines = ["POST /telegram HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if secret is not None:
        lines.append(f"{SECRET_HEADER}: {secret}")
    if length:
        lines.append(f"Content-Length: {len(body)}")
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n", body


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


GOOD = b'{"update_id": 7, "message": {"text": "hi"}}'

#: Requests that reach both apps: the same bytes must get the same answer from each.
CASES: dict[str, tuple[str, bytes]] = {
    "good": post(GOOD),
    "get": ("GET /telegram HTTP/1.1\nHost: x\n", b""),
    "put": ("PUT /telegram HTTP/1.1\nHost: x\nContent-Length: 2\n", b"{}"),
    "no secret": post(GOOD, secret=None),
    "wrong secret": post(GOOD, secret="wrong"),
    "longer secret": post(GOOD, secret=SECRET + "x"),
    "not json": post(b"{not json"),
    "not utf-8": post(b"\xff\xfe\x00garbage"),
    "empty": post(b""),
    "a list": post(b"[1, 2]"),
    "a string": post(b'"update"'),
    "no update_id": post(b'{"message": {}}'),
    "string update_id": post(b'{"update_id": "1"}'),
    "bool update_id": post(b'{"update_id": true}'),
    "no length": post(b"", length=False),
    "too large, by its length": post(b"x" * 1001),
    "chunked": post(chunked(b'{"update_id"', b": 3}"), length=False,
                    extra="Transfer-Encoding: chunked"),
    "chunked, too large": post(chunked(b"x" * 600, b"y" * 600), length=False,
                               extra="Transfer-Encoding: chunked"),
}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[int, int, list[Any], list[Any]]]:
    """Both apps, each behind a real server, each feeding its own list."""
    fed_wsgi: list[Any] = []
    fed_asgi: list[Any] = []
    wsgi = WebhookApp(fed_wsgi.append, secret_token=SECRET, max_body=1000)
    asgi = WebhookASGIApp(fed_asgi.append, secret_token=SECRET, max_body=1000)
    with cheroot_server(wsgi) as wsgi_port, uvicorn_server(asgi) as asgi_port:
        yield wsgi_port, asgi_port, fed_wsgi, fed_asgi


@pytest.mark.parametrize("case", list(CASES))
def test_the_same_request_gets_the_same_answer_from_both_apps(
    servers: tuple[int, int, list[Any], list[Any]], case: str
) -> None:
    wsgi_port, asgi_port, fed_wsgi, fed_asgi = servers
    fed_wsgi.clear()
    fed_asgi.clear()
    head, body = CASES[case]
    with capture_logs() as logs:
        answer = exchange(asgi_port, head, body)
    assert answer == exchange(wsgi_port, head, body)
    assert fed_asgi == fed_wsgi
    assert SECRET not in repr(logs)
    status = answer[0]
    assert (status == 200) == (case in ("good", "chunked"))
    if status != 200:
        assert fed_asgi == []
        assert [e["event"] for e in logs] == ["webhook.rejected"]


def test_answers_and_counts_as_documented() -> None:
    fed: list[Any] = []
    app = WebhookASGIApp(fed.append, secret_token=SECRET, max_body=1000)
    with uvicorn_server(app) as port:
        assert exchange(port, *CASES["good"]) == (
            200, {"content-type": "text/plain; charset=utf-8", "content-length": "0"}, b"")
        assert exchange(port, *CASES["get"]) == (
            405, {"content-type": "text/plain; charset=utf-8", "content-length": "9",
                  "allow": "POST"}, b"only POST")
        assert exchange(port, *CASES["no secret"])[0::2] == (401, b"secret token missing")
        assert exchange(port, *CASES["wrong secret"])[0::2] == (403, b"wrong secret token")
        twice = post(GOOD, extra=f"{SECRET_HEADER}: {SECRET}")  # joined: "a,a" is wrong
        assert exchange(port, *twice)[0] == 403
        assert exchange(port, *CASES["a list"])[0::2] == (400, b"body is not a JSON object")
    assert fed == [{"update_id": 7, "message": {"text": "hi"}}]
    assert app.stats() == {"accepted": 1, "bad_method": 1, "unauthorized": 3,
                           "bad_request": 1}
    assert SECRET not in repr(app)
    assert repr(app) == "WebhookASGIApp(secret_token=<hidden>, max_body=1000)"


def test_deep_nesting_is_a_bad_request_not_a_crash() -> None:
    app = WebhookASGIApp(print, secret_token=None)
    with uvicorn_server(app) as port:
        assert exchange(port, *post(b"[" * 200_000 + b"]" * 200_000, secret=None))[0::2] == (
            400, b"body is not JSON")


def test_an_oversized_body_is_refused_without_being_read() -> None:
    app = WebhookASGIApp(print, secret_token=None, max_body=1000)
    with uvicorn_server(app) as port:
        # Only the head is sent: the answer comes although the body never does.
        head = "POST / HTTP/1.1\nHost: x\nContent-Length: 1099511627776\n"
        assert exchange(port, head)[0::2] == (413, b"body too large")

        def endless(sock: socket.socket) -> None:  # chunks past the limit, never the last
            sock.sendall(b"%x\r\n%s\r\n" % (800, b"x" * 800) * 2)

        head = "POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n"
        assert exchange(port, head, then=endless)[0::2] == (413, b"body too large")
    assert app.stats() == {"too_large": 2}


def test_a_stalled_body_times_out_with_the_wsgi_apps_answer() -> None:
    app = WebhookASGIApp(print, secret_token=None, read_timeout=0.2)
    with uvicorn_server(app) as port:
        head = "POST / HTTP/1.1\nHost: x\nContent-Length: 100\n"
        assert exchange(port, head, b'{"update_id"')[0::2] == (
            400, b"body unreadable (TimeoutError)")
    assert app.stats() == {"bad_request": 1}


@pytest.mark.parametrize(
    ("error", "status", "retry_after"),
    [(RuntimeError("engine is stopping"), 503, None), (Busy(), 429, "3")],
)
@pytest.mark.parametrize("batches", [False, True])
def test_a_refused_update_is_never_acknowledged(
    error: Exception, status: int, retry_after: str | None, batches: bool
) -> None:
    def feed(update: Any) -> None:
        raise error

    app = WebhookASGIApp(feed, secret_token=SECRET, batches=batches)
    with capture_logs() as logs, uvicorn_server(app) as port:
        code, headers, body = exchange(port, *post(b'{"update_id": 42}'))
    assert (code, body) == (status, b"not accepted now, retry")
    assert headers.get("retry-after") == retry_after
    assert app.stats() == {"refused": 1}
    refused = [e for e in logs if e["event"] == "webhook.refused"]
    assert [(e["update_id"], e["error"]) for e in refused] == [(42, type(error).__name__)]


def test_feed_never_runs_on_the_event_loop() -> None:
    """A feed that blocks (backpressure) holds its own request only: the loop answers
    others meanwhile, and the 200 comes once feed returned."""
    release = threading.Event()
    fed: list[Any] = []
    loop_threads: set[int] = set()

    def feed(update: Any) -> None:
        with pytest.raises(RuntimeError):
            asyncio.get_running_loop()  # no loop runs in the feeding thread
        release.wait(10)
        fed.append(update)

    app = WebhookASGIApp(feed, secret_token=None)

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        loop_threads.add(threading.get_ident())
        await app(scope, receive, send)

    answers: list[int] = []
    with uvicorn_server(spy) as port:
        waiting = threading.Thread(
            target=lambda: answers.append(exchange(port, *post(GOOD, secret=None))[0]),
            name="test-blocked-request")
        waiting.start()
        eventually(lambda: app.hand_overs == 1, 10, "the hand-over")
        assert exchange(port, *CASES["get"])[0] == 405  # answered while feed blocks
        assert answers == []
        release.set()
        waiting.join(10)
    assert answers == [200]
    assert fed == [{"update_id": 7, "message": {"text": "hi"}}]
    assert len(loop_threads) == 1


def test_lifespan_and_websockets_without_a_server() -> None:
    app = WebhookASGIApp(print, secret_token=None)
    sent: list[dict[str, Any]] = []

    async def run(kind: str, messages: list[dict[str, Any]]) -> None:
        inbox = list(messages)

        async def receive() -> dict[str, Any]:
            return inbox.pop(0)

        async def send(message: Any) -> None:
            sent.append(dict(message))

        await app({"type": kind}, receive, send)

    asyncio.run(run("lifespan", [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]))
    asyncio.run(run("websocket", [{"type": "websocket.connect"}]))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete",
                                        "lifespan.shutdown.complete", "websocket.close"]


# -- with the engine and the fake delivering ----------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_recorder() -> None:
    Recorder.seen.clear()


class Swappable:
    """The ASGI app is made after the engine, whose Webhook needs the URL (so the port)."""

    def __init__(self) -> None:
        self.app: Any = WebhookASGIApp(print, secret_token=SECRET)  # answers the lifespan

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.mark.usefixtures("no_thread_left")
@pytest.mark.parametrize(("batches", "loop"),
                         [(True, "asyncio"), (False, "asyncio"), (True, "uvloop")])
def test_300_chats_x_10_messages_in_per_chat_order(tg: Any, batches: bool, loop: str) -> None:
    chats, per_chat = 300, 10
    site = Swappable()
    with uvicorn_server(site, loop) as port:
        url = f"http://127.0.0.1:{port}/telegram"
        engine = make_engine(tg, ROUTES,
                             intake=Webhook(url, secret_token=SECRET, max_connections=40))
        site.app = app = WebhookASGIApp(engine.feed, secret_token=SECRET, batches=batches)
        tg.inject_updates(message(1000 + c, f"{c}.{i}")
                          for i in range(per_chat) for c in range(chats))
        with engine:
            eventually(lambda: Recorder.total() == chats * per_chat, 240, "every update")
    wrong = [c for c in range(chats)
             if Recorder.seen[1000 + c] != [f"{c}.{i}" for i in range(per_chat)]]
    assert wrong == []
    assert app.stats() == {"accepted": chats * per_chat}
    assert app.hand_overs < chats * per_chat  # requests that arrived together went together
    assert tg.pending_update_count == 0
    assert 1 < tg.stats["webhook_max_parallel"] <= 40
    assert tg.stats["webhook_connections"] <= 40  # keep-alive: no churn
    assert "webhook_failed" not in tg.stats


@pytest.mark.usefixtures("no_thread_left")
def test_mounted_in_starlette(tg: Any) -> None:
    site = Swappable()
    routes = []
    with uvicorn_server(site) as port:
        url = f"http://127.0.0.1:{port}/telegram/"
        engine = make_engine(tg, ROUTES, intake=Webhook(url, secret_token=SECRET))
        bot = WebhookASGIApp(engine.feed, secret_token=SECRET, batches=True)
        routes.append(Mount("/telegram", app=bot))
        site.app = Starlette(routes=routes)
        with engine:
            for chat in (1, 2, 3):
                tg.inject_message(chat, f"hello {chat}")
            eventually(lambda: Recorder.total() == 3, 30, "three updates")
        assert exchange(port, "GET /elsewhere HTTP/1.1\nHost: x\n")[0] == 404
        assert exchange(port, "GET /telegram/ HTTP/1.1\nHost: x\n")[0] == 405
    assert Recorder.seen[2] == ["hello 2"]
    assert bot.stats() == {"accepted": 3, "bad_method": 1}
