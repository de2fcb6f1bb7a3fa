"""Mini App clients at scale: N authenticated websocket clients, each sending one message
per second to its user's actor and waiting for the answer.

Three processes, so each figure belongs to one of them: this harness; the bot
(``miniapp.py bot PORT TOKEN``: an engine with a ``MiniApp`` and one ``UserHandler`` per
user that answers every client message); the load generator (``miniapp.py load ...``:
asyncio websockets clients, one per user). The bot reports its own CPU time, threads and
RSS when asked on stdin, so CPU per message leaves out the clients.

    .venv/bin/python benchmarks/miniapp.py --clients 500 --duration 20     # a check
    .venv/bin/python benchmarks/miniapp.py --clients 10000 --duration 60   # the figures

Both child processes raise their soft limit of open files to the hard limit
(``resource.setrlimit``); with fewer file descriptors than clients the run says so and
stops. Figures: round trip p50/p99 (client send to answer received, measured in the load
process), threads of the bot, RSS per connection (bot RSS with every client logged in
minus before any, divided by clients), bot CPU per message over the measuring window.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import structlog
from counter import table, write_results

from actorbot import Engine, Route, UserHandler, per_from_id
from actorbot.api import Connection
from actorbot.webapp import Client, MiniApp

TOKEN = "123456:BENCH-token"


def raise_fd_limit(needed: int) -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft < needed:
        sys.exit(f"only {soft} file descriptors (hard limit) for {needed}: raise ulimit -n")
    return soft


# -- the bot process -------------------------------------------------------------------------


class Echo(UserHandler):
    """A plain handler: it runs on the handler pool's threads."""

    def on_client_message(self, client: Client, type: str, data: Any) -> None:
        client.send("echo", data)


class AsyncEcho(UserHandler):
    """An ``async def`` hook: the handler runs on the engine's event loop, beside the
    connections (one thread hop fewer per message)."""

    async def on_client_message(self, client: Client, type: str, data: Any) -> None:
        client.send("echo", data)


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def bot(port: str, clients: str, handler: str) -> None:
    raise_fd_limit(int(clients) + 100)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    app = MiniApp(port=int(port), ping_interval=None, max_queue=64)
    engine = Engine(TOKEN, [Route(per_from_id(), AsyncEcho if handler == "async" else Echo,
                                  idle_timeout=None)], intake=None,
                    commands=False, stats_interval=None, components=[app],
                    connection=Connection(base_url="http://127.0.0.1:9"))  # never called
    engine.start()
    print(f"ready {app.port}", flush=True)
    for line in sys.stdin:  # "stats": one JSON line back; EOF: stop
        if line.strip() == "stats":
            print(json.dumps({"cpu": time.process_time(), "rss": rss_bytes(),
                              "threads": threading.active_count(),
                              "clients": app.client_count,
                              "handlers": engine.stats()["handlers_alive"]}), flush=True)
    engine.stop()


# -- the load process ------------------------------------------------------------------------


async def one_client(url: str, init_data: str, rtts: list[float], state: dict[str, Any],
                     logged_in: asyncio.Semaphore) -> None:
    from websockets.asyncio.client import connect

    async with logged_in:
        ws = await connect(url, max_queue=4, compression=None, ping_interval=None,
                           open_timeout=120)
        await ws.send(json.dumps({"type": "login", "data": {"initData": init_data}}))
        await ws.recv()  # welcome
    state["connected"] += 1
    await state["go"].wait()
    await asyncio.sleep(random.random())  # spread the sends over the second
    try:
        while not state["stop"]:
            sent = time.monotonic()
            await ws.send(json.dumps({"type": "ping", "data": sent}))
            await ws.recv()
            now = time.monotonic()
            if state["measuring"]:
                rtts.append(now - sent)
            await asyncio.sleep(max(0.0, 1.0 - (now - sent)))
    finally:
        await ws.close()


