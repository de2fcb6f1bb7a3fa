"""The Mini App backend: a websocket endpoint whose clients reach the users' handlers.

:class:`MiniApp` is an engine component (``Engine(..., components=[MiniApp()])``). It
serves websockets on the engine's event loop with the ``websockets`` library (the
``miniapp`` extra), and offers the same endpoint as an ASGI app (:attr:`MiniApp.asgi`) to
mount in Starlette or FastAPI. Connections are coroutines on a loop, never threads.

The protocol is JSON text frames ``{"type": str, "data": any}`` both ways:

1. The page authenticates with ``Telegram.WebApp.initData``: in its first frame
   ``{"type": "login", "data": {"initData": "..."}}``, or in the URL's query string
   (``?initData=...``), or as a subprotocol ``"tma." + base64url(initData)`` offered
   beside ``"actorbot"`` (where a page cannot send headers). It is checked with
   :func:`validate_init_data` against the bot's token, ``max_age`` included, and the
   user must not be banned in the engine's :class:`~actorbot.AccessList`. Refused, the
   connection closes with a code below; nothing but the reason (and, once known, the user
   id) is logged. The server answers ``{"type": "welcome", "data": {"user": {...}}}``.
2. Every frame after that reaches ``on_client_message(client, type, data)`` of the user's
   handlers; ``client.send(type, data)`` answers.

Which handlers: for each route, the seed its seed function gives a private text message
from that user (``per_from_id`` and ``per_chat_id`` both give the user id, because a
private chat's id is the user's id). Routes whose seed is None or unhashable for it are
skipped; ``routes=`` narrows the routes by name.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import json
import logging
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs

import structlog

from actorbot.errors import ConfigError, InitDataInvalid, NotRunning, StateError
from actorbot.seeds import is_hashable
from actorbot.webapp._clients import (
    DEFAULT_MAX_QUEUE,
    Client,
    ClientConnected,
    ClientDisconnected,
    ClientMessage,
    Transport,
    _Outbox,
)
from actorbot.webapp._initdata import DEFAULT_MAX_AGE, WebAppData, validate_init_data

try:  # the miniapp extra; the ASGI app works without it
    from websockets.asyncio.server import Server, ServerConnection, serve
    from websockets.datastructures import Headers
    from websockets.exceptions import ConnectionClosed
    from websockets.http11 import Request, Response
    from websockets.typing import Subprotocol
except ImportError:  # pragma: no cover - tested where websockets is installed
    serve = None  # type: ignore[assignment]

if TYPE_CHECKING:

    from actorbot.engine import Engine
    from actorbot.handlers import Routed

log = structlog.get_logger("actorbot.webapp")

#: Close codes (4000-4999 are the application's, per RFC 6455).
CLOSE_LOGIN_REFUSED: Final = 4001
"""initData missing, malformed, tampered, for another bot, or expired."""
CLOSE_BAD_FRAME: Final = 4002
"""A frame that is not a JSON object with a string ``type``."""
CLOSE_BANNED: Final = 4003
"""The user is banned in the engine's access list."""
CLOSE_NO_ROUTE: Final = 4004
"""No route gives this user a seed: no handler would hear the client."""
CLOSE_LOGIN_TIMEOUT: Final = 4008
"""No login frame within ``login_timeout``."""
CLOSE_NOT_READY: Final = 1013
"""The engine is not running (an ASGI app served before or after it)."""

_STATIC_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_TYPES: Final = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".json": "application/json",
                 ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}

SUBPROTOCOL: Final = "actorbot"
_CLOSE_TIMEOUT: Final = 2.0  # seconds a peer has to answer our close frame
_INIT_PROTOCOL: Final = "tma."
_MAX_TYPE: Final = 64

AsgiScope = Mapping[str, Any]
AsgiReceive = Callable[[], Awaitable[MutableMapping[str, Any]]]
AsgiSend = Callable[[MutableMapping[str, Any]], Awaitable[None]]

# websockets logs each handshake failure; those lines may carry the request, whose query
# string can hold initData. Only its warnings and errors get out.
_ws_log = logging.getLogger("actorbot.webapp.websockets")
_ws_log.setLevel(logging.WARNING)


