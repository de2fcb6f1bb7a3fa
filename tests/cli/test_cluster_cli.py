"""``actorbot worker`` and ``actorbot intake``: the ways of failing a person can fix.

(The commands running for real are in tests/cluster/test_cluster_crash.py.)"""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator

import pytest

from actorbot.cli import ExitCode, build_parser
from actorbot.cli._cluster import cluster_command
from actorbot.testing import FakeBotApi
from tests.helpers import logging_restored

URL = "redis://127.0.0.1:1/0"  # never reached: each case fails before it matters


@pytest.fixture
def restored() -> Iterator[None]:
    with logging_restored():
        yield


def run(*args: str, env: dict[str, str]) -> tuple[int, str]:
    err = io.StringIO()
    code = cluster_command(build_parser().parse_args(list(args)), environ=env, err=err)
    return code, err.getvalue()


def test_no_token(restored: None) -> None:
    code, err = run("intake", "--redis", URL, env={})
    assert code == ExitCode.USAGE
    assert "TELEGRAM_BOT_TOKEN" in err


def test_a_route_that_cannot_be_sharded_is_refused(restored: None) -> None:
    code, err = run("worker", "tests.bots.cluster_bot:Echo", "--route", "per_user",
                    "--redis", URL, env={"TELEGRAM_BOT_TOKEN": "1:x"})
    assert code == ExitCode.USAGE
    assert "partitioned by chat id" in err
    code, err = run("worker", "tests.bots.cluster_bot:Echo", "--route", "per_user",
                    "--partition-by", "user", "--redis", URL, "--lease-ttl", "0",
                    env={"TELEGRAM_BOT_TOKEN": "1:x"})
    assert code == ExitCode.USAGE
    assert "lease_ttl" in err


def test_an_unknown_target(restored: None) -> None:
    code, err = run("worker", "no_such_module_here:Bot", "--redis", URL,
                    env={"TELEGRAM_BOT_TOKEN": "1:x"})
    assert code == ExitCode.IMPORT_ERROR
    assert "cannot import 'no_such_module_here'" in err


def test_redis_is_required() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["worker", "tests.bots.cluster_bot:Echo"])


@pytest.mark.parametrize("option", [["--metrics-port", "9100"], ["--runtime", "threads"],
                                    ["--workers", "8"]])
def test_the_intake_offers_no_handler_options(option: list[str]) -> None:
    """It runs no handlers and serves no metrics: an option it would ignore is an error."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["intake", "--redis", URL, *option])


def test_a_worker_with_a_refused_token_stops_at_once(restored: None, tg: FakeBotApi) -> None:
    code, err = run("worker", "tests.bots.cluster_bot:Echo", "--redis", URL,
                    "--api-url", tg.base_url, env={"TELEGRAM_BOT_TOKEN": "999:wrong"})
    assert code == ExitCode.BAD_TOKEN
    assert "refused the token in TELEGRAM_BOT_TOKEN" in err
    assert "999:wrong" not in err


WEBHOOK = {"TELEGRAM_WEBHOOK_SECRET": "the-secret"}


def test_a_webhook_intake_contradicting_itself_is_refused(restored: None) -> None:
    code, err = run("intake", "--redis", URL, "--webhook-url", "https://bot.example/hook",
                    "--delete-webhook", env={"TELEGRAM_BOT_TOKEN": "1:x", **WEBHOOK})
    assert code == ExitCode.USAGE
    assert "--delete-webhook is for polling" in err


def test_a_webhook_intake_needs_the_secret_every_intake_shares(
    restored: None, tg: FakeBotApi
) -> None:
    """A random secret per process would do for one; with several, each setWebhook would
    make Telegram's requests to the others fail the check."""
    code, err = run("intake", "--redis", URL, "--api-url", tg.base_url,
                    "--webhook-url", "https://bot.example/hook", "--webhook-secret-env",
                    "MY_SECRET", env={"TELEGRAM_BOT_TOKEN": tg.token, "MY_SECRET": " "})
    assert code == ExitCode.USAGE
    assert "environment variable MY_SECRET" in err
    assert "every webhook intake must check the same one" in err
    assert tg.calls_to("setWebhook") == []


def test_a_webhook_intake_with_a_refused_token_stops_at_once(
    restored: None, tg: FakeBotApi, no_thread_left: None
) -> None:
    code, err = run("intake", "--redis", URL, "--api-url", tg.base_url,
                    "--webhook-url", "https://bot.example/hook", "--webhook-listen",
                    "127.0.0.1:0", env={"TELEGRAM_BOT_TOKEN": "999:wrong", **WEBHOOK})
    assert code == ExitCode.BAD_TOKEN
    assert "the intake could not start" in err
    assert "999:wrong" not in err
    assert "the-secret" not in err


def test_a_webhook_intake_that_cannot_listen_says_so(
    restored: None, tg: FakeBotApi, no_thread_left: None
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run("intake", "--redis", URL, "--api-url", tg.base_url,
                        "--webhook-url", "https://bot.example/hook", "--webhook-listen",
                        f"127.0.0.1:{port}", env={"TELEGRAM_BOT_TOKEN": tg.token, **WEBHOOK})
    assert code == ExitCode.USAGE
    assert "cannot listen" in err
    assert tg.token not in err
    assert tg.calls_to("setWebhook") == []  # Telegram was not sent to a port not ours
