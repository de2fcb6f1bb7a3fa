"""Mini App clients and the events they put into the actor model.

A :class:`Client` is one open connection from a Mini App page, authenticated by its
``initData``. Its events (:class:`ClientConnected`, :class:`ClientMessage`,
:class:`ClientDisconnected`) are :class:`~actorbot.handlers.Routed`: the router delivers
them to the same handler that gets the user's updates, in order with those updates.

What goes back to the page never blocks the handler: :meth:`Client.send` serialises the
frame on the caller's thread and queues it on the connection's event loop (one wake-up of
the loop per batch of frames, whatever thread sends); one writer per client, started only
while frames wait, keeps them in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol

import structlog

from actorbot.errors import StateError
from actorbot.handlers import EngineStopping, Handler, IdleTimeout, Routed

if TYPE_CHECKING:
    from actorbot.sending import CallFuture
    from actorbot.webapp._initdata import WebAppData
    from actorbot.webapp._miniapp import MiniApp

log = structlog.get_logger("actorbot.webapp")

_ids = itertools.count(1)

#: Frames a client may have waiting before it counts as too slow and is closed.
DEFAULT_MAX_QUEUE: Final = 256

class _Closing:
    """In a client's queue: close after the frames before it."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


class Transport(Protocol):
    """One connection as the session sees it (websockets, or an ASGI server's)."""

    async def recv(self) -> str | bytes | None:
        """The next frame, or None once the connection is closed."""

    async def send(self, text: str) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


