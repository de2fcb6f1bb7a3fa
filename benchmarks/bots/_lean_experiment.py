"""An experiment, not part of actorbot: the cheapest webhook server one can write in Python.

A bare asyncio protocol (no ASGI, no task or timer per request, the answer from bytes made
once) with the webhook's own ``Gate`` and the ASGI app's grouping of hand-overs. It reads
only what Telegram sends (one POST with a ``Content-Length`` at a time per connection) and
skips everything a real server must do (chunked bodies, timeouts, limits on the head), so
its CPU per update is a lower bound for any HTTP intake in this process: the question it
answers is whether a leaner server than uvicorn could reach polling's cost.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from actorbot.intake._gate import Gate, Reject

OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\n\r\n"
REFUSED = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"


class Conn(asyncio.Protocol):
    def __init__(self, server: Lean) -> None:
        self.server = server
        self.buf = bytearray()
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        method = lines[0].split(" ", 1)[0]
        secret = length = None
        for line in lines[1:]:
            key, _, value = line.partition(":")
            key = key.lower()
            if key == "content-length":
                length = value.strip()
            elif key == "x-telegram-bot-api-secret-token":
                secret = value.strip()
        gate = self.server.gate
        try:
            size = gate.head(method, secret, length, terminated=False) or 0
            if len(self.buf) < end + 4 + size:
                return
            body = bytes(self.buf[end + 4:end + 4 + size])
            del self.buf[:end + 4 + size]
            update = gate.update(body)
        except Reject as reject:
            answer = reject.answer
            self.transport.write(f"HTTP/1.1 {answer.status}\r\nContent-Length: "
                                 f"{len(answer.text)}\r\nConnection: close\r\n\r\n"
                                 f"{answer.text}".encode())
            self.transport.close()
            return
        self.transport.pause_reading()  # one request at a time: answers stay in order
        self.server.hand_over(update, self)

    def answered(self, error: BaseException | None) -> None:
        if error is None:
            self.server.gate.count("accepted")
        self.transport.write(OK if error is None else REFUSED)
        self.transport.resume_reading()


class Lean:
    """Serves on 127.0.0.1 (a free port) from its own thread and event loop."""

    def __init__(self, feed: Any, secret: str) -> None:
        self.feed = feed
        self.gate = Gate(secret, 1 << 20)
        self.waiting: list[tuple[Any, Conn]] = []
        self.busy = False
        self.loop = asyncio.new_event_loop()
        self.server = self.loop.run_until_complete(
            self.loop.create_server(lambda: Conn(self), "127.0.0.1", 0, backlog=128))
        self.port = self.server.sockets[0].getsockname()[1]
        self.thread = threading.Thread(target=self.loop.run_forever, name="lean")
        self.thread.start()

    def hand_over(self, update: Any, conn: Conn) -> None:
        self.waiting.append((update, conn))
        if not self.busy:
            self.busy = True
            self._next()

    def _next(self) -> None:
        batch, self.waiting = self.waiting, []
        done = self.loop.run_in_executor(None, self._feed, [u for u, _ in batch])
        done.add_done_callback(lambda future: self._done(batch, future.result()))

    def _feed(self, updates: list[Any]) -> BaseException | None:
        try:
            self.feed(updates)
        except Exception as exc:  # noqa: BLE001 - refused: each request gets a 503
            return exc
        return None

    def _done(self, batch: list[tuple[Any, Conn]], error: BaseException | None) -> None:
        for _, conn in batch:
            conn.answered(error)
        if self.waiting:
            self._next()
        else:
            self.busy = False

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    def stats(self) -> dict[str, int]:
        return self.gate.stats()
