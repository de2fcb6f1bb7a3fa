"""The ASGI app in a real ASGI server: uvicorn serving a Starlette app that mounts the
Mini App endpoint, on uvicorn's own loop (not the engine's)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from actorbot.testing import FakeBotApi
from actorbot.webapp import MiniApp
from tests.helpers import eventually
from tests.webapp.miniapp_helpers import JOURNAL, ask, closed_with, login, running

pytestmark = pytest.mark.usefixtures("no_thread_left")


@pytest.fixture
def served() -> Iterator[Any]:
    """A function that serves a Starlette app with uvicorn on a thread; the base URL."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def serve(app: Starlette) -> str:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                lifespan="off", ws="websockets-sansio")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="uvicorn")
        thread.start()
        servers.append((server, thread))
        eventually(lambda: server.started, what="uvicorn started")
        port = server.servers[0].sockets[0].getsockname()[1]
        return f"127.0.0.1:{port}"

    yield serve
    for server, thread in servers:
        server.should_exit = True
        thread.join(30)


def test_mounted_in_starlette_under_uvicorn(tg: FakeBotApi, served: Any) -> None:
    with running(tg, host=None) as (engine, app):
        async def state(request: Any) -> JSONResponse:
            user = int(request.path_params["user"])
            return JSONResponse(await engine.ask("users", user, "from http"))

        site = Starlette(routes=[Route("/state/{user}", state), WebSocketRoute("/ws", app.asgi)])
        base = served(site)

        async def main() -> None:
            ws = await login(f"ws://{base}/ws", tg, 42)
            assert (await ask(ws, "set", "via uvicorn"))["data"] == "via uvicorn"
            reader, writer = await asyncio.open_connection(*base.split(":"))
            writer.write(f"GET /state/42 HTTP/1.1\r\nHost: {base}\r\n"
                         f"Connection: close\r\n\r\n".encode())
            body = (await reader.read()).split(b"\r\n\r\n", 1)[1]
            writer.close()
            assert json.loads(body)["state"] == "via uvicorn"
            stopping = asyncio.get_running_loop().run_in_executor(None, engine.stop)
            assert await closed_with(ws) == (1001, "server stopping")
            assert await stopping
        asyncio.run(main())
    assert [e[0] for e in JOURNAL.of(42)] == ["connected", "message", "disconnected"]


def test_before_the_engine_runs_the_asgi_app_refuses(served: Any) -> None:
    app = MiniApp(host=None)
    base = served(Starlette(routes=[WebSocketRoute("/ws", app.asgi)]))

    async def main() -> None:
        async with connect(f"ws://{base}/ws"):
            pass

    with pytest.raises(InvalidStatus, match="403"):
        asyncio.run(main())
