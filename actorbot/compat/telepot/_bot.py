"""telepot's ``Bot``, ``SpeakerBot`` and ``DelegatorBot`` on actorbot's client and engine.

Every camelCase Bot API method exists (telepot's with their positional order, 6.3's where
12.7 changed it; newer ones with their required parameters positional) and returns the
decoded result, raising telepot's exceptions. While the bot's message loop runs, calls go
through the engine's sender (rate limits, retries, per-chat order) and wait for their
result; before and after, they go straight to the Bot API.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any

from actorbot.api import Client
from actorbot.compat.telepot import _calls, api, helper
from actorbot.compat.telepot._flavor import NORMAL as _NORMAL
from actorbot.compat.telepot._flavor import flavor as _flavor
from actorbot.compat.telepot._flavor import routing_table
from actorbot.compat.telepot._listen import Listener, Microphone
from actorbot.compat.telepot._runtime import Loop, reorderer
from actorbot.compat.telepot.exception import BadFlavor, translate
from actorbot.errors import TelegramError as _ActorbotError
from actorbot.intake import Polling
from actorbot.routing import Route
from actorbot.updates import UPDATE_TYPES

Handle = Callable[[Any], Any] | dict[Any, Any] | None


class BotBase:
    """What the threaded and the asyncio ``Bot`` share: the client, the engine options,
    routing by flavor, and Bot API methods made from their names (``_method`` says how
    one is called)."""

    def __init__(self, token: str, *, base_url: str | None = None, **engine_options: Any):
        options = api.defaults()
        options.update(engine_options)
        url = base_url or options.pop("base_url")
        options.pop("base_url", None)
        self._client = Client(token, base_url=url)
        self._engine_options = options
        self._router = helper.Router(_flavor, {None: self._on_flavor})
        self._loop: Loop | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} bot_id={self._client.bot_id}>"

    @property
    def client(self) -> Client:
        """The actorbot client behind this bot."""
        return self._client

    @property
    def router(self) -> helper.Router:
        return self._router

    def handle(self, msg: Any) -> Any:
        """Route ``msg`` to ``on_chat_message``, ``on_callback_query``, ... by flavor."""
        return self._router.route(msg)

    def _on_flavor(self, msg: Any) -> Any:
        kind = _flavor(msg)
        return getattr(self, "on_chat_message" if kind == _NORMAL else f"on_{kind}")(msg)

    # -- Bot API methods ---------------------------------------------------------------

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_") or _calls.signature(name) is None:
            raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")
        method = self._method(name)
        method.__name__ = name
        return method

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *_calls.method_names()})

    def _method(self, name: str) -> Callable[..., Any]:
        raise NotImplementedError

    @staticmethod
    def _bind(name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
              ) -> tuple[str, dict[str, Any]]:
        """The Bot API method and parameters of telepot's ``name(*args, **kwargs)``."""
        return _calls.modernize(name, _calls.bind(name, args, kwargs))

    def _handler(self, handle: Handle) -> Callable[[Any], Any]:
        if handle is None:
            return self.handle
        if isinstance(handle, dict):
            return helper.Router(_flavor, routing_table(handle)).route
        return handle

    # -- the message loop --------------------------------------------------------------

    def _routes(self, handle: Handle) -> Callable[[Loop], list[Route]]:
        callback = self._handler(handle)
        return lambda loop: [loop.callback_route(callback)]

    def _new_loop(self, handle: Handle, *, polling: bool = True, timeout: int = 20,
                  allowed_updates: Any = None) -> Loop:
        if self._loop is not None and self._loop.engine.status != "stopped":
            raise RuntimeError("this bot's message loop is already running")
        options = dict(self._engine_options)
        timeout = options.pop("poll_timeout", timeout)
        intake = Polling(timeout=timeout, allowed_updates=allowed_updates) if polling else None
        self._loop = self._loop_class(self, self._routes(handle), intake=intake,
                                      options=options)
        return self._loop

    _loop_class: type[Loop] = Loop
    """What runs this bot's message loop (the asyncio flavour has its own)."""

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the message loop gracefully (actorbot's addition); True if all was drained."""
        loop = self._loop
        return True if loop is None else loop.stop(timeout)


class Bot(BotBase):
    """A telepot ``Bot``: ``Bot(token)``; ``base_url`` and engine options are actorbot's
    additions (defaults from :func:`actorbot.compat.telepot.api.configure`)."""

    @property
    def loop(self) -> Loop | None:
        """The running message loop (its ``engine`` has the stats), if any."""
        return self._loop

    def _method(self, name: str) -> Callable[..., Any]:
        def method(*args: Any, **kwargs: Any) -> Any:
            return self._api(name, args, kwargs)

        return method

    def _api(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        method, params = self._bind(name, args, kwargs)
        return self._request(method, params)

    def _request(self, method: str, params: dict[str, Any]) -> Any:
        try:
            loop = self._loop
            if loop is not None and method != "getUpdates":
                future = loop.call(method, params)
                if future is not None:
                    return future.get()
            return self._client.request(method, params)
        except _ActorbotError as exc:
            raise translate(exc) from None

    def download_file(self, file_id: str, dest: Any) -> None:
        """Download a file to a path or a binary file object."""
        try:
            self._client.download_file(file_id, dest)
        except _ActorbotError as exc:
            raise translate(exc) from None

    downloadFile = download_file  # noqa: N815 - telepot 8's name

    # -- the message loop --------------------------------------------------------------

    def message_loop(  # noqa: PLR0917 - telepot's positional signature
        self, callback: Handle = None, relax: float = 0.1, timeout: int = 20,
        allowed_updates: Any = None, source: Any = None, ordered: bool = True,
        maxhold: float = 3, run_forever: bool | str = False,
    ) -> None:
        """Handle updates from ``getUpdates`` (or the ``source`` queue) with ``callback``.

        Returns at once unless ``run_forever`` (a string is printed first); the loop then
        stops gracefully when the main thread ends, on SIGINT/SIGTERM with
        ``run_forever``, or on :meth:`stop`. ``relax`` is unused: polling is long polling.
        """
        if source is not None and not isinstance(source, queue.Queue):
            raise ValueError("Invalid source")
        loop = self._new_loop(callback, polling=source is None, timeout=timeout,
                              allowed_updates=allowed_updates)
        orderer = None
        if source is not None and ordered:
            orderer = reorderer(loop.engine, maxhold)
        if run_forever:
            if isinstance(run_forever, str):
                print(run_forever)  # telepot's documented behaviour
            loop.run_forever(source=source, orderer=orderer)
        else:
            loop.start(source=source, orderer=orderer, watch=True)

    def notifyOnMessage(  # noqa: N802, PLR0917 - telepot 6's name and signature
        self, callback: Handle = None, relax: float = 0.1, timeout: int = 20,
        source: Any = None, ordered: bool = True, maxhold: float = 3,
        run_forever: bool | str = False,
    ) -> None:
        self.message_loop(callback, relax, timeout, None, source, ordered, maxhold, run_forever)



class SpeakerBot(Bot):
    """A bot with a microphone: ``create_listener()`` listeners hear every message."""

    def __init__(self, token: str, **options: Any) -> None:
        super().__init__(token, **options)
        self._mic = Microphone()

    @property
    def mic(self) -> Microphone:
        return self._mic

    def create_listener(self) -> Listener:
        q: queue.Queue[Any] = queue.Queue()
        self._mic.add(q)
        return Listener(self._mic, q)


class DelegatorBot(SpeakerBot):
    """Delegates messages per seed: ``DelegatorBot(token, [(seeder, delegator), ...])``.

    Each pair is a route of the engine; see :mod:`._runtime` for how delegates run.
    """

    def __init__(self, token: str, delegation_patterns: list[Any], **options: Any) -> None:
        super().__init__(token, **options)
        self._patterns = [tuple(p) for p in delegation_patterns]
        self._handle_lock = threading.Lock()
        self._synthetic_ids = itertools.count(-1, -1)

    def handle(self, msg: Any) -> None:
        """Delegate ``msg`` (a message, as telepot passed them) as the message loop does.

        telepot 6.3 let a program with its own webhook call this directly: the first call
        starts a message loop without polling, which stops with the main thread or
        :meth:`stop`. The Update made around ``msg`` gets a negative ``update_id``, so it
        can never be taken for one of Telegram's.
        """
        key = update_key(msg)
        with self._handle_lock:
            loop = self._loop
            if loop is None or loop.engine.status == "stopped":
                loop = self._new_loop(None, polling=False)
                loop.start(watch=True)
            update = {"update_id": next(self._synthetic_ids), key: msg}
        loop.feed(update)

    def _routes(self, handle: Handle) -> Callable[[Loop], list[Route]]:
        return super()._routes(handle) if handle is not None else delegation(self._patterns)


def update_key(msg: Any) -> str:
    """The Update field a message handed to ``handle`` goes under (BadFlavor if none)."""
    kind = _flavor(msg)
    key = "message" if kind == _NORMAL else kind
    if key not in UPDATE_TYPES:
        raise BadFlavor(msg)
    return key


def delegation(patterns: list[tuple[Any, ...]]) -> Callable[[Loop], list[Route]]:
    """The routes of a ``DelegatorBot``: one per pattern, and the microphone's."""

    def build(loop: Loop) -> list[Route]:
        routes: list[Route] = []
        seen: set[str] = set()
        for seeder, delegator in patterns:
            label = str(getattr(delegator, "label", None)
                        or getattr(delegator, "__name__", "delegate"))
            label = label if label not in seen else f"{label}-{len(routes) + 1}"
            seen.add(label)
            routes.append(loop.delegate_route(seeder, delegator, label))
        return [*routes, loop.mic_route()]

    return build
