"""The counter bot for benchmarks/webhook.py, fed by polling or by a webhook.

Run by the harness as ``python actorbot_webhook.py INTAKE TOKEN BASE_URL``, INTAKE one of
``polling``, ``polling-10`` (10 updates per ``getUpdates``: the engine gets the
batches a webhook hand-over makes), ``wsgi`` (``WebhookApp`` on cheroot, 40 threads,
``keep_alive_conn_limit=40`` as in examples/webhook_wsgi.py),
``wsgi-limit10`` (the same with cheroot's default ``keep_alive_conn_limit=10``), ``stdlib``
(``WebhookApp`` on actorbot's ``WSGIThreadServer``), ``asgi`` (``WebhookASGIApp`` with
``batches=True`` on uvicorn), ``asgi-single`` (one ``feed`` call per update) or
``asgi-uvloop`` (uvicorn on uvloop, as ``actorbot[asgi]`` installs it; the others run on
asyncio's own loop). With the suffix ``-async`` (``polling-async``, ``asgi-async``,
``asgi-uvloop-async``, ``lean-async``) the counter has ``async def`` hooks that await each
reply and, behind a server, the engine runs on the server's event loop. Prints
``ready <cpu seconds>`` once the server listens and the engine runs (the harness injects
only then), ``stats <json>`` at exit, and runs until SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import structlog

from actorbot import Engine, RateLimits, Route, per_chat_id

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from counter import MessageCounter

from actorbot.api import Connection
from actorbot.intake import Polling, Webhook, WebhookApp, WebhookASGIApp, WSGIThreadServer
from actorbot.sending import Sending

SECRET = "bench-secret"


class Cheroot:
    def __init__(self, app: WebhookApp, limit: int | None) -> None:
        from cheroot.wsgi import Server

        self.server = Server(("127.0.0.1", 0), app, numthreads=40)
        self.server.request_queue_size = 128
        self.server.keep_alive_conn_limit = limit
        self.server.prepare()
        self.port = self.server.bind_addr[1]
        self.thread = threading.Thread(target=self.server.serve, name="cheroot")
        self.thread.start()

    def stop(self) -> None:
        self.server.stop()
        self.thread.join()


class EngineOnLoop:
    """The app, its lifespan starting and stopping the engine (as
    examples/webhook_asgi.py does): the engine then runs its async hooks and its sender
    on uvicorn's loop."""

    def __init__(self, app: WebhookASGIApp, box: dict[str, Any]) -> None:
        self.app = app
        self.box = box

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.box["engine"].start_async()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.box["engine"].stop_async()
                await send({"type": "lifespan.shutdown.complete"})
                return


class Uvicorn:
    def __init__(self, app: Any, loop: str) -> None:
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                backlog=128, loop=loop)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, args=([self.sock],),
                                       name="uvicorn")

    def start(self) -> None:
        self.thread.start()
        while not self.server.started:
            threading.Event().wait(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join()


def serve(intake: str, feed: Any, box: dict[str, Any], on_loop: bool) -> tuple[Any, Any]:
    """The server and the app of ``intake``; (None, None) when polling."""
    if intake.startswith("wsgi") or intake == "stdlib":
        app = WebhookApp(feed, secret_token=SECRET)
        if intake == "stdlib":
            return WSGIThreadServer(app, "127.0.0.1", 0, name="bench-wsgi").start(), app
        return Cheroot(app, 10 if intake == "wsgi-limit10" else 40), app
    if intake.startswith("lean"):  # an experiment, benchmarks/bots/_lean_experiment.py
        from _lean_experiment import Lean

        lean = Lean(feed, SECRET)
        return lean, lean
    if intake.startswith("asgi"):
        asgi = WebhookASGIApp(feed, secret_token=SECRET, batches=intake != "asgi-single")
        served: Any = EngineOnLoop(asgi, box) if on_loop else asgi
        return Uvicorn(served, "uvloop" if "uvloop" in intake else "asyncio"), asgi
    return None, None


def profiled(intake: str) -> Any:
    """py-spy recording this process (GIL holders, 400 Hz) if BENCH_PYSPY names a file."""
    if not os.environ.get("BENCH_PYSPY"):
        return None
    import subprocess

    profiler = subprocess.Popen(
        ["py-spy", "record", "--pid", str(os.getpid()), "--format", "raw", "--rate", "400",
         "--gil", "-o", os.environ["BENCH_PYSPY"] + f".{intake}.txt"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    threading.Event().wait(1.0)  # it attaches before the updates come
    return profiler


def main() -> None:
    intake, token, base_url = sys.argv[1:]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    box: dict[str, Any] = {}

    def feed(update: Any) -> None:
        box["engine"].feed(update)

    on_loop = intake.endswith("-async") and not intake.startswith("polling")
    server, app = serve(intake, feed, box, on_loop)
    hook: Any = Polling(timeout=10, limit=10 if intake == "polling-10" else 100)
    if server is not None:
        hook = Webhook(f"http://127.0.0.1:{server.port}/hook", secret_token=SECRET,
                       max_connections=40)
    handler: Any = MessageCounter
    if intake.endswith("-async"):
        from actorbot_counter import AsyncMessageCounter

        handler = AsyncMessageCounter
    engine = box["engine"] = Engine(
        token, [Route(per_chat_id(), handler)], intake=hook,
        sending=Sending(limits=RateLimits.unlimited()),
        connection=Connection(base_url=base_url), stats_interval=None,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    if isinstance(server, Uvicorn):
        server.start()  # with on_loop, its lifespan has started the engine
    if not on_loop:
        engine.start()
    elif not isinstance(server, Uvicorn):
        asyncio.run_coroutine_threadsafe(engine.start_async(), server.loop).result()
    times = os.times()
    profiler = profiled(intake)
    print(f"ready {times.user + times.system:.4f}", flush=True)
    done.wait()
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait()
    if not on_loop:
        engine.stop()
    elif not isinstance(server, Uvicorn):  # uvicorn's lifespan stops it
        asyncio.run_coroutine_threadsafe(engine.stop_async(), server.loop).result()
    if server is not None:
        server.stop()
    stats: dict[str, Any] = {"requests": app.stats() if app is not None else {}}
    if isinstance(app, WebhookASGIApp):
        stats["hand_overs"] = app.hand_overs
    print(f"stats {json.dumps(stats)}", flush=True)


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
