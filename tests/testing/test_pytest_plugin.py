"""The ``fake_telegram`` fixture, through the ``actorbot`` pytest11 entry point."""

from __future__ import annotations

import pytest

USER_TEST = """
import threading

import requests

from actorbot.testing import FakeBotApi

seen = []
ports = []


def test_uses_fixture(fake_telegram):
    assert isinstance(fake_telegram, FakeBotApi)
    fake_telegram.inject_message(1, "hi")
    got = requests.get(f"{fake_telegram.api_url}/getUpdates", timeout=5).json()
    assert got["result"][0]["message"]["text"] == "hi"
    seen.append(fake_telegram)
    ports.append(fake_telegram.port)


def test_fresh_server_per_test(fake_telegram):
    assert fake_telegram is not seen[0]
    assert fake_telegram.pending_update_count == 0
    assert seen[0].port == 0  # the previous one was stopped
    prefix = f"fake-telegram-{ports[0]}-"
    assert not [t for t in threading.enumerate() if t.name.startswith(prefix)]
"""


def test_fixture_yields_a_running_server_and_stops_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_fixture_comes_from_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="def test_x(fake_telegram):\n    pass\n")
    result = pytester.runpytest_inprocess("-q", "-p", "no:actorbot", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'fake_telegram' not found*"])