async def load_main(url: str, clients: int, duration: float, warmup: float) -> None:
    from actorbot.testing import sign_init_data

    raise_fd_limit(clients + 100)
    rtts: list[float] = []
    state: dict[str, Any] = {"connected": 0, "stop": False, "measuring": False,
                             "go": asyncio.Event()}
    logged_in = asyncio.Semaphore(200)  # logins in flight at once
    tasks = [asyncio.create_task(one_client(url, sign_init_data(TOKEN, 10_000 + i), rtts,
                                            state, logged_in)) for i in range(clients)]
    while state["connected"] < clients:
        await asyncio.sleep(0.2)
        failed = [t for t in tasks if t.done() and t.exception()]
        if failed:
            sys.exit(f"a client failed to log in: {failed[0].exception()!r}")
    print("connected", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "go"
    state["go"].set()
    await asyncio.sleep(warmup)
    cpu0 = time.process_time()
    state["measuring"] = True
    print("measuring", flush=True)
    await asyncio.sleep(duration)
    state["measuring"] = False
    print(json.dumps({"measured": len(rtts), "rtts": _percentiles(rtts),
                      "load_cpu": time.process_time() - cpu0}), flush=True)
    state["stop"] = True
    await asyncio.gather(*tasks, return_exceptions=True)


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50_ms": pick(0.5) * 1e3, "p90_ms": pick(0.9) * 1e3, "p99_ms": pick(0.99) * 1e3,
            "max_ms": ordered[-1] * 1e3}


def load(url: str, clients: str, duration: str, warmup: str) -> None:
    asyncio.run(load_main(url, int(clients), float(duration), float(warmup)))


# -- the harness -----------------------------------------------------------------------------


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, __file__, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)


def expect(process: subprocess.Popen[str], prefix: str) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(prefix):
            return line
    raise SystemExit(f"child ended before saying {prefix!r} (exit {process.wait()})")


def ask_stats(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdin is not None
    process.stdin.write("stats\n")
    process.stdin.flush()
    stats: dict[str, Any] = json.loads(expect(process, "{"))
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=60.0, help="measuring seconds")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--handler", choices=["sync", "async"], default="sync",
                        help="the echo hook as a plain def (pool) or an async def (loop)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    print(f"open files: soft {soft}, hard {hard}; the children raise soft to hard")

    bot_process = spawn("bot", str(args.port), str(args.clients), args.handler)
    port = expect(bot_process, "ready").split()[1]
    before = ask_stats(bot_process)
    started = time.monotonic()
    load_process = spawn("load", f"ws://127.0.0.1:{port}/", str(args.clients),
                         str(args.duration), str(args.warmup))
    expect(load_process, "connected")
    login_s = time.monotonic() - started
    connected = ask_stats(bot_process)
    assert load_process.stdin is not None
    load_process.stdin.write("go\n")
    load_process.stdin.flush()
    expect(load_process, "measuring")
    first = ask_stats(bot_process)
    result = json.loads(expect(load_process, "{"))
    last = ask_stats(bot_process)
    load_process.wait(120)
    assert bot_process.stdin is not None
    bot_process.stdin.close()
    bot_process.wait(60)

    measured = result["measured"]
    rtts = result["rtts"]
    cpu_us = (last["cpu"] - first["cpu"]) / measured * 1e6 if measured else None
    rss_per = (connected["rss"] - before["rss"]) / args.clients
    row = [args.clients, f"{login_s:.1f}", measured, f"{measured / args.duration:.0f}",
           f"{rtts.get('p50_ms', 0):.2f}", f"{rtts.get('p99_ms', 0):.2f}",
           f"{rtts.get('max_ms', 0):.1f}", f"{before['threads']}/{last['threads']}",
           f"{rss_per / 1024:.1f}", f"{cpu_us:.0f}" if cpu_us else None]
    print(table(f"Mini App clients, 1 message/s each, {args.duration:g} s measured, "
                f"{args.handler} handler",
                ["clients", "login s", "answers", "answers/s", "p50 ms", "p99 ms", "max ms",
                 "threads idle/loaded", "KiB RSS/conn", "bot CPU us/msg"], [row]))
    write_results(f"miniapp-{args.handler}", {
        "args": vars(args), "before": before, "connected": connected, "first": first,
        "last": last, "load": result, "login_s": login_s, "rss_per_connection": rss_per,
        "cpu_us_per_message": cpu_us})


if __name__ == "__main__":
    if sys.argv[1:2] == ["bot"]:
        bot(*sys.argv[2:])
    elif sys.argv[1:2] == ["load"]:
        load(*sys.argv[2:])
    else:
        main()
