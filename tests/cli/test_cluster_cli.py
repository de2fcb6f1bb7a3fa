"""``actorbot worker`` and ``actorbot intake``: the ways of failing a person can fix.

(The commands running for real are in tests/cluster/test_cluster_crash.py.)"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from actorbot.cli import ExitCode, build_parser
from actorbot.cli._cluster import cluster_command
from actorbot.testing import FakeBotApi
from tests.helpers import logging_restored

URL = "redis://127.0.0.1:1/0"  # never reached: each case fails before connecting


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


def test_a_worker_with_a_refused_token_stops_at_once(restored: None, tg: FakeBotApi) -> None:
    code, err = run("worker", "tests.bots.cluster_bot:Echo", "--redis", URL,
                    "--api-url", tg.base_url, env={"TELEGRAM_BOT_TOKEN": "999:wrong"})
    assert code == ExitCode.BAD_TOKEN
    assert "refused the token in TELEGRAM_BOT_TOKEN" in err
    assert "999:wrong" not in err
