"""From an HTTP request to a Bot API answer: routing, tokens, faults, flood control, records.

This is the one place that knows the order Telegram applies things in: URL shape, token
syntax, token, method name, parameters, then (fake-only) latency and faults, then flood
control, then the method itself. Every answered call to a known path is recorded.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import unquote

from actorbot.api import METHODS
from actorbot.testing import _errors as errs
from actorbot.testing._decode import coerce, parse_request
from actorbot.testing._errors import FakeApiError, too_many_requests
from actorbot.testing._faults import Fault, FaultSet, RawAnswer
from actorbot.testing._flood import FloodControl, is_charged
from actorbot.testing._handlers import HANDLERS, MethodCall, WithDescription
from actorbot.testing._http import Request, Response
from actorbot.testing._state import BotState, RawResult, RecordedCall

METHOD_INDEX: Final = {name.lower(): name for name in METHODS}
#: Required parameters for which an empty string is meaningful ("remove the webhook").
_EMPTY_OK: Final = frozenset({("setWebhook", "url")})
_MAX_TOKEN: Final = 80


def token_is_valid(token: str) -> bool:
    """The real server's syntax check: ``<bot id>:<secret>``, no '/', bot id in range."""
    bot_id, sep, _ = token.partition(":")
    if not sep or len(token) > _MAX_TOKEN or "/" in token:
        return False
    if not bot_id.isascii() or not bot_id.isdigit() or bot_id.startswith("0"):
        return False
    return 0 < int(bot_id) < (1 << 53)


