"""pytest plugin (entry point ``actorbot``): the ``fake_telegram`` fixture.

Registered through the ``pytest11`` entry point so users of actorbot get the fixture
without a conftest; it yields a started :class:`FakeBotApi` and stops it (joining its
threads) after the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from actorbot.testing._fake import FakeBotApi


@pytest.fixture
def fake_telegram() -> Iterator[FakeBotApi]:
    """A running fake Bot API server (token ``123456:TEST-token``, no flood control)."""
    with FakeBotApi() as server:
        yield server
