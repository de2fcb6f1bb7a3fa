"""Webhook intake for ASGI servers (uvicorn, hypercorn) and frameworks (Starlette, FastAPI).

:class:`WebhookASGIApp` is a plain ASGI 3 application, so actorbot needs no framework to
provide it: serve it alone, or mount it (``app.mount("/telegram", bot)`` in FastAPI,
``Mount("/telegram", app=bot)`` in Starlette). It checks and answers every request exactly
as the WSGI :class:`~actorbot.intake.WebhookApp` does: both go through one
:class:`~actorbot.intake._gate.Gate`.

``feed`` may block (a durable journal's transaction, the engine's backpressure wait), so it
never runs on the event loop. Updates that arrive while a hand-over is under way queue up
and go to the loop's default executor together, one hand-over at a time: under load one
thread hop (and, with ``batches=True``, one journal transaction and one router message)
serves many requests (about ten with Telegram's 40 connections, benchmarks/webhook.py),
and calling ``feed`` on the loop instead measured no cheaper. Each request still gets its
200 only after its update was fed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

import structlog

from actorbot.intake._gate import (
    DEFAULT_MAX_BODY,
    SECRET_HEADER,
    Answer,
    Gate,
    Reject,
    unreadable,
)

log = structlog.get_logger("actorbot.webhook")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
BatchFeed = Callable[[list[Any]], object]

#: Seconds a client may take to send its body (Telegram sends at once), as the WSGI
#: server's socket timeout: a stalled client then gets a 400, not a task forever.
READ_TIMEOUT: Final = 10.0
_SECRET_KEY: Final = SECRET_HEADER.lower().encode()


def _encoded(answer: Answer) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers()]
    return answer.code, headers, answer.text.encode()


class WebhookASGIApp:
    """The ASGI application Telegram POSTs updates to.

    ``feed`` takes one update, like :class:`~actorbot.intake.WebhookApp`'s; with
    ``batches=True`` it takes a list of updates as one batch (``engine.feed`` does), so the
    updates that arrived together cost one journal transaction and one router message. A
    batch ``feed`` refuses is refused as a whole: each of its requests gets the 429/503 and
    Telegram sends them again. Answers as the WSGI app; a body that stalls for
    ``read_timeout`` seconds gets 400. ``lifespan`` is answered (nothing to start: the
    engine is the application's); a websocket is closed. One app serves one event loop at
    a time (a server with several worker processes has an app in each).
    """

    def __init__(
        self, feed: Callable[[Any], object], *, secret_token: str | None,
        max_body: int = DEFAULT_MAX_BODY, batches: bool = False,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self._gate = Gate(secret_token, max_body)
        self._feed = feed
        self._batches = batches
        self.max_body = max_body
        self.read_timeout = read_timeout
        self._waiting: list[tuple[Any, asyncio.Future[BaseException | None]]] = []
        self._draining: asyncio.Task[None] | None = None
        #: Calls into the executor: requests per hand-over shows how well they group.
        self.hand_overs = 0
        self._answers: dict[Answer, tuple[int, list[tuple[bytes, bytes]], bytes]] = {}

    def __repr__(self) -> str:
        return self._gate.describe("WebhookASGIApp")

    def stats(self) -> dict[str, int]:
        """Requests by outcome, as :meth:`WebhookApp.stats`."""
        return self._gate.stats()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await _lifespan(receive, send)
        elif kind == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})  # servers answer 403

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        gate = self._gate
        secret: str | None = None
        length: str | None = None
        chunked = False
        for key, value in scope["headers"]:
            if key == _SECRET_KEY:  # twice: joined like wsgiref, so a wrong one fails
                text = value.decode("latin-1")
                secret = text if secret is None else f"{secret},{text}"
            elif key == b"content-length":
                length = value.decode("latin-1")
            elif key == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        try:
            expected = gate.head(scope.get("method"), secret, length, chunked)
            body = await self._read(receive, expected)
            if body is None:
                return  # the client is gone: nobody to answer
            update = gate.update(gate.body(body, expected))
        except Reject as reject:
            client = scope.get("client")
            await self._answer(send, gate.rejected(reject, client[0] if client else None))
            return
        error = await self._hand_over(update)
        answer = gate.accepted() if error is None else gate.refused(update, error)
        await self._answer(send, answer)

    async def _read(self, receive: Receive, length: int | None) -> bytes | None:
        """The body (at most ``length``, or ``max_body + 1`` bytes: no more is read);
        None if the client disconnected."""
        limit = self.max_body + 1 if length is None else length
        chunks: list[bytes] = []
        got = 0
        try:
            async with asyncio.timeout(self.read_timeout):
                more = True
                while more and got < limit:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    chunks.append(chunk)
                    got += len(chunk)
                    more = bool(message.get("more_body"))
        except TimeoutError as exc:
            raise unreadable(exc) from None
        return b"".join(chunks)

    async def _answer(self, send: Send, answer: Answer) -> None:
        encoded = self._answers.get(answer)
        if encoded is None:
            encoded = _encoded(answer)
            if answer.code == 200:  # the others are rare, and some carry a Retry-After
                self._answers[answer] = encoded
        status, headers, body = encoded
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    # -- the hand-over: off the loop, together with what arrives meanwhile ---------------

    async def _hand_over(self, update: Any) -> BaseException | None:
        """Feed ``update`` (with whatever else is waiting); the exception ``feed`` raised."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[BaseException | None] = loop.create_future()
        self._waiting.append((update, done))
        if self._draining is None:
            self._draining = loop.create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        batch: list[tuple[Any, asyncio.Future[BaseException | None]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                self.hand_overs += 1
                outcome = await loop.run_in_executor(
                    None, self._feed_all, [update for update, _ in batch])
                for (_, done), error in zip(batch, outcome, strict=True):
                    if not done.done():
                        done.set_result(error)
                batch = []
        except BaseException as exc:  # cancelled with the server: refuse, never hang
            for _, done in [*batch, *self._waiting]:
                if not done.done():
                    done.set_result(exc)
            self._waiting = []
            raise
        finally:
            self._draining = None

    def _feed_all(self, updates: list[Any]) -> list[BaseException | None]:
        """In the executor's thread: feed the updates, one batch or one by one."""
        if self._batches:
            try:
                self._feed(updates)
            except Exception as exc:  # noqa: BLE001 - any refusal: Telegram retries
                return [exc] * len(updates)
            return [None] * len(updates)
        outcome: list[BaseException | None] = []
        for update in updates:
            try:
                self._feed(update)
            except Exception as exc:  # noqa: BLE001 - any refusal: Telegram retries
                outcome.append(exc)
            else:
                outcome.append(None)
        return outcome


async def _lifespan(receive: Receive, send: Send) -> None:
    """Nothing of ours to start or stop: the engine and its threads are the
    application's. Answered so that a server run with ``lifespan="on"`` starts."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
