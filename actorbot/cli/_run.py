"""``actorbot run MODULE:CLASS``: serve a handler class as a bot until SIGINT/SIGTERM.

The token comes from an environment variable only: a command-line argument shows in
``ps`` and in shell history. Every way of failing that a person can fix (no token, a
refused token, an import error, a webhook in the way) ends with one line saying what to
do and its own exit code, not a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog

from actorbot.api import Connection
from actorbot.cli._exit import ExitCode
from actorbot.cli._target import TargetError, load, routes_for
from actorbot.cli._webhook import WebhookServer, check_intake, parse_listen, webhook_secret
from actorbot.engine import Engine, Handling
from actorbot.errors import (
    ConfigError,
    Conflict,
    LoggedOut,
    NotFound,
    PollingStopped,
    TelegramError,
    Unauthorized,
)
from actorbot.intake import Polling, Webhook
from actorbot.monitoring import MetricsServer, configure_logging, serve_metrics
from actorbot.sending import RateLimits, Sending

log = structlog.get_logger("actorbot.cli")

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"  # noqa: S105 - the variable's name, not a token
_REFUSED = (Unauthorized, NotFound, LoggedOut)


def fail(err: TextIO, code: ExitCode, message: str) -> int:
    err.write(f"actorbot: {message}\n")
    err.flush()
    return code


def start_metrics(engine: Engine, port: int | None, host: str) -> MetricsServer | None:
    """A started metrics server, or None without ``port`` (ImportError without the extra)."""
    if port is None:
        return None
    server = serve_metrics(engine, port, host)
    log.info("cli.metrics", url=server.url)
    return server


class Failure(Exception):
    """A command ends with ``code`` and says ``message`` (one line, no traceback)."""

    def __init__(self, code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def _engine_options(args: argparse.Namespace, webhook_secret: str | None) -> dict[str, Any]:
    intake: Polling | Webhook = Polling(timeout=args.poll_timeout,
                                        delete_webhook=args.delete_webhook)
    if args.webhook_url:
        intake = Webhook(args.webhook_url, secret_token=webhook_secret)
    workers = args.workers if args.runtime == "pool" else None
    limits = RateLimits.unlimited() if args.no_rate_limits else RateLimits()
    return {
        "intake": intake, "connection": Connection(base_url=args.api_url),
        "handling": Handling(runtime=args.runtime, workers=workers),
        "sending": Sending(limits=limits), "journal": args.journal,
        "stats_interval": args.stats_interval or None,
    }


def _build(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[Engine, str | None]:
    token = environ.get(args.token_env, "").strip()
    if not token:
        raise Failure(ExitCode.USAGE,
                      f"set the bot token in the environment variable {args.token_env} (it "
                      f"is never taken from the command line, where ps would show it)")
    secret = webhook_secret(environ, args.webhook_secret_env) if args.webhook_url else None
    configure_logging(args.log_format, args.log_level, secrets=[token, secret or ""])
    try:
        routes = routes_for(load(args.target), args.route, args.idle_timeout)
    except TargetError as exc:
        raise Failure(ExitCode.IMPORT_ERROR, str(exc)) from None
    try:
        check_intake(args)
        return Engine(token, routes, **_engine_options(args, secret)), secret
    except (ConfigError, ValueError) as exc:
        raise Failure(ExitCode.USAGE, str(exc)) from None


def _check_token(engine: Engine, args: argparse.Namespace) -> None:
    """Fail fast on a refused token; a network error is left to the poller's retries."""
    try:
        me = engine.client.get_me()
    except _REFUSED as exc:
        raise Failure(ExitCode.BAD_TOKEN,
                      f"the Bot API at {args.api_url} refused the token in {args.token_env} "
                      f"({exc.description})") from None
    except TelegramError as exc:
        log.warning("cli.get_me_failed", error=type(exc).__name__, detail=str(exc))
    else:
        log.info("cli.bot", username=me.get("username"), id=me.get("id"),
                 routes=[r.name for r in engine.routes])


def _start_servers(engine: Engine, args: argparse.Namespace, secret: str | None,
                   started: list[Any]) -> None:
    try:
        metrics = start_metrics(engine, args.metrics_port, args.metrics_host)
        if metrics is not None:
            started.append(metrics)
        if secret is not None:
            host, port = parse_listen(args.webhook_listen)
            started.append(WebhookServer(engine.feed, secret, host, port).start())
            log.info("cli.webhook", listen=f"{host}:{port}")
    except ImportError as exc:
        raise Failure(ExitCode.USAGE, str(exc)) from None
    except (OSError, ValueError) as exc:
        raise Failure(ExitCode.USAGE, f"cannot listen: {exc}") from None


def _servers(engine: Engine, args: argparse.Namespace, secret: str | None) -> list[Any]:
    """The metrics and webhook servers asked for, started (each has ``stop()``)."""
    started: list[Any] = []
    try:
        _start_servers(engine, args, secret, started)
    except BaseException:
        for server in started:
            server.stop()
        raise
    return started


def _serve(engine: Engine, servers: list[Any]) -> None:
    try:
        engine.run_forever()
    except PollingStopped as exc:
        code, message = ExitCode.FAILED, str(exc)
        if isinstance(exc.cause, Conflict):
            code = ExitCode.CONFLICT
            if "webhook" in message:
                message += " (actorbot run: --delete-webhook, or --webhook-url)"
        elif isinstance(exc.cause, _REFUSED):
            code = ExitCode.BAD_TOKEN
        raise Failure(code, message) from None
    except TelegramError as exc:  # setWebhook refused at start
        raise Failure(ExitCode.FAILED, f"the engine could not start: {exc}") from None
    finally:
        for server in servers:
            server.stop()


def run_command(args: argparse.Namespace, environ: Mapping[str, str] = os.environ,
                err: TextIO | None = None) -> int:
    """Serve ``args.target`` until SIGINT/SIGTERM; returns an :class:`ExitCode`."""
    err = err or sys.stderr
    try:
        engine, secret = _build(args, environ)
    except Failure as failure:
        return fail(err, failure.code, str(failure))
    try:
        _check_token(engine, args)
        servers = _servers(engine, args, secret)
    except Failure as failure:
        engine.client.close()
        return fail(err, failure.code, str(failure))
    try:
        _serve(engine, servers)
    except Failure as failure:
        return fail(err, failure.code, str(failure))
    return ExitCode.OK
