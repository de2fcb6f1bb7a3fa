"""Fault injection: make chosen calls fail, stall or lose their connection.

A :class:`Fault` says *which* calls it hits (method, chat, how many times, with what
probability) and *what* happens to them. Several actions can combine (e.g. latency then a
500). Matching happens after the request is parsed, so a fault can target one chat.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

from actorbot.testing._errors import MIGRATED, NGINX_502, FakeApiError


@dataclass(frozen=True, slots=True)
class RawAnswer:
    """A fault's answer that is not a Telegram error object (HTML page, arbitrary body)."""

    status: int
    body: bytes
    content_type: str
    recorded: Any  # what RecordedCall.response shows


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault rule.

    Matching: ``method`` (case-insensitive; ``None`` = every method), ``chat_id`` (``None`` =
    any call; else only calls whose ``chat_id`` equals it), ``times`` (how many calls it
    fires on; ``None`` = forever) and ``probability`` (drawn from the server's seeded RNG).

    Actions, applied in this order:

    - ``latency``: seconds to wait before handling (a number or a ``(min, max)`` range);
    - ``drop="before"``: close the connection without handling or answering (not recorded);
    - ``status``: answer this error instead of handling the call (recorded, no effect).
      The body is Telegram's shape with ``description`` (default: a Telegram-like text for
      the status); 429 adds ``retry_after`` (default 1) and the ``Retry-After`` header,
      ``migrate_to_chat_id`` adds that parameter; ``html=True`` (default for 502 and 504
      without a description) sends nginx's HTML page instead of JSON. ``body`` (any JSON
      value) or ``raw_body`` (bytes/str, sent as is) replace the body entirely, to emulate
      malformed answers; with them ``status`` defaults to 200;
    - ``headers``: extra response headers, on whatever the answer is;
    - ``drop="after"``: handle and record the call, then close the connection without
      answering (the client cannot know the call took effect);
    - ``slow_body``: send the answer spread over that many seconds.
    """

    method: str | None = None
    chat_id: int | str | None = None
    times: int | None = None
    probability: float = 1.0
    status: int | None = None
    description: str | None = None
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None
    html: bool | None = None
    body: Any = None
    raw_body: bytes | str | None = None
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    latency: float | tuple[float, float] = 0.0
    drop: Literal["before", "after"] | None = None
    slow_body: float = 0.0

    def __post_init__(self) -> None:
        if self.drop not in (None, "before", "after"):
            raise ValueError(f"drop must be 'before', 'after' or None, not {self.drop!r}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0 or None")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")
        if self.body is not None and self.raw_body is not None:
            raise ValueError("give body or raw_body, not both")

    @property
    def answers(self) -> bool:
        """Whether this fault replaces the call's answer (rather than delaying/dropping)."""
        return self.status is not None or self.body is not None or self.raw_body is not None

    def error(self) -> FakeApiError | RawAnswer:
        """The answer that replaces the call: an :class:`FakeApiError` or a :class:`RawAnswer`."""
        status = self.status if self.status is not None else 200
        if self.raw_body is not None:
            raw = self.raw_body.encode() if isinstance(self.raw_body, str) else self.raw_body
            return RawAnswer(status, raw, self.content_type, raw.decode("utf-8", "replace"))
        if self.body is not None:
            encoded = json.dumps(self.body, ensure_ascii=False).encode()
            return RawAnswer(status, encoded, self.content_type, self.body)
        html = (
            self.html
            if self.html is not None
            else (status in (502, 504) and self.description is None)
        )
        if html:
            page = NGINX_502 if status == 502 else _nginx_page(status)
            return RawAnswer(status, page.encode(), "text/html", page)
        if status == 429:
            retry = self.retry_after if self.retry_after is not None else 1
            return FakeApiError(
                429,
                self.description or f"Too Many Requests: retry after {retry}",
                {"retry_after": retry},
                (("Retry-After", str(retry)),),
            )
        params: dict[str, Any] | None = None
        description = self.description
        if self.migrate_to_chat_id is not None:
            params = {"migrate_to_chat_id": self.migrate_to_chat_id}
            description = description or MIGRATED
        if self.retry_after is not None:
            params = {**(params or {}), "retry_after": self.retry_after}
        return FakeApiError(status, description or _default_description(status), params)


def _nginx_page(status: int) -> str:
    phrase = _phrase(status)
    return (
        f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx/1.12.2"
        "</center>\r\n</body>\r\n</html>\r\n"
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _default_description(status: int) -> str:
    if status == 500:
        return "Internal Server Error"
    if status == 400:
        return "Bad Request"
    return _phrase(status)


class FaultSet:
    """The active faults of one server, in the order they were added. Thread-safe."""

    def __init__(self, seed: int | None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)  # noqa: S311  (reproducible, not secret)
        self._faults: list[list[Any]] = []  # [fault, remaining]
        self.fired = 0

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append([fault, fault.times])

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __bool__(self) -> bool:
        return bool(self._faults)

    def match(self, method: str, chat_id: Any) -> list[Fault]:
        """Faults that fire on this call (their ``times`` is spent here)."""
        hits: list[Fault] = []
        lowered = method.lower()
        with self._lock:
            for entry in self._faults:
                fault: Fault = entry[0]
                if entry[1] is not None and entry[1] <= 0:
                    continue
                if fault.method is not None and fault.method.lower() != lowered:
                    continue
                if fault.chat_id is not None and fault.chat_id != chat_id:
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                if entry[1] is not None:
                    entry[1] -= 1
                hits.append(fault)
            self.fired += len(hits)
        return hits

    def latency(self, fault: Fault) -> float:
        if isinstance(fault.latency, tuple):
            low, high = fault.latency
            with self._lock:
                return self._rng.uniform(low, high)
        return float(fault.latency)
