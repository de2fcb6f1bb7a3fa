"""Passivation churn: updates/s when idle timeouts are short and seeds keep coming back.

N chats come back in W waves, each chat writing ``--burst`` messages a wave; the bot echoes
every message, so each chat's replies must be exactly 1..W*burst in order: no update lost
across a passivation, none replayed twice. The same workload runs twice in one go: with a
long idle timeout (handlers stay alive: the baseline) and with a short one (0.05 s: a chat
is passivated between its waves and every wave spawns it again), so the ratio is what the
churn costs. The bot is this script run as ``churn.py bot RUNTIME IDLE TOKEN URL`` in its
own process; it prints ``engine.stats()`` (spawned, passivated, buffered) at SIGTERM.

    .venv/bin/python benchmarks/churn.py                         # 1,000 chats x 10 waves x 2
    .venv/bin/python benchmarks/churn.py --chats 20 --waves 5 --gap 0.2

Waves are injected all up front by default: churn then needs more chats than the bot
handles in one idle timeout (1,000 chats at ~1,000 updates/s come back after ~2 s).
``--gap`` paces the waves instead (set it above the idle timeout); updates/s is then the
pace, and CPU per update and latency are the figures to compare.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from dataclasses import asdict
from typing import Any

import structlog
from counter import Pacing, Run, main_or_bot, order_cell, run_bot, table, write_results

from actorbot import ChatHandler, Engine, RateLimits, Route, per_chat_id
from actorbot.api import Connection
from actorbot.engine import Handling
from actorbot.intake import Polling
from actorbot.sending import Sending


class Echo(ChatHandler):
    """Answers each message with its text (the chat's message number)."""

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message(msg["text"])


def bot(runtime: str, idle_timeout: str, token: str, base_url: str) -> None:
    """The bot process: echo until SIGTERM, then print ``stats <json>`` and stop."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    route = Route(per_chat_id(), Echo, idle_timeout=float(idle_timeout))
    engine = Engine(
        token, [route], intake=Polling(timeout=10), handling=Handling(runtime=runtime),
        sending=Sending(limits=RateLimits.unlimited()), connection=Connection(base_url=base_url),
        stats_interval=None,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    engine.start()
    print(f"ready {time.process_time():.6f}", flush=True)
    stop.wait()
    print(f"stats {json.dumps(engine.stats(), default=str)}", flush=True)
    engine.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--waves", type=int, default=10)
    parser.add_argument("--burst", type=int, default=2, help="messages per chat per wave")
    parser.add_argument("--idle-timeout", type=float, default=0.05)
    parser.add_argument("--baseline-idle", type=float, default=60.0)
    parser.add_argument("--gap", type=float, default=0.0,
                        help="seconds between waves (default: all waves up front)")
    parser.add_argument("--runtime", default="pool")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    messages = args.waves * args.burst
    pacing = Pacing(wave=args.chats * args.burst, gap=args.gap) if args.gap > 0 else Pacing()
    runs: list[Run] = [
        run_bot(f"idle {idle:g} s", [sys.executable, __file__, "bot", args.runtime, str(idle)],
                chats=args.chats, messages=messages, latency=0.0, timeout=args.timeout,
                pacing=pacing, burst=args.burst)
        for idle in (args.baseline_idle, args.idle_timeout)]
    header = ("idle timeout", "updates/s", "p50 ms", "p99 ms", "CPU ms/update", "spawned",
              "passivated", "buffered", "peak RSS MiB", "order ok", "other CPU s")
    rows = [(r.bot, r.updates_per_s, r.p50_ms, r.p99_ms, r.bot_cpu_ms_per_reply,
             r.bot_stats.get("spawned"), r.bot_stats.get("passivated"),
             r.bot_stats.get("buffered_total"), r.peak_rss_mib, order_cell(r), r.other_cpu_s)
            for r in runs]
    print(table(f"churn: {args.chats} chats x {args.waves} waves x {args.burst} messages, "
                f"runtime {args.runtime}, injection {runs[0].injection}", header, rows))
    base, churn = runs
    if base.updates_per_s:
        print(f"with churn / without: {churn.updates_per_s / base.updates_per_s:.2f}x "
              f"updates/s, {churn.bot_cpu_ms_per_reply - base.bot_cpu_ms_per_reply:+.3f} ms "
              f"CPU per update; at most {args.chats * args.waves} spawns possible")
    paced = f"_gap{args.gap:g}s" if args.gap > 0 else ""
    write_results(f"churn_{args.chats}x{args.waves}x{args.burst}{paced}",
                  {"benchmark": "churn", "runs": [asdict(r) for r in runs]})


if __name__ == "__main__":
    main_or_bot(main, bot)
