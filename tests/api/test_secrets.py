"""No exception raised by the client carries the token, not even as its context."""

from __future__ import annotations

import io
import socket
import traceback
from collections.abc import Iterator

import pytest

from actorbot.api import Client
from actorbot.errors import NetworkError

TOKEN = "123456:SECRET-token-ABCdef_ghi"


def chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        if exc.__cause__ is not None:
            yield from chain(exc.__cause__)
        exc = exc.__context__


@pytest.fixture
def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more


@pytest.mark.parametrize("call", ["upload", "download"])
def test_upload_and_download_errors_hold_no_token(dead_url: str, call: str) -> None:
    client = Client(TOKEN, base_url=dead_url, connect_timeout=2, read_timeout=2)
    def fail() -> None:
        if call == "upload":
            client.request("sendDocument", {"chat_id": 1, "document": io.BytesIO(b"x")})
        else:
            client._download("documents/file_1.txt", io.BytesIO())

    try:
        with pytest.raises(NetworkError) as info:
            fail()
    finally:
        client.close()
    for exc in chain(info.value):
        assert TOKEN not in repr(exc)
        assert TOKEN not in str(exc)
    assert info.value.__context__ is None
    assert TOKEN not in "".join(traceback.format_exception(info.value))
