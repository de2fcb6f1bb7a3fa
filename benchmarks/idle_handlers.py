"""How many idle handler actors fit, how fast they start, how fast they go away.

Feeds one update per chat for ``--handlers`` chats (through the router, as a real bot
would get them), so each chat gets a ``ChatHandler`` with a small piece of state; then
waits for the idle timeout to passivate them all. Reports handlers started per second,
resident memory per live handler, and the time for the count to return to 0.

Run alone (2 cores):

    .venv/bin/python benchmarks/idle_handlers.py --handlers 1000000
    .venv/bin/python benchmarks/idle_handlers.py --handlers 10000 --runtime threads
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import resource
import threading
import time
from pathlib import Path
from typing import Any

import structlog

from actorbot import ChatHandler, Engine, Route, per_chat_id
from actorbot.api import Connection
from actorbot.engine import Handling

RESULTS = Path(__file__).parent / "results"


class Chat(ChatHandler):
    """A chat handler with a small piece of state."""

    def on_open(self, update: Any) -> None:
        self.count = 0
        self.language = "en"

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.count += 1


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def update(chat: int) -> dict[str, Any]:
    return {"update_id": chat + 1, "message": {
        "message_id": 1, "date": 0, "text": "hi", "chat": {"id": chat, "type": "private"}}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handlers", type=int, default=1_000_000)
    parser.add_argument("--runtime", choices=["pool", "threads"], default="pool")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--idle-timeout", type=float, default=60.0,
                        help="must exceed the time it takes to start them all")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    n = args.handlers

    gc.collect()
    rss_before = rss_bytes()
    engine = Engine(
        "123456:bench-token",
        [Route(per_chat_id(), Chat, idle_timeout=args.idle_timeout)],
        intake=None,
        handling=Handling(runtime=args.runtime, workers=args.workers, max_in_flight=20_000),
        connection=Connection(base_url="http://127.0.0.1:9"), stats_interval=None,
    )
    engine.start()
    try:
        cpu0, t0 = time.process_time(), time.perf_counter()
        for start in range(0, n, args.batch):
            engine.tracker.wait_below(engine.handling.max_in_flight)
            engine.feed([update(c) for c in range(start, min(start + args.batch, n))])
        engine.tracker.wait_idle()
        t_started, cpu_started = time.perf_counter() - t0, time.process_time() - cpu0
        alive = engine.stats()["handlers_alive"]
        if alive != n:
            raise SystemExit(f"only {alive:,} of {n:,} alive at once: the first ones idled out "
                             f"before the last started; raise --idle-timeout")
        gc.collect()
        rss_alive = rss_bytes()
        threads_alive = threading.active_count()

        t1 = time.perf_counter()
        while engine.stats()["handlers_alive"]:
            time.sleep(0.05)  # a benchmark sampling a counter, not a synchronisation
        t_gone = time.perf_counter() - t1
        passivated = engine.stats()["passivated"]
    finally:
        engine.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    result = {
        "benchmark": "idle_handlers", "runtime": args.runtime, "workers": args.workers,
        "handlers": n, "idle_timeout_s": args.idle_timeout,
        "start_s": round(t_started, 3), "started_per_s": round(n / t_started),
        "start_cpu_us_per_handler": round(cpu_started / n * 1e6, 2),
        "rss_before_mib": round(rss_before / 2**20, 1),
        "rss_alive_mib": round(rss_alive / 2**20, 1),
        "bytes_per_handler": round((rss_alive - rss_before) / n),
        "peak_rss_mib": round(peak / 2**20, 1), "threads_alive": threads_alive,
        "back_to_zero_after_timeout_s": round(t_gone, 2),
        "passivated_per_s_after_timeout": round(passivated / t_gone) if t_gone else None,
        "passivated": passivated,
    }
    rows = [
        ("runtime", f"{args.runtime} ({args.workers} workers)" if args.runtime == "pool"
         else args.runtime),
        ("handlers alive at once", f"{n:,}"),
        ("started in", f"{t_started:.2f} s ({n / t_started:,.0f} handlers/s, "
                       f"{cpu_started / n * 1e6:.1f} µs CPU each)"),
        ("RSS with all alive", f"{rss_alive / 2**20:,.0f} MiB "
                               f"({(rss_alive - rss_before) / n:,.0f} B per handler)"),
        ("peak RSS", f"{peak / 2**20:,.0f} MiB"),
        ("threads while alive", str(threads_alive)),
        ("count back to 0", f"{t_gone:.1f} s after the last start "
                            f"(idle timeout {args.idle_timeout:g} s)"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"idle_handlers_{args.runtime}_{n}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
