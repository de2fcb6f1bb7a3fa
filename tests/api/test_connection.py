"""Connection settings build clients that reach where they say."""

from __future__ import annotations

import pytest

from actorbot.api import Connection
from actorbot.errors import ConfigError


def test_a_connection_builds_a_client_with_its_settings() -> None:
    client = Connection(base_url="http://127.0.0.1:9/", read_timeout=3).client("1:x")
    assert client.base_url == "http://127.0.0.1:9"
    assert client.read_timeout == 3
    assert "1:x" not in repr(client)


@pytest.mark.parametrize(("options", "match"), [
    ({"base_url": "api.telegram.org"}, "http\\(s\\) URL"),
    ({"read_timeout": 0}, "timeouts must be positive"),
    ({"long_poll_margin": -1}, "timeouts must be positive"),
])
def test_bad_connections_are_refused(options: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Connection(**options)  # type: ignore[arg-type]
