"""``actorbot worker MODULE:CLASS --redis URL`` and ``actorbot intake --redis URL``.

One intake polls Telegram (or any number take its webhook, ``--webhook-url``) and appends
to the partition streams; any number of workers run the handlers (docs/scale-out.md). The
token comes from the environment, as for ``actorbot run``; every process of one bot gets
the same ``--partitions``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog

from actorbot.api import DEFAULT_BASE_URL, Connection
from actorbot.cli._exit import ExitCode
from actorbot.cli._run import TOKEN_ENV, Failure, fail
from actorbot.cli._target import AUTO, ROUTES, TargetError, load, routes_for
from actorbot.cli._webhook import (
    WebhookServer,
    add_webhook_arguments,
    check_intake,
    parse_listen,
    webhook_secret,
)
from actorbot.cluster import Cluster, Intake, Worker, serve_worker_metrics
from actorbot.engine import Handling
from actorbot.errors import (
    ConfigError,
    LoggedOut,
    NotFound,
    PollingStopped,
    TelegramError,
    Unauthorized,
)
from actorbot.intake import Polling, Webhook
from actorbot.monitoring import configure_logging
from actorbot.sending import RateLimits, Sending

log = structlog.get_logger("actorbot.cli")


def add_parsers(commands: Any, common: Any) -> None:
    """The two subcommands, on the ``actorbot`` parser's subparsers."""
    worker = commands.add_parser(
        "worker", help="run a handler class on partitions of a bot shared through Redis",
        description="Run handlers for the partitions this worker holds by lease, until "
                    "SIGINT or SIGTERM (then hand them over). Start one `actorbot intake` "
                    f"per bot and any number of workers. Token: ${TOKEN_ENV}.")
    worker.add_argument("target", metavar="MODULE:CLASS",
                        help="a Handler subclass (or a Route, or a list of routes)")
    worker.add_argument("--route", default=AUTO,
                        help=f"seed per handler: {', '.join(ROUTES)}, or MODULE:FUNCTION "
                             f"(it must follow the partition key; default: from the class)")
    worker.add_argument("--idle-timeout", default=AUTO, metavar="S",
                        help="seconds before an idle handler is passivated, or 'none'")
    worker.add_argument("--stats-interval", type=float, default=60.0, metavar="S",
                        help="log engine.stats and cluster.stats every S seconds, 0: never "
                             "(default: %(default)s)")
    worker.add_argument("--no-rate-limits", action="store_true",
                        help="do not pace calls (only for a local Bot API server)")
    _shared(worker)
    common(worker, "info")

    intake = commands.add_parser(
        "intake", help="poll Telegram (or take its webhook) and append every update to "
                       "the Redis partitions",
        description="Poll getUpdates while holding the bot's leader lease (a second "
                    "intake waits and takes over when this one dies) and append each "
                    "update to its partition before confirming it; or, with --webhook-url, "
                    "answer each webhook request once its update is appended (any number "
                    f"of webhook intakes, no lease). Token: ${TOKEN_ENV}.")
    intake.add_argument("--poll-timeout", type=int, default=30, metavar="S",
                        help="getUpdates long-poll timeout (default: %(default)s)")
    intake.add_argument("--delete-webhook", action="store_true",
                        help="delete a webhook set for this bot, then poll")
    add_webhook_arguments(intake, shared=True)
    _shared(intake)
    common(intake, "info", handlers=False)


def _shared(parser: argparse.ArgumentParser) -> None:
    defaults = Cluster()
    parser.add_argument("--redis", required=True, metavar="URL",
                        help="the Redis every process of this bot shares, e.g. "
                             "redis://127.0.0.1:6379/0")
    parser.add_argument("--partitions", type=int, default=defaults.partitions, metavar="N",
                        help="partition streams (the same for every process of the bot; "
                             "default: %(default)s)")
    parser.add_argument("--partition-by", choices=("chat", "user"),
                        default=defaults.partition_by,
                        help="partition key: the chat id (else the user id), or the user id "
                             "(default: %(default)s)")
    parser.add_argument("--lease-ttl", type=float, default=defaults.lease_ttl, metavar="S",
                        help="seconds a dead process's leases last (default: %(default)s)")
    parser.add_argument("--token-env", default=TOKEN_ENV, metavar="VAR",
                        help="environment variable holding the token (default: %(default)s)")
    parser.add_argument("--api-url", default=DEFAULT_BASE_URL, metavar="URL",
                        help="Bot API server (default: %(default)s)")


