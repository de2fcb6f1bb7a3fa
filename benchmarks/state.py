"""Declared state's cost: CPU and reply latency per update on the counter workload with
each store, against the same bot keeping its count in an attribute; and the RSS of
``--seeds`` handlers whose state was saved and which all passivated.

Same workload, same run, each pair on the same journal, so the differences are what the
state costs:

- memory journal: attribute | ``MemoryStore``
- SQLite journal: attribute | ``SqliteStore`` on the journal's file (exactly-once) |
  ``SqliteStore`` in its own file | ``RedisStore`` (a ``redis-server`` started here)

Run alone (2 cores), e.g.:

    .venv/bin/python benchmarks/state.py                          # 1,000 x 20, 0 ms; 1M seeds
    .venv/bin/python benchmarks/state.py --chats 100 --messages 10 --seeds 20000
    .venv/bin/python benchmarks/state.py --skip-rss                 # the counter runs only
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import structlog
from counter import HERE, RESULTS, Run, order_cell, run_bot
from idle_handlers import rss_bytes, update

sys.path.insert(0, str(HERE.parent))
from actorbot import ChatHandler, Engine, Route, per_chat_id
from actorbot.api import Connection
from actorbot.engine import Handling
from actorbot.handlers import State
from actorbot.state import SqliteStore
from tests.redisd import RedisServer, find_binary


@dataclass
class Profile:
    """A small piece of state, as benchmarks/idle_handlers.py's handlers keep."""

    count: int = 0
    language: str = "en"


class Chat(ChatHandler):
    state = State(Profile)

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.state.count += 1


class PlainChat(ChatHandler):
    """The same without declared state (the baseline: nothing survives passivation)."""

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.count = getattr(self, "count", 0) + 1


