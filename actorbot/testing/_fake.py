"""``FakeBotApi``: the public face of the fake server (lifecycle and the control API).

Tests drive it from Python (inject updates, declare chats, add faults, wait for calls)
while the code under test talks to it over real HTTP, exactly as it talks to Telegram.
Every control method is thread-safe.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Final

from actorbot.api import Connection
from actorbot.testing import _errors as errs
from actorbot.testing._dispatch import Dispatcher, token_is_valid
from actorbot.testing._faults import Fault, FaultSet
from actorbot.testing._flood import FloodControl, FloodLimits
from actorbot.testing._handlers import commands_key, store_file
from actorbot.testing._http import HttpServer
from actorbot.testing._inject import InjectMixin
from actorbot.testing._objects import (
    CHAT_TYPES,
    PRIVATE,
    Json,
    UserInfo,
    bot_user,
)
from actorbot.testing._state import BotState, RecordedCall
from actorbot.testing._webhook import WebhookDeliverer

DEFAULT_TOKEN: Final = "123456:TEST-token"  # noqa: S105  (a fake bot's token)


class FakeBotApi(InjectMixin):
    """A fake Telegram Bot API server for one bot, on ``127.0.0.1`` and a free port.

    Use as a context manager (or ``start()``/``stop()``). The API is at
    ``f"{base_url}/bot{token}/{method}"`` and files at ``f"{base_url}/file/bot{token}/{path}"``.

    ``flood_control`` enables Telegram's rate limits (``flood_limits``; time from ``clock``),
    ``latency`` delays every API request (per connection, emulating a round trip),
    ``seed`` seeds the RNG of probabilistic faults and dice, ``first_update_id`` is the
    first update's id, ``record_calls=False`` keeps no :class:`RecordedCall` (counters only;
    for long soak benchmarks), ``strict_chats`` answers "chat not found" for chats never declared
    or seen, ``deliver_webhooks`` POSTs updates to a webhook set on a local ``http://`` URL.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        flood_control: bool = False,
        flood_limits: FloodLimits | None = None,
        latency: float = 0.0,
        seed: int | None = 0,
        clock: Callable[[], float] = time.monotonic,
        first_update_id: int = 100_000_001,
        strict_chats: bool = False,
        record_calls: bool = True,
        deliver_webhooks: bool = True,
        bot_name: str = "Test Bot",
        bot_username: str = "test_bot",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if not token_is_valid(token):
            raise ValueError("token must look like '<bot id>:<secret>'")
        self._token = token
        self.bot_id = int(token.partition(":")[0])
        self._rng = random.Random(seed)  # noqa: S311  (reproducible, not secret)
        self.bot_user: Json = bot_user(self.bot_id, bot_name, bot_username)
        self._state = BotState(self.bot_user, first_update_id, clock, self._rng)
        self._state.strict_chats = strict_chats
        self._state.record_calls = record_calls
        self._faults = FaultSet(seed)
        self._flood = FloodControl(flood_limits or FloodLimits())
        self._stop_event = threading.Event()
        self._dispatch = Dispatcher(token, self._state, self._faults, self._flood, self._stop_event)
        self._dispatch.flood_enabled = flood_control
        self._dispatch.latency = latency
        self._host, self._port = host, port
        self._http: HttpServer | None = None
        self._errors: list[Exception] = []
        self._webhooks = (
            WebhookDeliverer(self._state, self._stop_event) if deliver_webhooks else None
        )
        self._started = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeBotApi:
        """Bind and start serving. A server runs once: create a new one to restart."""
        if self._started:
            raise RuntimeError("FakeBotApi can only be started once")
        self._started = True
        self._http = HttpServer(self._dispatch, self._stop_event, self._host, self._port)
        self._http.start()
        if self._webhooks is not None:
            self._webhooks.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Wake pending long polls, close every connection, join every thread."""
        with self._state.lock:
            self._state.close()
        self._stop_event.set()
        if self._webhooks is not None:
            self._webhooks.stop(timeout)
        if self._http is not None:
            self._http.stop(timeout)
            self._errors = self._http.errors
            self._http = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:  # never show the token
        state = "running" if self._http is not None else "stopped"
        return f"<FakeBotApi bot_id={self.bot_id} {state} port={self.port}>"

    # -- addresses and settings ------------------------------------------------------------

    @property
    def token(self) -> str:
        return self._token

    def revoke_token(self) -> str:
        """What BotFather's /revoke does: the current token is refused from now on (401
        Unauthorized, a pending long poll included); returns the new token."""
        bot_id, _, secret = self._token.partition(":")
        new = f"{bot_id}:{secret}R"
        with self._state.lock:
            self._token = new
            self._dispatch.token = new
            self._state.terminate_poll(errs.UNAUTHORIZED, code=401)
        return new

    @property
    def port(self) -> int:
        return self._http.port if self._http is not None else 0

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (raises if not started)."""
        if self._http is None:
            raise RuntimeError("FakeBotApi is not running")
        return f"http://{self._http.host}:{self._http.port}"

    @property
    def connection(self) -> Connection:
        """Reach this fake: ``Engine(tg.token, routes, connection=tg.connection)``."""
        return Connection(base_url=self.base_url)

    @property
    def api_url(self) -> str:
        """``{base_url}/bot{token}``: append ``/<method>``."""
        return f"{self.base_url}/bot{self._token}"

    def file_url(self, file_path: str) -> str:
        return f"{self.base_url}/file/bot{self._token}/{file_path}"

    @property
    def flood_control(self) -> bool:
        return self._dispatch.flood_enabled

    @flood_control.setter
    def flood_control(self, enabled: bool) -> None:
        with self._state.lock:
            self._dispatch.flood_enabled = enabled

    @property
    def flood_limits(self) -> FloodLimits:
        return self._flood.limits

    @flood_limits.setter
    def flood_limits(self, limits: FloodLimits) -> None:
        """Replace the limits (buckets restart full)."""
        with self._state.lock:
            self._flood.reset(limits)

    @property
    def latency(self) -> float:
        return self._dispatch.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._dispatch.latency = float(seconds)

    # -- faults ------------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    def close_connections(self) -> int:
        """Close every open client connection now (e.g. to test reconnects)."""
        return self._http.close_all_connections() if self._http is not None else 0

    # -- chats and users ---------------------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        type: str | None = None,  # Telegram's field name
        *,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        is_forum: bool = False,
    ) -> Json:
        """Declare a chat's details (type defaults from the id); returns its Chat dict."""
        if type is not None and type not in CHAT_TYPES:
            raise ValueError(f"chat type must be one of {CHAT_TYPES}")
        st = self._state
        with st.lock:
            chat = st.chat(chat_id, type)
            if type is not None:
                chat.type = type
            for name, value in (
                ("title", title),
                ("username", username),
                ("first_name", first_name),
                ("last_name", last_name),
            ):
                if value is not None:
                    setattr(chat, name, value)
            chat.is_forum = chat.is_forum or is_forum
            if chat.type == PRIVATE and chat_id in st.users:
                user = st.users[chat_id]
                user.first_name = chat.first_name or user.first_name
                user.last_name = chat.last_name or user.last_name
                user.username = chat.username or user.username
            return chat.to_dict()

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> Json:
        """Declare a user (the ``from`` of injected updates); returns its User dict."""
        st = self._state
        with st.lock:
            user = UserInfo(
                user_id, first_name or f"User{user_id}", last_name, username, language_code
            )
            st.users[user_id] = user
            chat = st.chats.get(user_id)
            if chat is not None and chat.type == PRIVATE:
                chat.first_name, chat.last_name, chat.username = (
                    user.first_name,
                    user.last_name,
                    user.username,
                )
            return user.to_dict()

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Upgrade group ``old_id`` to supergroup ``new_id``: writes to the old id fail with
        400 and ``migrate_to_chat_id``."""
        st = self._state
        with st.lock:
            old = st.chat(old_id)
            st.migrated[old_id] = new_id
            new = st.chat(new_id, "supergroup")
            new.type = "supergroup"
            new.title = new.title or old.title

    def block_bot(self, chat_id: int) -> None:
        """The user blocks the bot: sends to ``chat_id`` fail with 403."""
        with self._state.lock:
            self._state.blocked.add(chat_id)

    def unblock_bot(self, chat_id: int) -> None:
        with self._state.lock:
            self._state.blocked.discard(chat_id)

    # -- files and commands ------------------------------------------------------------------

    def add_file(
        self,
        content: bytes,
        filename: str = "file.bin",
        *,
        kind: str = "document",
        mime_type: str = "",
    ) -> str:
        """Store a file as if uploaded earlier; returns its file_id (usable in sends/getFile)."""
        with self._state.lock:
            return store_file(self._state, bytes(content), filename, mime_type, kind).file_id

    def file_content(self, file_id: str) -> bytes:
        with self._state.lock:
            return self._state.files[file_id].data

    def commands(self, scope: Json | None = None, language_code: str = "") -> list[Json]:
        """The command list stored for ``scope`` (default scope if None) and language."""
        with self._state.lock:
            return copy.deepcopy(self._state.commands.get(commands_key(scope, language_code), []))

    def webhook_secret(self) -> str | None:
        """The secret_token given to setWebhook (getWebhookInfo never shows it)."""
        with self._state.lock:
            return self._state.webhook.secret_token

    # -- reading what happened ---------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        with self._state.lock:
            return list(self._state.calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._state.lock:
            return list(self._state.calls_by_method.get(method.lower(), ()))

    def reset_calls(self) -> None:
        with self._state.lock:
            self._state.reset_calls()

    def transcript(self, chat_id: int) -> list[Json]:
        """Every message in the chat, user's and bot's, in order (deleted ones omitted)."""
        with self._state.lock:
            return copy.deepcopy(list(self._state.messages.get(chat_id, {}).values()))

    def sent_texts(self, chat_id: int) -> list[str]:
        """Texts (or captions) of the bot's messages in the chat, in order."""
        with self._state.lock:
            out = []
            for msg in self._state.messages.get(chat_id, {}).values():
                sender = msg.get("from") or {}
                if sender.get("id") == self.bot_id or ("sender_chat" in msg and not sender):
                    text = msg.get("text", msg.get("caption"))
                    if isinstance(text, str):
                        out.append(text)
            return out

    @property
    def pending_update_count(self) -> int:
        with self._state.lock:
            return len(self._state.queue)

    @property
    def errors(self) -> list[Exception]:
        """Exceptions the fake itself raised while answering (each answered 500)."""
        return list(self._http.errors) if self._http is not None else list(self._errors)

    @property
    def long_poll_pending(self) -> bool:
        """Whether a getUpdates long poll is waiting right now."""
        with self._state.lock:
            return self._state.poll is not None

    @property
    def confirmed_offset(self) -> int:
        """Updates with an id below this were confirmed (or forgotten) by getUpdates."""
        with self._state.lock:
            return self._state.confirmed_offset

    @property
    def count_429(self) -> int:
        """How many 429 answers were sent (flood control and faults)."""
        with self._state.lock:
            return self._state.stats["status_429"]

    @property
    def stats(self) -> dict[str, int]:
        """Counters: calls, status_<code>, flood_429, dropped_before/after, downloads, ..."""
        with self._state.lock:
            out = dict(self._state.stats)
        out["faults_fired"] = self._faults.fired
        return out

    # -- waiting -------------------------------------------------------------------------------

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` is true, re-checking on every call or update.

        Returns False on timeout. The predicate runs with the state lock held: keep it
        quick and do not call the server over HTTP from it.
        """
        with self._state.changed:
            return self._state.changed.wait_for(predicate, timeout)

    def wait_for_calls(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedCall]:
        """Wait for at least ``count`` calls to ``method``; returns all calls to it.

        Raises TimeoutError naming what arrived instead.
        """
        key = method.lower()
        st = self._state
        with st.changed:
            ok = st.changed.wait_for(lambda: len(st.calls_by_method.get(key, ())) >= count, timeout)
            if not ok:
                got = len(st.calls_by_method.get(key, ()))
                seen = sorted({c.method for c in st.calls})
                raise TimeoutError(
                    f"expected {count} call(s) to {method} within {timeout}s, got {got};"
                    f" methods called: {seen}"
                )
            return list(st.calls_by_method[key])