class MiniApp:
    """The Mini App endpoint, as an engine component; see the module docstring.

    - ``host``/``port``: where the websockets server listens (``port=0``: any free port,
      read :attr:`port` after start); ``host=None``: no server, only :attr:`asgi`;
    - ``max_age``: seconds an ``initData`` stays valid (None: forever, not advised);
    - ``login_timeout``: seconds a connection may stay silent before it logs in;
    - ``max_logins``: connections waiting for their login frame at once; more are closed
      (1013) at once, so silent sockets cannot pile up;
    - ``max_size``: the largest frame accepted (bytes), larger ones close with 1009;
    - ``max_queue``: frames waiting for one slow client before it is closed (1008);
    - ``window``: messages of one client its handlers may have not handled yet before
      the server stops reading that client (flow control, not an error);
    - ``keep_alive``: an open client keeps its handler from idling out (default); if
      False the handler may passivate, and its successor gets the client back with the
      client's next message;
    - ``routes``: the names of the routes clients reach (default: every route that gives
      the user a seed);
    - ``ping_interval``: seconds between websocket pings (dead connections end);
    - ``static``: a directory whose files the server also serves to plain HTTP GETs
      (``/`` is ``index.html``; no subdirectories), so one port serves the page and its
      websocket. Telegram opens Mini Apps over HTTPS: put a TLS proxy in front.
    """

    name = "mini app"

    def __init__(
        self,
        *,
        host: str | None = "127.0.0.1",
        port: int = 8080,
        max_age: float | None = DEFAULT_MAX_AGE,
        login_timeout: float = 10.0,
        max_logins: int = 1024,
        max_size: int = 65_536,
        max_queue: int = DEFAULT_MAX_QUEUE,
        window: int = 32,
        keep_alive: bool = True,
        routes: Sequence[str] | None = None,
        ping_interval: float | None = 20.0,
        static: str | os.PathLike[str] | None = None,
    ) -> None:
        if login_timeout <= 0 or max_size < 1024 or min(max_queue, window, max_logins) < 1:
            raise ConfigError("login_timeout must be positive, max_size at least 1024 "
                              "bytes, max_queue, window and max_logins at least 1")
        self.host = host
        self._port = port
        self.max_age = max_age
        self.login_timeout = login_timeout
        self.max_logins = max_logins
        self._logging_in = 0
        self.max_size = max_size
        self.max_queue = max_queue
        self.window = window
        self.keep_alive = keep_alive
        self.route_names = list(routes) if routes is not None else None
        self.ping_interval = ping_interval
        self.static = Path(static).resolve() if static is not None else None
        if self.static is not None and not self.static.is_dir():
            raise ConfigError(f"static must be a directory: {self.static}")
        self._engine: Engine | None = None
        self._token = ""
        self._server: Server | None = None
        self._route_indexes: list[int] = []
        self._outboxes: dict[asyncio.AbstractEventLoop, _Outbox] = {}
        self._batches: dict[asyncio.AbstractEventLoop, tuple[Engine, list[Any]]] = {}
        self._clients: dict[int, dict[Client, concurrent.futures.Future[None]]] = {}
        self._lock = threading.Lock()  # the ASGI app may run on another loop's thread
        self.logins = 0
        self.messages = 0
        self.refused: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"MiniApp(host={self.host!r}, port={self._port}, clients={self.client_count})"

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise StateError("the Mini App is not started with an engine")
        return self._engine

    @property
    def port(self) -> int:
        """The port listened on (the real one once started with ``port=0``)."""
        return self._port

    @property
    def url(self) -> str:
        """``ws://host:port/`` of the running server."""
        return f"ws://{self.host}:{self._port}/"

    @property
    def client_count(self) -> int:
        with self._lock:
            return sum(len(clients) for clients in self._clients.values())

    def clients_of(self, user_id: int) -> tuple[Client, ...]:
        """The user's open clients (from any thread: a snapshot)."""
        with self._lock:
            return tuple(self._clients.get(user_id, ()))

    def stats(self) -> dict[str, Any]:
        return {"clients": self.client_count, "users": len(self._clients),
                "logins": self.logins, "messages": self.messages,
                "refused": dict(self.refused)}

    # -- component -------------------------------------------------------------------------

    async def start(self, engine: Engine) -> None:
        self._engine = engine
        self._token = engine.client.token
        names = self.route_names
        if names is not None:
            self._route_indexes = [engine.route_index(name) for name in names]
        else:
            self._route_indexes = list(range(len(engine.routes)))
        if self.host is None:
            return
        if serve is None:
            raise ImportError("the Mini App websocket server needs the websockets "
                              "package: pip install 'actorbot[miniapp]'")
        self._server = await serve(
            self._serve_websocket, self.host, self._port, max_size=self.max_size,
            compression=None,  # a zlib context per connection costs ~100 KiB
            select_subprotocol=_select_subprotocol, ping_interval=self.ping_interval,
            open_timeout=self.login_timeout, close_timeout=_CLOSE_TIMEOUT, logger=_ws_log,
            server_header=None, process_request=self._http if self.static else None)
        self._port = self._server.sockets[0].getsockname()[1]
        log.info("webapp.listening", host=self.host, port=self._port)

    async def stop(self, timeout: float) -> None:
        """Close every client (1001) and wait until each one's ``on_client_disconnected``
        was dispatched; the handlers still run meanwhile."""
        server, self._server = self._server, None
        if server is not None:
            server.close(close_connections=False)  # stop accepting; ours close below
        with self._lock:
            open_now = [item for clients in self._clients.values() for item in clients.items()]
        for client, _ in open_now:
            client.close(1001, "server stopping")
        sessions = [ended for _, ended in open_now]
        if sessions:
            waiting = [asyncio.wrap_future(ended) for ended in sessions]
            _, pending = await asyncio.wait(waiting, timeout=timeout)
            if pending:
                log.warning("engine.stop_timeout", stage="mini app", clients=len(pending))
        if server is not None:
            server.close()
            try:
                await asyncio.wait_for(server.wait_closed(), max(timeout / 2, 0.1))
            except TimeoutError:
                log.warning("engine.stop_timeout", stage="mini app server")
        self._engine = None

    # -- transports ------------------------------------------------------------------------

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        """A plain GET (no websocket upgrade): a file of ``static``, or 404."""
        if "websocket" in request.headers.get("Upgrade", "").lower():
            return None
        name = request.path.partition("?")[0].partition("#")[0].lstrip("/") or "index.html"
        path = self.static / name if self.static and _STATIC_NAME.fullmatch(name) else None
        if path is None or not path.is_file():
            return _response(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
        return _response(HTTPStatus.OK, path.read_bytes(),
                         _TYPES.get(path.suffix, "application/octet-stream"))

    async def _serve_websocket(self, connection: ServerConnection) -> None:
        request = connection.request
        offered = None
        if request is not None:
            offered = _offered_init_data(request.path.partition("?")[2],
                                         request.headers.get_all("Sec-WebSocket-Protocol"))
        await self.serve(_WebsocketTransport(connection), offered)

    @property
    def asgi(self) -> _AsgiApp:
        """The endpoint as an ASGI app, on the ASGI server's loop: Starlette's
        ``WebSocketRoute("/ws", mini_app.asgi)``, FastAPI's
        ``api.add_websocket_route("/ws", mini_app.asgi)``. It refuses connections (1013,
        an HTTP 403 to the page) while the engine is not running."""
        return _AsgiApp(self)

    async def _serve_asgi(self, scope: AsgiScope, receive: AsgiReceive, send: AsgiSend) -> None:
        if scope["type"] != "websocket":
            if scope["type"] == "http":
                await send({"type": "http.response.start", "status": 426,
                            "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"websocket only\n"})
            return
        connect = await receive()
        if connect["type"] != "websocket.connect":
            return
        query = scope.get("query_string", b"").decode("latin-1")
        protocols = list(scope.get("subprotocols") or ())
        if self._engine is None:
            await send({"type": "websocket.close", "code": CLOSE_NOT_READY,
                        "reason": "engine not running"})
            return
        await send({"type": "websocket.accept",
                    "subprotocol": SUBPROTOCOL if SUBPROTOCOL in protocols else None})
        await self.serve(_AsgiTransport(receive, send, self.max_size),
                         _offered_init_data(query, protocols))

    # -- the session -----------------------------------------------------------------------

    async def serve(self, transport: Transport, offered: str | None = None) -> None:
        """Run one connection to its end: login, then its frames into the actor model.

        ``offered``: initData the transport already had (query string, subprotocol).
        Public so another server (aiohttp, a test double) can bring its own transport.
        """
        engine = self._engine
        if engine is None:
            await transport.close(CLOSE_NOT_READY, "engine not running")
            return
        login = await self._authenticate(transport, offered, engine)
        if login is None:
            return
        data, user_id, probe, targets = login
        loop = asyncio.get_running_loop()
        outbox = self._outboxes.get(loop)
        if outbox is None:
            outbox = self._outboxes[loop] = _Outbox(loop)
        client = Client(self, transport, outbox, init_data=data, user_id=user_id,
                        targets=targets, probe=probe)
        ended: concurrent.futures.Future[None] = concurrent.futures.Future()
        with self._lock:
            self._clients.setdefault(user_id, {})[client] = ended
            self.logins += 1
        log.debug("webapp.client_connected", client=client.id, user_id=user_id)
        try:
            if not self._dispatch(client, ClientConnected(client)):
                return
            # After the dispatch: the batch reaches the router before this frame is
            # written, so what the user does after the welcome comes after "connected".
            client.send("welcome", {"user": data.user})
            await self._read(transport, client, engine)
        finally:
            client.open = False
            with self._lock:
                clients = self._clients.get(user_id)
                if clients is not None:
                    clients.pop(client, None)
                    if not clients:
                        del self._clients[user_id]
            self._dispatch(client, ClientDisconnected(client))
            log.debug("webapp.client_disconnected", client=client.id, user_id=user_id)
            asyncio.get_running_loop().call_soon(ended.set_result, None)  # after the flush

    async def _authenticate(
        self, transport: Transport, offered: str | None, engine: Engine
    ) -> tuple[WebAppData, int, dict[str, Any], list[tuple[int, Any]]] | None:
        """The validated login, the user, its probe update and its targets; or None, the
        connection refused and closed."""
        init_data = offered
        if init_data is None:
            if self._logging_in >= self.max_logins:
                await self._refuse(transport, CLOSE_NOT_READY, "too_many_logins", None)
                return None
            self._logging_in += 1
            try:
                init_data = await self._login_frame(transport)
            finally:
                self._logging_in -= 1
            if init_data is None:
                return None
        try:
            data = validate_init_data(init_data, self._token, max_age=self.max_age)
        except InitDataInvalid as exc:
            await self._refuse(transport, CLOSE_LOGIN_REFUSED, exc.reason, None)
            return None
        user_id = data.user_id
        if user_id is None:
            await self._refuse(transport, CLOSE_LOGIN_REFUSED, "no_user", None)
            return None
        if engine.access.is_banned(user_id):
            await self._refuse(transport, CLOSE_BANNED, "banned", user_id)
            return None
        probe = _probe(user_id, data.user or {})
        targets = self._targets(engine, probe)
        if not targets:
            await self._refuse(transport, CLOSE_NO_ROUTE, "no_route", user_id)
            return None
        return data, user_id, probe, targets

    async def _read(self, transport: Transport, client: Client, engine: Engine) -> None:
        access = engine.access
        while True:
            frame = await transport.recv()
            if frame is None or not client.open:
                return
            message = _parse(frame)
            if isinstance(message, str):
                log.info("webapp.bad_frame", client=client.id, user_id=client.user_id,
                         reason=message)
                client.open = False
                await transport.close(CLOSE_BAD_FRAME, f"bad frame: {message}")
                return
            if access.is_banned(client.user_id):
                log.info("webapp.client_banned", client=client.id, user_id=client.user_id)
                client.open = False
                await transport.close(CLOSE_BANNED, "banned")
                return
            window = self.window
            if client._unsettled >= window:
                await client._window(window)
            client._unsettled += len(client.targets)
            self.messages += 1
            if not self._dispatch(client, ClientMessage(client, *message)):
                return

    async def _login_frame(self, transport: Transport) -> str | None:
        try:
            async with asyncio.timeout(self.login_timeout):
                frame = await transport.recv()
        except TimeoutError:
            await self._refuse(transport, CLOSE_LOGIN_TIMEOUT, "login_timeout", None)
            return None
        if frame is None:
            return None
        message = _parse(frame)
        init_data = None
        if not isinstance(message, str) and message[0] == "login":
            data = message[1]
            init_data = data.get("initData") if isinstance(data, dict) else data
        if not isinstance(init_data, str):
            await self._refuse(transport, CLOSE_LOGIN_REFUSED, "login_required", None)
            return None
        return init_data

    async def _refuse(
        self, transport: Transport, code: int, reason: str, user_id: int | None
    ) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1
        log.info("webapp.login_refused", reason=reason, user_id=user_id)
        text = {"login_timeout": "login timeout", "banned": "banned",
                "too_many_logins": "too many logins waiting: try again later",
                "no_route": "no handler for this user",
                "login_required": "login required: send {type: login, data: {initData}}",
                }.get(reason, f"initData refused: {reason}")
        await transport.close(code, text)

    def _targets(self, engine: Engine, probe: dict[str, Any]) -> list[tuple[int, Any]]:
        targets = []
        for index in self._route_indexes:
            route = engine.routes[index]
            try:
                seed = route.seed(probe)
            except Exception as exc:  # noqa: BLE001 - a seed function that cannot take it
                log.debug("webapp.seed_failed", route=route.name, error=type(exc).__name__)
                continue
            if seed is not None and is_hashable(seed):
                targets.append((index, seed))
        return targets

    def _dispatch(self, client: Client, event: Routed) -> bool:
        """Send ``event`` to the client's handlers. On a loop, the events of one loop
        iteration go to the router in one message, in order (one router wake-up for many
        messages); from a handler's thread (a handover), at once."""
        engine = self._engine
        if engine is None:
            return False
        loop = asyncio._get_running_loop()
        if loop is None:
            try:
                engine.dispatch(client.targets, event)
            except NotRunning:
                return False
            return True
        batch = self._batches.get(loop)
        if batch is None:
            batch = self._batches[loop] = (engine, [])
            loop.call_soon(self._flush, loop)
        batch[1].append((client.targets, event))
        return True

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._batches.pop(loop, None)
        if batch is None:
            return
        engine, events = batch
        try:
            engine.dispatch_all(events)
        except NotRunning as exc:
            for _, event in events:
                event.failed(exc)


def _probe(user_id: int, user: Mapping[str, Any]) -> dict[str, Any]:
    """The update a client stands for when seeds are computed: a private text message."""
    sender = {"id": user_id, "is_bot": False, "first_name": user.get("first_name", "")}
    return {"update_id": 0, "message": {
        "message_id": 0, "date": int(time.time()), "text": "",
        "chat": {"id": user_id, "type": "private", "first_name": sender["first_name"]},
        "from": sender,
    }}


def _parse(frame: str | bytes) -> tuple[str, Any] | str:
    """``(type, data)`` of a frame, or why it is refused (never its content)."""
    if not isinstance(frame, str):
        return "binary frame"
    try:
        message = json.loads(frame)
    except ValueError:
        return "not JSON"
    if not isinstance(message, dict):
        return "not a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str) or not kind or len(kind) > _MAX_TYPE:
        return "no type"
    return kind, message.get("data")


def _offered_init_data(query: str, protocols: Sequence[str]) -> str | None:
    """initData from the URL's query string or a ``tma.<base64url>`` subprotocol."""
    for header in protocols:
        for offered in header.split(","):
            protocol = offered.strip()
            if protocol.startswith(_INIT_PROTOCOL):
                encoded = protocol[len(_INIT_PROTOCOL):]
                try:
                    return base64.urlsafe_b64decode(
                        encoded + "=" * (-len(encoded) % 4)).decode()
                except (binascii.Error, ValueError):
                    return ""  # refused as malformed by the validation
    if query:
        values = parse_qs(query, max_num_fields=8).get("initData")
        if values:
            return values[0]
    return None


def _response(status: HTTPStatus, body: bytes, content_type: str) -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")])
    return Response(status.value, status.phrase, headers, body)


def _select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    return Subprotocol(SUBPROTOCOL) if SUBPROTOCOL in offered else None


class _WebsocketTransport:
    __slots__ = ("_connection",)

    def __init__(self, connection: ServerConnection) -> None:
        self._connection = connection

    async def recv(self) -> str | bytes | None:
        try:
            return await self._connection.recv()
        except ConnectionClosed:
            return None

    async def send(self, text: str) -> None:
        await self._connection.send(text)

    async def close(self, code: int, reason: str) -> None:
        await self._connection.close(code, reason)


class _AsgiApp:
    """An ASGI application object (not a function: Starlette and FastAPI would take a
    function or a bound method for an endpoint that expects their ``WebSocket``)."""

    __slots__ = ("_app",)

    def __init__(self, app: MiniApp) -> None:
        self._app = app

    async def __call__(self, scope: AsgiScope, receive: AsgiReceive, send: AsgiSend) -> None:
        await self._app._serve_asgi(scope, receive, send)


class _AsgiTransport:
    __slots__ = ("_closed", "_max_size", "_receive", "_send")

    def __init__(self, receive: AsgiReceive, send: AsgiSend, max_size: int) -> None:
        self._receive = receive
        self._send = send
        self._max_size = max_size
        self._closed = False

    async def recv(self) -> str | bytes | None:
        if self._closed:
            return None
        message = await self._receive()
        if message["type"] != "websocket.receive":
            self._closed = True
            return None
        frame: str | bytes | None = message.get("text")
        if frame is None:
            frame = message.get("bytes") or b""
        if len(frame) > self._max_size:
            await self.close(1009, "frame too big")
            return None
        return frame

    async def send(self, text: str) -> None:
        if not self._closed:
            await self._send({"type": "websocket.send", "text": text})

    async def close(self, code: int, reason: str) -> None:
        if not self._closed:
            self._closed = True
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