class _Outbox:
    """Frames for the clients of one event loop, from any thread, in batches."""

    __slots__ = ("_lock", "_pending", "_waking", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._pending: list[tuple[Client, object]] = []
        self._waking = False

    def post(self, client: Client, frame: object) -> None:
        if asyncio._get_running_loop() is self.loop:
            client._enqueue(frame)
            return
        with self._lock:
            self._pending.append((client, frame))
            if self._waking:
                return
            self._waking = True
        try:
            self.loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop is closed: nobody is connected any more
            with self._lock:
                self._pending.clear()
                self._waking = False

    def _drain(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            self._waking = False
        for client, frame in pending:
            client._enqueue(frame)


_SETTLED: Final = object()  # posted to a client's loop: one of its messages was handled


class Client:
    """One authenticated Mini App connection; handlers get it in the ``on_client_*`` hooks.

    ``send(type, data)`` from any thread or coroutine; ``close()`` to end it. Compared by
    identity: a user with two pages open has two clients.
    """

    __slots__ = ("_credit", "_outbox", "_queue", "_transport", "_unsettled", "_writer", "app",
                 "id", "init_data", "open", "probe", "resumed", "targets", "user", "user_id")

    def __init__(
        self,
        app: MiniApp,
        transport: Transport,
        outbox: _Outbox,
        *,
        init_data: WebAppData,
        user_id: int,
        targets: Sequence[tuple[int, Any]],
        probe: dict[str, Any],
    ) -> None:
        self.id = next(_ids)
        self.app = app
        self.init_data = init_data
        """The validated ``initData`` (its ``fields`` hold the raw values: never log them)."""
        self.user: dict[str, Any] = init_data.user or {}
        self.user_id = user_id
        self.targets = targets
        """The ``(route index, seed)`` pairs whose handlers get this client's events."""
        self.probe = probe
        self.open = True
        self.resumed = False
        """True once a handler that held this client closed and handed it on."""
        self._transport = transport
        self._outbox = outbox
        self._queue: deque[object] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._unsettled = 0  # deliveries of its messages not handled yet (on its loop)
        self._credit: asyncio.Future[None] | None = None

    def __repr__(self) -> str:
        return f"Client(id={self.id}, user_id={self.user_id}, open={self.open})"

    @property
    def query_id(self) -> str | None:
        """The ``query_id`` of ``initData``, for :meth:`answer_web_app_query`."""
        return self.init_data.query_id

    @property
    def start_param(self) -> str | None:
        return self.init_data.start_param

    # -- what handlers call --------------------------------------------------------------

    def send(self, type: str, data: Any = None) -> None:
        """Queue ``{"type": type, "data": data}`` (JSON) for the page; never blocks.

        Frames reach the page in the order they were sent; a client gone meanwhile drops
        them. ``data`` must be JSON-serialisable (else ``TypeError`` here, in the caller).
        """
        if not isinstance(type, str):
            raise TypeError(f"a message type is a str, not {type.__class__.__name__}")
        frame = json.dumps({"type": type, "data": data}, separators=(",", ":"),
                           ensure_ascii=False)
        if self.open:
            self._outbox.post(self, frame)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close after the frames already sent; ``on_client_disconnected`` follows."""
        if self.open:
            self._outbox.post(self, _Closing(code, reason))

    def answer_web_app_query(self, result: dict[str, Any]) -> CallFuture[Any]:
        """``answerWebAppQuery`` for this client's ``query_id`` (a Mini App opened from an
        inline button), through the engine's sender; ``result`` is an InlineQueryResult."""
        query_id = self.query_id
        if query_id is None:
            raise StateError("this client's initData has no query_id to answer")
        return self.app.engine.call("answerWebAppQuery", web_app_query_id=query_id,
                                    result=result)

    # -- the handler side ------------------------------------------------------------------

    @property
    def keeps_alive(self) -> bool:
        return self.open and self.app.keep_alive

    def handover(self, reason: BaseException) -> None:
        """The handler holding this client closed: unless it idled out (its successor
        gets the client with the client's next message) or the engine stops, tell every
        handler of this client again, so the one that replaces it knows the client now."""
        if not self.open or isinstance(reason, EngineStopping):
            return
        self.resumed = True
        if not isinstance(reason, IdleTimeout):
            self.app._dispatch(self, ClientConnected(self, handover=True))

    # -- on the connection's loop ----------------------------------------------------------

    def _settled(self) -> None:
        """A handler finished one of this client's messages (from any thread)."""
        self._outbox.post(self, _SETTLED)

    async def _window(self, limit: int) -> None:
        """Wait while ``limit`` of its messages are not handled yet: a client that sends
        faster than its handler works is read no faster (TCP pushes back on it)."""
        while self._unsettled >= limit:
            self._credit = asyncio.get_running_loop().create_future()
            await self._credit

    def _enqueue(self, frame: object) -> None:
        if frame is _SETTLED:
            self._unsettled -= 1
            credit = self._credit
            if credit is not None and not credit.done():
                credit.set_result(None)
            return
        if not self.open:
            return
        queued = self._queue
        if queued is None:
            queued = self._queue = deque()
        if len(queued) >= self.app.max_queue and frame.__class__ is str:
            log.warning("webapp.client_too_slow", client=self.id, user_id=self.user_id,
                        waiting=len(queued))
            queued.clear()
            frame = _Closing(1008, "too many messages waiting")
        queued.append(frame)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        queued = self._queue
        assert queued is not None
        try:
            while queued:
                frame = queued.popleft()
                if isinstance(frame, str):
                    await self._transport.send(frame)
                    continue
                assert isinstance(frame, _Closing)
                self.open = False
                queued.clear()
                await self._transport.close(frame.code, frame.reason)
        except Exception:  # noqa: BLE001 - the connection broke: the session sees it end
            self.open = False
            queued.clear()
            with contextlib.suppress(Exception):
                await self._transport.close(1011, "send failed")
        finally:
            self._writer = None
            if not queued:
                self._queue = None  # idle clients hold no deque


# -- events -----------------------------------------------------------------------------------


class ClientEvent(Routed):
    """Base of the client events: the client is the handler's attachment, so the first
    event a handler gets from a client (even a message) calls ``on_client_connected``."""

    __slots__ = ("client",)

    def __init__(self, client: Client) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client={self.client.id})"

    @property
    def attachment(self) -> Client:
        return self.client

    @property
    def as_update(self) -> Any:
        return self.client.probe

    def opening(self, handler: Handler) -> Any:
        return handler.on_client_connected(self.client)


class ClientConnected(ClientEvent):
    """The client logged in (or is handed to a successor): ``on_client_connected``."""

    __slots__ = ("handover",)
    hook: ClassVar[str] = "on_client_connected"

    def __init__(self, client: Client, *, handover: bool = False) -> None:
        super().__init__(client)
        self.handover = handover

    @property
    def stale(self) -> bool:
        return self.handover and not self.client.open

    def call(self, handler: Handler) -> Any:
        return None  # opening() said it


class ClientMessage(ClientEvent):
    """A frame from the page: ``on_client_message(client, type, data)``."""

    __slots__ = ("data", "type")
    hook: ClassVar[str] = "on_client_message"

    def __init__(self, client: Client, type: str, data: Any) -> None:
        super().__init__(client)
        self.type = type
        self.data = data

    def call(self, handler: Handler) -> Any:
        return handler.on_client_message(self.client, self.type, self.data)

    def done(self, result: Any) -> None:
        self.client._settled()

    def failed(self, error: BaseException) -> None:
        self.client._settled()


class ClientDisconnected(ClientEvent):
    """The connection ended: ``on_client_disconnected``, and the handler lets go of it."""

    __slots__ = ()
    hook: ClassVar[str] = "on_client_disconnected"
    detaches: ClassVar[bool] = True

    def call(self, handler: Handler) -> Any:
        return handler.on_client_disconnected(self.client)