def _encode(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def error_response(err: FakeApiError) -> Response:
    return Response(err.status, err.encode(), headers=err.headers)


def _is_present(value: Any) -> bool:
    return value is not None and value != ""


class Dispatcher:
    """Answers requests for one bot. ``latency`` and ``flood_enabled`` may change any time."""

    def __init__(
        self,
        token: str,
        state: BotState,
        faults: FaultSet,
        flood: FloodControl,
        stop: threading.Event,
    ) -> None:
        self.token = token
        self.state = state
        self.faults = faults
        self.flood = flood
        self.flood_enabled = False
        self.latency = 0.0
        self.on_update_change: Callable[[], None] | None = None
        self._stop = stop

    def __call__(self, req: Request) -> Response:
        path = unquote(req.path)
        if path.startswith("/bot"):
            return self._api(req, path[4:])
        if path.startswith("/file/bot"):
            return self._download(path[9:])
        return error_response(FakeApiError(404, errs.NOT_FOUND))

    def _check_token(self, token: str) -> FakeApiError | None:
        if not token_is_valid(token):
            return FakeApiError(401, errs.INVALID_TOKEN)
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return FakeApiError(401, errs.UNAUTHORIZED)
        return None

    def _download(self, rest: str) -> Response:
        token, sep, file_path = rest.partition("/")
        if not sep or not file_path:
            return error_response(FakeApiError(404, errs.NOT_FOUND))
        err = self._check_token(token)
        if err is not None:
            return error_response(err)
        with self.state.lock:
            f = self.state.file_paths.get(file_path)
            self.state.stats["downloads"] += 1
        if f is None:
            return error_response(FakeApiError(404, errs.NOT_FOUND))
        return Response(200, f.data, content_type=f.mime_type)

    def _api(self, req: Request, rest: str) -> Response:
        token, sep, name = rest.partition("/")
        if not sep or not name or "/" in name:
            return error_response(FakeApiError(404, errs.NOT_FOUND))
        err = self._check_token(token)
        if err is not None:
            with self.state.lock:
                self.state.stats["unauthorized"] += 1
            return error_response(err)
        return self._call(req, name)

    def _call(self, req: Request, name: str) -> Response:
        received = self.state.clock()
        method = METHOD_INDEX.get(name.lower())
        try:
            params, uploads = parse_request(
                req.query, req.headers.get("content-type", ""), req.body
            )
        except FakeApiError as exc:
            return self._finish(MethodCall(method or name, {}, {}), received, exc)
        if method is None:
            err = FakeApiError(404, errs.METHOD_NOT_FOUND)
            return self._finish(MethodCall(name, params, uploads), received, err)
        coerce(method, params)
        call = MethodCall(method, params, uploads)
        hits = self.faults.match(method, params.get("chat_id")) if self.faults else []
        delay = self.latency + sum(self.faults.latency(f) for f in hits)
        if delay > 0 and self._stop.wait(delay):
            return Response(503, drop=True)
        if any(f.drop == "before" for f in hits):
            with self.state.lock:
                self.state.stats["dropped_before"] += 1
            return Response(503, drop=True)
        status_fault = next((f for f in hits if f.answers), None)
        if status_fault is not None:
            answer: Any = status_fault.error()
        else:
            answer = self._run(call, received)
        return self._finish(call, received, answer, hits)

    def _run(self, call: MethodCall, received: float) -> Any:
        """Run the method under the state lock; returns its result or an FakeApiError."""
        st = self.state
        spec = METHODS[call.method]
        with st.lock:
            try:
                for name in spec.required:
                    value = call.params.get(name)
                    if (call.method, name) in _EMPTY_OK and value == "":
                        continue
                    if not _is_present(value) and name not in call.uploads:
                        raise errs.missing_param(call.method, name)
                charge = self.flood_enabled and is_charged(call.method)
                if charge:
                    key, private = self._flood_key(call.params.get("chat_id"))
                    paid = bool(call.params.get("allow_paid_broadcast"))
                    wait = self.flood.check(key, private, received, paid=paid)
                    if wait is not None:
                        st.stats["flood_429"] += 1
                        raise too_many_requests(wait)
                handler = HANDLERS.get(call.method)
                result = handler(st, call) if handler is not None else True
                if charge:
                    self.flood.consume(key, private, received, paid=paid)
            except FakeApiError as exc:
                return exc
        return result

    def _flood_key(self, chat: Any) -> tuple[object, bool]:
        if isinstance(chat, int) and not isinstance(chat, bool):
            return chat, chat > 0
        if isinstance(chat, str) and chat.startswith("@"):
            for info in self.state.chats.values():
                if info.username and info.username.lower() == chat[1:].lower():
                    return info.id, info.id > 0
        return str(chat), False

    def _finish(
        self, call: MethodCall, received: float, answer: Any, hits: list[Fault] | None = None
    ) -> Response:
        """Render the answer, record the call, apply after-the-fact faults."""
        if isinstance(answer, FakeApiError):
            response = error_response(answer)
            recorded: Any = answer.body()
        elif isinstance(answer, RawAnswer):
            response = Response(answer.status, answer.body, content_type=answer.content_type)
            recorded = answer.recorded
        else:
            description = None
            if isinstance(answer, WithDescription):
                answer, description = answer.result, answer.description
            if isinstance(answer, RawResult):
                payload = b'{"ok":true,"result":' + answer + b"}"
                recorded = {"ok": True, "result": answer.decoded}
            else:
                recorded = {"ok": True, "result": answer}
                if description is not None:
                    recorded["description"] = description
                payload = _encode(recorded)
            response = Response(200, payload)
        files = {name: up.data for name, up in call.uploads.items()}
        record = RecordedCall(call.method, call.params, received, response.status, recorded, files)
        with self.state.lock:
            self.state.record(record)
        if hits:
            extra = tuple((k, v) for f in hits for k, v in f.headers.items())
            if extra:
                names = {k.lower() for k, _ in extra}
                kept = tuple(h for h in response.headers if h[0].lower() not in names)
                response.headers = kept + extra
            if any(f.drop == "after" for f in hits):
                with self.state.lock:
                    self.state.stats["dropped_after"] += 1
                response.drop = True
            slow = max((f.slow_body for f in hits), default=0.0)
            if slow > 0:
                response.slow_body = slow
        return response