def passivated_rss(seeds: int, idle_timeout: float, stateful: bool, batch: int = 1000
                   ) -> dict[str, Any]:
    """Feed one update to each of ``seeds`` chats (state saved to a SqliteStore sharing
    the journal's file), wait until every handler passivated, and measure the RSS; then
    the same for as many *new* chats: what RSS grows by then is what passivated seeds
    retain (the first wave's growth is mostly the allocator's high-water mark)."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/bot.db"
        gc.collect()
        rss_before = rss_bytes()
        engine = Engine(
            "123456:bench-token",
            [Route(per_chat_id(), Chat if stateful else PlainChat, idle_timeout=idle_timeout)],
            intake=None, handling=Handling(max_in_flight=20_000),
            connection=Connection(base_url="http://127.0.0.1:9"), stats_interval=None,
            journal=db, state=db)
        engine.start()
        def wave(first: int) -> None:
            for start in range(first, first + seeds, batch):
                engine.tracker.wait_below(engine.handling.max_in_flight)
                engine.feed([update(c) for c in range(start, min(start + batch,
                                                                  first + seeds))])
            engine.tracker.wait_idle()
            while engine.stats()["handlers_alive"]:
                time.sleep(0.05)  # a benchmark sampling a counter, not a synchronisation
            engine.journal.flush(60)
            gc.collect()

        try:
            t0 = time.perf_counter()
            wave(0)
            t_fed = time.perf_counter() - t0
            rss_after = rss_bytes()
            wave(seeds)
            rss_second = rss_bytes()
            passivated = engine.stats()["passivated"]
            book = engine._state_book  # what the state book still holds: nothing
            held = {} if book is None else {"staged": book.stats["staged"],
                                            "committed": book.stats["committed"],
                                            "in_ram": len(book._overlay)}
        finally:
            engine.stop(60)
        saved = sum(1 for _ in SqliteStore(db).records()) if stateful else 0
        size = Path(db).stat().st_size
    return {"stateful": stateful, "seeds": seeds, "passivated": passivated,
            "saved_rows": saved, "book": held,
            "fed_s": round(t_fed, 2), "rss_before_mib": round(rss_before / 2**20, 1),
            "rss_passivated_mib": round(rss_after / 2**20, 1),
            "bytes_per_passivated_seed": round((rss_after - rss_before) / max(seeds, 1)),
            "rss_after_second_wave_mib": round(rss_second / 2**20, 1),
            "bytes_per_seed_second_wave": round((rss_second - rss_after) / max(seeds, 1)),
            "file_mib": round(size / 2**20, 1)}


def table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(str(x).rjust(w) for x, w in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.0, help="emulated API latency, s")
    parser.add_argument("--runtime", default="pool")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--seeds", type=int, default=1_000_000)
    parser.add_argument("--idle-timeout", type=float, default=5.0,
                        help="for the RSS part: short, so the seeds passivate soon")
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--rss-child", choices=["stateful", "stateless"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:  # one clean process per RSS measurement
        print(json.dumps(passivated_rss(args.seeds, args.idle_timeout,
                                        args.rss_child == "stateful")))
        return
    bot = str(HERE / "bots" / "actorbot_state_counter.py")
    runs: list[tuple[str, Run]] = []
    with tempfile.TemporaryDirectory() as tmp:
        plan = [("memory", "none", "attribute"), ("memory", "memory", "MemoryStore"),
                (f"{tmp}/a.db", "none", "attribute"),
                (f"{tmp}/b.db", "journal", "SqliteStore, journal's file"),
                (f"{tmp}/c.db", f"sqlite:{tmp}/c.state.db", "SqliteStore, own file")]
        server = RedisServer().start() if find_binary() else None
        if server is not None:
            plan.append((f"{tmp}/d.db", f"redis:{server.url}", "RedisStore"))
        else:
            print("redis-server not installed: no RedisStore run")
        try:
            for journal, store, label in plan:
                name = f"{label} / {'memory' if journal == 'memory' else 'sqlite'} journal"
                run = run_bot(name, [sys.executable, bot, args.runtime, journal, store],
                              chats=args.chats, messages=args.messages,
                              latency=args.latency, timeout=args.timeout)
                runs.append(((journal == "memory" and "memory") or "sqlite", run))
        finally:
            if server is not None:
                server.stop()
    base = dict(reversed(runs))  # the first run of each journal
    header = ("state / journal", "replies", "updates/s", "CPU ms/reply", "+CPU ms",
              "p50 ms", "+p50", "p99 ms", "+p99", "order ok")

    def delta(value: float | None, ref: float | None) -> str:
        return "-" if value is None or ref is None else f"{value - ref:+.3f}"

    rows = [(r.bot, r.replies, r.updates_per_s, r.bot_cpu_ms_per_reply,
             delta(r.bot_cpu_ms_per_reply, base[k].bot_cpu_ms_per_reply),
             r.p50_ms, delta(r.p50_ms, base[k].p50_ms), r.p99_ms,
             delta(r.p99_ms, base[k].p99_ms), order_cell(r)) for k, r in runs]
    print(f"{args.chats} chats x {args.messages} messages, API latency "
          f"{args.latency * 1000:g} ms, runtime {args.runtime}")
    table(header, rows)
    result: dict[str, Any] = {"benchmark": "state", "runs": [asdict(r) for _, r in runs]}
    if not args.skip_rss:
        print()
        for kind in ("stateless", "stateful"):
            child = subprocess.run(
                [sys.executable, __file__, "--rss-child", kind, "--seeds", str(args.seeds),
                 "--idle-timeout", str(args.idle_timeout)],
                capture_output=True, text=True, check=True, timeout=args.timeout)
            rss = json.loads(child.stdout.strip().splitlines()[-1])
            result[f"passivated_{kind}"] = rss
            print(f"{rss['seeds']:,} seeds {'with' if rss['stateful'] else 'without'} state, "
                  f"all passivated: RSS {rss['rss_passivated_mib']:,} MiB (from "
                  f"{rss['rss_before_mib']:,} MiB: {rss['bytes_per_passivated_seed']:,} B per "
                  f"seed), then +{rss['bytes_per_seed_second_wave']:,} B per seed for as many "
                  f"new ones; {rss['saved_rows']:,} rows saved, file {rss['file_mib']:,} MiB; "
                  f"state book {rss['book'] or '-'}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / (f"state_{args.chats}x{args.messages}_{int(args.latency * 1000)}ms"
                     f"{'' if args.skip_rss else f'_{args.seeds}'}.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
