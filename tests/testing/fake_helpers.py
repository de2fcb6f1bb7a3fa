"""Helpers shared by the fake Bot API tests (imported by name: tests are not a package)."""

from __future__ import annotations

from collections.abc import Callable

import requests

Api = Callable[..., requests.Response]


class ManualClock:
    """A clock that moves only when told to (flood-control tests)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def expect_error(resp: requests.Response, status: int, description: str) -> None:
    """The exact Telegram error shape, with HTTP status == error_code."""
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json() == {"ok": False, "error_code": status, "description": description}
