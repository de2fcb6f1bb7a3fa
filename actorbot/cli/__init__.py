"""The ``actorbot`` command (also ``python -m actorbot``): ``demo``, ``run``, and for a
bot spread over processes ``intake`` and ``worker``.

:func:`main` returns an exit code (:class:`ExitCode`) instead of exiting, so it can be
called from Python; only the console script and ``__main__`` turn it into ``sys.exit``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from actorbot.api import DEFAULT_BASE_URL
from actorbot.cli._cluster import add_parsers, cluster_command
from actorbot.cli._demo_settings import DemoSettings
from actorbot.cli._exit import ExitCode
from actorbot.cli._run import TOKEN_ENV, run_command
from actorbot.cli._target import AUTO, ROUTES, TargetError, idle_seconds
from actorbot.cli._webhook import add_webhook_arguments
from actorbot.handlers import Handler
from actorbot.monitoring import LOG_FORMATS, configure_logging

__all__ = ["DemoSettings", "ExitCode", "build_parser", "main"]

LEVELS = ("debug", "info", "warning", "error")


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _idle_timeout(text: str) -> str:
    try:
        idle_seconds(text, Handler)
    except TargetError as exc:
        raise argparse.ArgumentTypeError(str(exc).partition(": ")[2]) from None
    return text


def _common(parser: argparse.ArgumentParser, level: str, *, handlers: bool = True) -> None:
    """Logging options; with ``handlers``, those of the handlers' engine (an intake has
    none: an option it would ignore is not offered)."""
    parser.add_argument("--log-format", choices=LOG_FORMATS, default="console",
                        help="console: for a terminal; json: one object per line (default: "
                             "%(default)s)")
    parser.add_argument("--log-level", choices=LEVELS, default=level,
                        help="default: %(default)s")
    if not handlers:
        return
    parser.add_argument("--runtime", choices=("pool", "threads"), default="pool",
                        help="handlers on a thread pool or a thread each (default: pool)")
    parser.add_argument("--workers", type=_positive(int), default=4,
                        help="pool threads for handlers (default: %(default)s)")
    parser.add_argument("--metrics-port", type=int, metavar="PORT",
                        help="serve Prometheus metrics on this port (needs the metrics extra)")
    parser.add_argument("--metrics-host", default="127.0.0.1", metavar="HOST",
                        help="address for --metrics-port (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    from actorbot import __version__  # noqa: PLC0415 - actorbot imports nothing from here

    parser = argparse.ArgumentParser(
        prog="actorbot", description="Telegram bots on the actor model.")
    parser.add_argument("--version", action="version", version=f"actorbot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="watch a bot answer simulated users on a built-in fake Telegram",
        description="Simulated users chat with a bot on the engine, over a fake Telegram "
                    "in this process: no token, no internet. Ends with a summary.")
    defaults = DemoSettings()
    demo.add_argument("--chats", type=_positive(int), default=defaults.chats,
                      help="simulated users, one private chat each (default: %(default)s)")
    demo.add_argument("--messages", type=_positive(int), default=defaults.messages,
                      help="messages per user (default: %(default)s)")
    demo.add_argument("--rate", type=_positive(float), default=defaults.rate,
                      help="messages per second, all users together (default: %(default)s)")
    demo.add_argument("--idle-timeout", type=_positive(float), default=defaults.idle_timeout,
                      metavar="S", help="seconds before a silent chat's handler is passivated "
                                        "(default: %(default)s)")
    demo.add_argument("--latency", type=float, default=0.0, metavar="S",
                      help="emulated Bot API round trip (default: 0)")
    demo.add_argument("--no-flood-control", action="store_true",
                      help="the fake Telegram accepts any rate")
    demo.add_argument("--no-rate-limits", action="store_true",
                      help="the bot does not pace its replies (watch the 429s get retried)")
    demo.add_argument("--timeout", type=_positive(float), default=defaults.timeout,
                      metavar="S", help="give up after this long (default: %(default)s)")
    demo.add_argument("--stats-interval", type=float, default=0, metavar="S",
                      help="log the engine.stats event every S seconds (default: never)")
    _common(demo, "warning")

    run = commands.add_parser(
        "run", help="run a handler class as a bot",
        description=f"Run a bot until SIGINT or SIGTERM. The token is read from the "
                    f"environment variable {TOKEN_ENV} (see --token-env), never from "
                    f"the command line.")
    run.add_argument("target", metavar="MODULE:CLASS",
                     help="a Handler subclass (or a Route, or a list of routes), e.g. "
                          "mybot:Greeter")
    run.add_argument("--route", default=AUTO,
                     help=f"seed per handler: {', '.join(ROUTES)}, or MODULE:FUNCTION "
                          f"(default: from the class: ChatHandler per_chat, UserHandler "
                          f"per_user, Monitor per_application)")
    run.add_argument("--idle-timeout", type=_idle_timeout, default=AUTO, metavar="S",
                     help="seconds before an idle handler is passivated, or 'none' "
                          "(default: 60; none for a Monitor)")
    run.add_argument("--token-env", default=TOKEN_ENV, metavar="VAR",
                     help="environment variable holding the token (default: %(default)s)")
    run.add_argument("--api-url", default=DEFAULT_BASE_URL, metavar="URL",
                     help="Bot API server, e.g. a local telegram-bot-api (default: "
                          "%(default)s)")
    run.add_argument("--poll-timeout", type=int, default=30, metavar="S",
                     help="getUpdates long-poll timeout (default: %(default)s)")
    run.add_argument("--stats-interval", type=float, default=60.0, metavar="S",
                     help="log the engine.stats event every S seconds, 0: never "
                          "(default: %(default)s)")
    run.add_argument("--no-rate-limits", action="store_true",
                     help="do not pace calls (only for a local Bot API server)")
    run.add_argument("--journal", metavar="FILE",
                     help="keep updates in this SQLite file until handled, so a crash "
                          "loses none (default: in memory)")
    run.add_argument("--delete-webhook", action="store_true",
                     help="delete a webhook set for this bot, then poll")
    add_webhook_arguments(run)
    _common(run, "info")
    add_parsers(commands, _common)
    return parser


def _demo(args: argparse.Namespace) -> int:
    # Only the demo loads the fake Telegram: `actorbot run` carries no test server.
    from actorbot.cli._demo import run_demo  # noqa: PLC0415
    from actorbot.testing import DEFAULT_TOKEN  # noqa: PLC0415

    configure_logging(args.log_format, args.log_level, secrets=[DEFAULT_TOKEN])
    settings = DemoSettings(
        chats=args.chats, messages=args.messages, rate=args.rate,
        idle_timeout=args.idle_timeout, latency=args.latency,
        flood_control=not args.no_flood_control, rate_limits=not args.no_rate_limits,
        runtime=args.runtime, workers=args.workers, timeout=args.timeout,
        stats_interval=args.stats_interval or None, metrics_port=args.metrics_port,
        metrics_host=args.metrics_host)
    return run_demo(settings, sys.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    try:
        if args.command == "demo":
            return _demo(args)
        if args.command in ("worker", "intake"):
            return cluster_command(args)
        return run_command(args)
    except KeyboardInterrupt:
        sys.stderr.write("\nactorbot: interrupted\n")
        return ExitCode.INTERRUPTED
