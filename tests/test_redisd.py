"""The redis-server test helper: it answers PING when started, is gone when stopped, and
a missing binary fails the Redis tests in CI instead of skipping them."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.redisd import RedisServer, in_ci

ROOT = Path(__file__).resolve().parents[1]


def test_a_started_server_answers_and_a_stopped_one_is_gone(redis_server: RedisServer
                                                            ) -> None:
    with RedisServer() as server:
        assert server.ping()
        port, proc = server.port, server.proc
        assert port != redis_server.port
    assert proc is not None
    assert proc.poll() is not None
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize(("ci", "outcome"), [("true", "error"), ("", "skipped")])
def test_without_redis_server_ci_fails_and_elsewhere_skips(
    tmp_path: Path, ci: str, outcome: str
) -> None:
    (tmp_path / "conftest.py").write_text(textwrap.dedent("""
        import tests.redisd
        tests.redisd.find_binary = lambda: None  # as on a machine without the package
        from tests.conftest import redis_server  # noqa: F401
    """))
    (tmp_path / "test_it.py").write_text("def test_it(redis_server):\n    pass\n")
    env = {"PYTHONPATH": str(ROOT), "CI": ci, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert f"1 {outcome}" in result.stdout, result.stdout + result.stderr
    assert "redis-server is not installed" in result.stdout


def test_in_ci_reads_the_ci_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert in_ci()
    monkeypatch.setenv("CI", "")
    assert not in_ci()
