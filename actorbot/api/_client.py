"""A synchronous Bot API client: one per token, keep-alive connections.

JSON calls (nearly all of them) go over pooled ``http.client`` connections (see
``_transport``); uploads, downloads, proxies and a caller's own ``session`` use
``requests``.

Everything else in actorbot (poller, sender, compat layer) sends through this class, so it
owns the three things that must be right everywhere: typed errors, multipart uploads, and
never printing the token.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import os
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Protocol, Self

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from actorbot.api._errors import error_from_response
from actorbot.api._files import has_upload, multipart
from actorbot.api._loop_transport import LoopTransport
from actorbot.api._methods import METHODS, BotMethods
from actorbot.api._redact import guard_third_party_logs, redact
from actorbot.api._spec import MethodSpec
from actorbot.api._transport import JsonTransport, usable_for
from actorbot.errors import (
    ConfigError,
    ConnectError,
    ConnectionLost,
    InvalidResponse,
    NetworkError,
    ReadTimeout,
    ServerError,
    TelegramError,
)

DEFAULT_BASE_URL: Final = "https://api.telegram.org"

_SPECS_LOWER: Final[dict[str, MethodSpec]] = {k.lower(): v for k, v in METHODS.items()}
_JSON_HEADERS: Final = {"Content-Type": "application/json"}
_EXCERPT = 200


def method_spec(method: str) -> MethodSpec | None:
    """The spec of a Bot API method (names are case-insensitive, as on Telegram's side)."""
    return _SPECS_LOWER.get(method.lower())


class _Response(Protocol):
    """The part of an HTTP answer the decoder reads (requests' and our transport's)."""

    @property
    def status_code(self) -> int: ...
    @property
    def content(self) -> bytes: ...
    @property
    def text(self) -> str: ...
    @property
    def headers(self) -> Any: ...


def check_call(method: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The method's canonical name and the parameters without ``None`` values; a bad name
    or a missing required parameter raises here, before any request."""
    if not isinstance(method, str) or not method.isidentifier():
        raise ConfigError(f"not a Bot API method name: {method!r}")
    checked = {k: v for k, v in params.items() if v is not None}
    spec = _SPECS_LOWER.get(method.lower())
    if spec is None:
        return method, checked
    missing = [p for p in spec.required if p not in checked]
    if missing:
        names = ", ".join(repr(p) for p in missing)
        raise TypeError(f"{spec.name}() missing required parameter(s): {names}")
    return spec.name, checked


def _json_default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: v for k, v in dataclasses.asdict(value).items() if v is not None}
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@dataclasses.dataclass(frozen=True, slots=True)
class Connection:
    """How the engine reaches the Bot API (``Engine(connection=Connection(...))``).

    ``base_url``: a local Bot API server or a fake instead of Telegram's; ``session``: a
    ``requests.Session`` of yours (proxies, adapters) for uploads and downloads; the
    timeouts in seconds (a long poll waits its own timeout plus ``long_poll_margin``).
    """

    base_url: str = DEFAULT_BASE_URL
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    long_poll_margin: float = 10.0
    session: requests.Session | None = None

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"Connection.base_url must be an http(s) URL, not {self.base_url!r}")
        if min(self.connect_timeout, self.read_timeout) <= 0 or self.long_poll_margin < 0:
            raise ConfigError("Connection: timeouts must be positive")

    def client(self, token: str, *, pool_maxsize: int = 10) -> Client:
        """A :class:`Client` for ``token`` with these settings."""
        return Client(token, base_url=self.base_url, session=self.session,
                      connect_timeout=self.connect_timeout, read_timeout=self.read_timeout,
                      long_poll_margin=self.long_poll_margin, pool_maxsize=pool_maxsize)


class Client(BotMethods):
    """Bot API client for one token.

    ``call(method, **params)`` reaches any method, including ones newer than the generated
    table; the snake_case methods (``send_message`` ...) add signatures and type hints.
    Results are the decoded ``result`` field; failures raise :class:`TelegramError`
    subclasses. Thread-safe for concurrent calls (requests' connection pool).
    """

    __slots__ = ("_base", "_fast", "_file_base", "_pool_maxsize", "_session", "_token",
                 "base_url", "connect_timeout", "long_poll_margin", "read_timeout")

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        session: requests.Session | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        long_poll_margin: float = 10.0,
        pool_maxsize: int = 10,
    ) -> None:
        if not isinstance(token, str) or not token or "/" in token or token != token.strip():
            raise ConfigError("token must be a non-empty string without '/' or spaces")
        self._token = token
        guard_third_party_logs(token)
        self.base_url = base_url.rstrip("/")
        self._base = f"{self.base_url}/bot{token}/"
        self._file_base = f"{self.base_url}/file/bot{token}/"
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.long_poll_margin = long_poll_margin
        self._fast: JsonTransport | None = None
        self._pool_maxsize = pool_maxsize
        if session is None and usable_for(self.base_url):
            self._fast = JsonTransport(self.base_url, pool_maxsize=pool_maxsize,
                                       connect_timeout=connect_timeout, token=token)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_maxsize, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self._session = session

    @property
    def token(self) -> str:
        """The bot token. Secret: never log it."""
        return self._token

    @property
    def bot_id(self) -> int | None:
        """The numeric bot id (the token's prefix), safe to show."""
        head = self._token.partition(":")[0]
        return int(head) if head.isdigit() else None

    def __repr__(self) -> str:
        return f"Client(bot_id={self.bot_id}, base_url={self.base_url!r})"

    def close(self) -> None:
        self._session.close()
        if self._fast is not None:
            self._fast.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- calls ---------------------------------------------------------------------------

    def call(self, method: str, /, **params: Any) -> Any:
        """Call ``method`` with ``params`` (``None`` values are omitted) and return its result."""
        return self.request(method, params)

    def request(
        self, method: str, params: Mapping[str, Any], *, read_timeout: float | None = None
    ) -> Any:
        """Like :meth:`call`, with the parameters as a mapping and an optional read timeout."""
        method, checked = check_call(method, params)
        return self.request_checked(method, checked, read_timeout=read_timeout)

    def request_checked(
        self, method: str, params: Mapping[str, Any], *, read_timeout: float | None = None
    ) -> Any:
        """:meth:`request` for a call :func:`check_call` already passed: the sender checks
        each call when it is queued, so its HTTP workers do not check it again."""
        if read_timeout is None:
            read_timeout = self._read_timeout_for(method, params)
        response: _Response
        with ExitStack() as stack:
            if has_upload(params):
                data, files = multipart(params, stack)
                kwargs: dict[str, Any] = {"data": data, "files": files}
            elif self._fast is not None:
                body = self._encode(method, params)
                response = self._fast.post(method, body, read_timeout)
                return self._decode(method, response)
            else:
                kwargs = {"data": self._encode(method, params), "headers": _JSON_HEADERS}
            response = self._post(method, (self.connect_timeout, read_timeout), kwargs)
        return self._decode(method, response)

    def _read_timeout_for(self, method: str, params: Mapping[str, Any]) -> float:
        read_timeout = self.read_timeout
        if method.lower() == "getupdates":
            poll = params.get("timeout", 0)
            if isinstance(poll, int | float):
                read_timeout = max(read_timeout, float(poll) + self.long_poll_margin)
        return read_timeout

    def loop_session(self) -> LoopSession:
        """This client's calls from the running event loop, without a thread per call."""
        return LoopSession(self)

    @staticmethod
    def _encode(method: str, params: Mapping[str, Any]) -> bytes:
        try:
            text = json.dumps(params, separators=(",", ":"), ensure_ascii=False,
                              default=_json_default)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{method}(): cannot serialise parameters: {exc}") from None
        return text.encode()

    def _post(
        self, method: str, timeout: tuple[float, float], kwargs: dict[str, Any]
    ) -> requests.Response:
        try:
            return self._session.post(self._base + method, timeout=timeout, **kwargs)
        except requests.RequestException as exc:
            error = self._network_error(method, exc)
        # Raised outside the ``except``: ``from None`` would still keep requests' exception,
        # its URL and so the token, as ``__context__``.
        raise error

    def _network_error(self, method: str, exc: BaseException) -> NetworkError:
        """Map a requests/urllib3 failure to a typed error, with the token scrubbed out."""
        detail = redact(f"{type(exc).__name__}: {exc}", self._token)
        if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
            return ConnectError(f"could not connect ({detail})", method=method)
        if isinstance(exc, requests.ReadTimeout):
            return ReadTimeout(f"no answer in time ({detail})", method=method)
        if isinstance(exc, requests.ConnectionError):
            reason = exc.args[0] if exc.args else None
            reason = getattr(reason, "reason", reason)
            if isinstance(reason, urllib3.exceptions.NewConnectionError):
                return ConnectError(f"could not connect ({detail})", method=method)
            return ConnectionLost(f"connection lost ({detail})", method=method)
        return ConnectionLost(f"request failed ({detail})", method=method)

    def _decode(self, method: str, response: _Response) -> Any:
        status = response.status_code
        try:
            body = json.loads(response.content)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than json allows
            excerpt = redact(response.text[:_EXCERPT], self._token).strip()
            if status >= 500:
                raise ServerError(status, f"non-JSON answer: {excerpt!r}", method=method) from None
            raise InvalidResponse(status, f"not JSON: {excerpt!r}", method=method) from None
        if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
            raise InvalidResponse(status, "no 'ok' field in the answer", method=method)
        if body["ok"]:
            if "result" not in body:
                raise InvalidResponse(status, "'ok' answer without 'result'", method=method)
            return body["result"]
        code = body.get("error_code")
        if not isinstance(code, int) or isinstance(code, bool):
            code = status
        description = body.get("description")
        if not isinstance(description, str):
            description = f"HTTP {status}"
        parameters = body.get("parameters")
        if not isinstance(parameters, dict):
            parameters = {}
        retry_header = response.headers.get("Retry-After", "")
        if "retry_after" not in parameters and status == 429 and retry_header.isdigit():
            parameters = {**parameters, "retry_after": int(retry_header)}
        raise error_from_response(
            status, code, redact(description, self._token), parameters, method=method
        )

    # -- files ---------------------------------------------------------------------------

    def file_url(self, file_path: str) -> str:
        """The download URL of a file. It contains the token: never print or log it."""
        return self._file_base + file_path.lstrip("/")

    def download_file(self, file_id: str, dest: str | os.PathLike[str] | IO[bytes]) -> int:
        """Download a file by ``file_id`` into a path or binary file object; returns its size.

        A failed download into a path leaves no partial file behind.
        """
        info = self.get_file(file_id)
        file_path = info.get("file_path") if isinstance(info, dict) else None
        if not isinstance(file_path, str) or not file_path:
            raise InvalidResponse(200, "getFile returned no file_path", method="getFile")
        if isinstance(dest, str | os.PathLike):
            path = Path(dest)
            try:
                with path.open("wb") as fh:
                    return self._download(file_path, fh)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        return self._download(file_path, dest)

    def download_bytes(self, file_id: str) -> bytes:
        """Download a small file into memory."""
        buf = io.BytesIO()
        self.download_file(file_id, buf)
        return buf.getvalue()

    def _download(self, file_path: str, fh: IO[bytes]) -> int:
        try:  # the URL (with the token) in no local: tracebacks may render them
            with self._session.get(
                self.file_url(file_path), timeout=(self.connect_timeout, self.read_timeout),
                stream=True,
            ) as response:
                if response.status_code != 200:
                    self._decode("downloadFile", response)
                    raise InvalidResponse(response.status_code, "download failed",
                                          method="downloadFile")
                size = 0
                for chunk in response.iter_content(chunk_size=64 * 1024):
                    fh.write(chunk)
                    size += len(chunk)
                return size
        except requests.RequestException as exc:
            error = self._network_error("downloadFile", exc)
        raise error  # outside the ``except``: no ``__context__`` with the URL (see _post)


__all__ = ["DEFAULT_BASE_URL", "Client", "Connection", "TelegramError", "check_call", "method_spec"]


class LoopSession:
    """A :class:`Client`'s calls made from one event loop (use it on that loop only).

    JSON calls go over the loop's own keep-alive connections
    (:class:`~actorbot.api._loop_transport.LoopTransport`), answers decoded as
    :meth:`Client.request_checked` does, with the same typed errors. What the fast path
    does not serve (uploads, a custom session, a proxy) runs in a thread.
    """

    __slots__ = ("_client", "_transport")

    def __init__(self, client: Client) -> None:
        self._client = client
        self._transport: LoopTransport | None = None
        if client._fast is not None:
            self._transport = LoopTransport(
                client.base_url, pool_maxsize=client._pool_maxsize,
                connect_timeout=client.connect_timeout, token=client._token)

    def __repr__(self) -> str:
        return f"LoopSession({self._client!r})"

    async def request_checked(self, method: str, params: Mapping[str, Any]) -> Any:
        """:meth:`Client.request_checked`, awaited on the loop."""
        client = self._client
        if self._transport is None or has_upload(params):
            return await asyncio.to_thread(client.request_checked, method, params)
        body = client._encode(method, params)
        answer = await self._transport.post(method, body, client._read_timeout_for(method, params))
        return client._decode(method, answer)

    def close(self) -> None:
        """Close the idle connections (on the loop's thread)."""
        if self._transport is not None:
            self._transport.close()
