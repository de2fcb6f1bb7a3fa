"""Fixtures of the transport tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.test_transport import OneShotServer


@pytest.fixture
def server() -> Iterator[OneShotServer]:
    srv = OneShotServer()
    yield srv
    srv.close()
