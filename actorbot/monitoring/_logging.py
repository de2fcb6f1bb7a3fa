"""Logging output for applications and the ``actorbot`` command: console or JSON, tokens redacted.

The library itself only calls ``structlog.get_logger()``; nothing here runs on import. An
application that wants actorbot's choices calls :func:`configure_logging` once at start-up.
Records from the standard library (``logging.getLogger(...)``: urllib3, pykka, your own
code) go through the same renderer and the same redaction as structlog events, because
urllib3 logs request URLs, and a Bot API URL contains the token.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterable
from typing import Any, Final, Literal, TextIO

import structlog
from structlog.typing import EventDict, ExcInfo, Processor, WrappedLogger

from actorbot.api import redact
from actorbot.errors import ConfigError

LogFormat = Literal["console", "json"]
LOG_FORMATS: Final = ("console", "json")

_PLAIN: Final = (str, int, float, bool, type(None))
_PASS_THROUGH: Final = frozenset({"exc_info", "_record", "_from_structlog"})


class RedactSecrets:
    """structlog processor: replace the given secrets, and anything shaped like a bot
    token, in every value of the event (nested containers and reprs included)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = [s for s in secrets if s]

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        return {k: v if k in _PASS_THROUGH else self.clean(v) for k, v in event_dict.items()}

    def text(self, text: str) -> str:
        for secret in self.secrets:
            text = redact(text, secret)
        return redact(text)

    def clean(self, value: Any) -> Any:
        """``value`` with secrets removed; untouched (same object) when it held none."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, _PLAIN):
            return value
        if isinstance(value, dict):
            return {self.clean(k): self.clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return type(value)(self.clean(v) for v in value)
        shown = repr(value)  # what a renderer would print for an arbitrary object
        cleaned = self.text(shown)
        return value if cleaned == shown else cleaned


def _leading_fields(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """JSON lines read better when time, level and event come first."""
    lead = {k: event_dict.pop(k) for k in ("timestamp", "level", "event") if k in event_dict}
    return {**lead, **event_dict}


class _RedactedTraceback:
    """ConsoleRenderer exception formatter: structlog's plain traceback, redacted."""

    def __init__(self, redactor: RedactSecrets) -> None:
        self.redactor = redactor

    def __call__(self, sio: TextIO, exc_info: ExcInfo) -> None:
        buffer = io.StringIO()
        structlog.dev.plain_traceback(buffer, exc_info)
        sio.write(self.redactor.text(buffer.getvalue()))


class _ActorbotHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler :func:`configure_logging` installs (and replaces when called again)."""


def _level_number(level: int | str) -> int:
    if isinstance(level, int):
        return level
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ConfigError(f"unknown log level {level!r}")
    return number


def configure_logging(
    fmt: LogFormat = "console",
    level: int | str = "info",
    *,
    stream: TextIO | None = None,
    secrets: Iterable[str] = (),
) -> logging.Handler:
    """Send structlog and stdlib logging to ``stream`` (default: stderr) as one format.

    ``"console"`` is for a person at a terminal (colours only on a TTY), ``"json"`` one JSON
    object per line for log shippers. ``secrets`` (the bot token, a webhook secret) are
    redacted from every line, as is anything shaped like a bot token. Calling it again
    replaces the previous configuration. Returns the handler installed on the root logger.
    """
    if fmt not in LOG_FORMATS:
        raise ConfigError(f"log format must be one of {LOG_FORMATS}, not {fmt!r}")
    number = _level_number(level)
    out = stream if stream is not None else sys.stderr
    redactor = RedactSecrets(secrets)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: list[Processor]
    if fmt == "json":
        renderer = [structlog.processors.format_exc_info, redactor, _leading_fields,
                    structlog.processors.JSONRenderer()]
    else:
        colors = bool(getattr(out, "isatty", lambda: False)())
        renderer = [redactor, structlog.dev.ConsoleRenderer(
            colors=colors, exception_formatter=_RedactedTraceback(redactor))]
    handler = _ActorbotHandler(out)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
    ))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ActorbotHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(number)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,  # a later configure_logging() must take effect
    )
    return handler