def _cluster(args: argparse.Namespace) -> Cluster:
    block = min(Cluster().block, args.lease_ttl / 4)
    return Cluster(partitions=args.partitions, partition_by=args.partition_by,
                   lease_ttl=args.lease_ttl, block=block)


def _intake(token: str, args: argparse.Namespace, cluster: Cluster, connection: Connection,
            err: TextIO, *, secret: str | None) -> int:
    hook: Polling | Webhook = Polling(timeout=args.poll_timeout,
                                      delete_webhook=args.delete_webhook)
    if secret is not None:
        hook = Webhook(args.webhook_url, secret_token=secret)
    intake = Intake(token, redis=args.redis, cluster=cluster, connection=connection,
                    intake=hook)
    server = None
    try:
        if secret is not None:
            server = _serve_webhook(intake, args, secret)
        intake.run_forever()
    except PollingStopped as exc:
        refused = isinstance(exc.cause, Unauthorized | NotFound | LoggedOut)
        return fail(err, ExitCode.BAD_TOKEN if refused else ExitCode.FAILED, str(exc))
    except Failure as exc:
        return fail(err, exc.code, str(exc))
    finally:
        if server is not None:
            server.stop()
    return ExitCode.OK


def _serve_webhook(intake: Intake, args: argparse.Namespace, secret: str) -> WebhookServer:
    """Listen, then start the intake (``setWebhook``): a port taken is found before
    Telegram is told where to send; a request before the intake runs gets a 503."""
    try:
        host, port = parse_listen(args.webhook_listen)
        server = WebhookServer(intake.feed, secret, host, port).start()
    except (OSError, ConfigError) as exc:
        intake.stop()
        raise Failure(ExitCode.USAGE, f"cannot listen: {exc}") from None
    try:
        intake.start()
    except TelegramError as exc:
        server.stop()
        intake.stop()
        raise Failure(ExitCode.BAD_TOKEN if isinstance(exc, Unauthorized | NotFound)
                      else ExitCode.FAILED, f"the intake could not start: {exc}") from None
    log.info("cli.webhook", listen=f"{host}:{port}")
    return server


def cluster_command(args: argparse.Namespace, environ: Mapping[str, str] = os.environ,
                    err: TextIO | None = None) -> int:
    """Run ``actorbot worker`` or ``actorbot intake`` until SIGINT/SIGTERM."""
    err = err or sys.stderr
    token = environ.get(args.token_env, "").strip()
    if not token:
        return fail(err, ExitCode.USAGE,
                    f"set the bot token in the environment variable {args.token_env}")
    webhook = args.command == "intake" and args.webhook_url
    try:
        secret = (webhook_secret(environ, args.webhook_secret_env, shared=True) if webhook
                  else None)
    except ConfigError as exc:
        return fail(err, ExitCode.USAGE, str(exc))
    configure_logging(args.log_format, args.log_level, secrets=[token, secret or ""])
    connection = Connection(base_url=args.api_url)
    try:
        cluster = _cluster(args)
        if args.command == "intake":
            check_intake(args)
            return _intake(token, args, cluster, connection, err, secret=secret)
        routes = routes_for(load(args.target), args.route, args.idle_timeout)
        limits = RateLimits.unlimited() if args.no_rate_limits else RateLimits()
        workers = args.workers if args.runtime == "pool" else None
        worker = Worker(token, routes, redis=args.redis, cluster=cluster,
                        connection=connection, sending=Sending(limits=limits),
                        handling=Handling(runtime=args.runtime, workers=workers),
                        stats_interval=args.stats_interval or None)
    except TargetError as exc:
        return fail(err, ExitCode.IMPORT_ERROR, str(exc))
    except (ConfigError, ValueError, ImportError) as exc:
        return fail(err, ExitCode.USAGE, str(exc))
    try:
        worker.engine.client.get_me()  # fail fast on a refused token: nothing else would
    except (Unauthorized, NotFound, LoggedOut) as exc:
        worker.stop()
        return fail(err, ExitCode.BAD_TOKEN, f"the Bot API at {args.api_url} refused the "
                                             f"token in {args.token_env} ({exc.description})")
    except TelegramError:
        pass  # the network: the sender retries
    metrics = None
    if args.metrics_port is not None:
        try:
            metrics = serve_worker_metrics(worker, args.metrics_port, args.metrics_host)
        except (ImportError, OSError) as exc:
            return fail(err, ExitCode.USAGE, f"metrics: {exc}")
    try:
        worker.run_forever()
    finally:
        if metrics is not None:
            metrics.stop()
    return ExitCode.OK
