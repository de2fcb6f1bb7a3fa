"""Routing only: updates/s from getUpdates to handlers, with no outgoing call.

N chats x M messages (interleaved, all injected up front) reach one ``ChatHandler`` per
chat that only counts and checks its chat's order. Nothing is sent, so this is the poller,
router, handler actors and acknowledgements alone: the cost a bot pays before its own
outgoing calls. The bot is this script run as ``routing.py bot RUNTIME TOTAL TOKEN URL``
in its own process; it prints the moment the last update was handled and its CPU time
then, so the figures leave out the fake server (in the harness process).

    .venv/bin/python benchmarks/routing.py                       # 1,000 x 20, both runtimes
    .venv/bin/python benchmarks/routing.py --chats 20 --messages 5 --runtimes pool
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import threading
import time
from dataclasses import asdict
from typing import Any, ClassVar

import structlog
from counter import main_or_bot, run_bot, table, write_results

from actorbot import ChatHandler, Engine, Route, per_chat_id
from actorbot.api import Connection
from actorbot.engine import Handling
from actorbot.intake import Polling


class Tally:
    """Updates handled by every handler together; prints ``done <cpu s> <monotonic s>
    <handled> <chats out of order>`` when the last one is in."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.handled = itertools.count(1)  # next() is atomic under the GIL: no lock
        self.misordered: set[int] = set()
        self.lock = threading.Lock()

    def add(self, chat_id: int, in_order: bool) -> None:
        if not in_order:
            with self.lock:
                self.misordered.add(chat_id)
        if next(self.handled) == self.total:
            print(f"done {time.process_time():.6f} {time.monotonic():.6f} "
                  f"{self.total} {len(self.misordered)}", flush=True)


class Counting(ChatHandler):
    """Counts its chat's messages; the text of the k-th is ``k`` when order holds."""

    tally: ClassVar[Tally]

    def on_open(self, update: Any) -> None:
        self.seen = 0

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.seen += 1
        self.tally.add(self.chat_id, msg.get("text") == str(self.seen))


def bot(runtime: str, total: str, token: str, base_url: str) -> None:
    """The bot process: route, count, report; runs until SIGTERM."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    Counting.tally = Tally(int(total))
    engine = Engine(
        token, [Route(per_chat_id(), Counting)], intake=Polling(timeout=10),
        handling=Handling(runtime=runtime), connection=Connection(base_url=base_url),
        stats_interval=None,
    )  # type: ignore[arg-type]
    engine.start()
    print(f"ready {time.process_time():.6f}", flush=True)  # all threads, ns resolution
    engine.run_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--runtimes", nargs="+", default=["pool", "threads"])
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    total = args.chats * args.messages
    runs = [run_bot(f"actorbot ({rt})", [sys.executable, __file__, "bot", rt, str(total)],
                    chats=args.chats, messages=args.messages, latency=0.0,
                    timeout=args.timeout, replies=False)
            for rt in args.runtimes]
    header = ("bot", "handled", "s", "updates/s", "CPU us/update", "peak RSS MiB",
              "peak threads", "order ok", "other CPU s")
    rows = [(r.bot, r.replies, r.seconds, r.updates_per_s,
             round(r.bot_cpu_ms_per_reply * 1000, 1), r.peak_rss_mib, r.peak_threads,
             "yes" if r.ordered else f"NO ({r.broken_chats} chats)", r.other_cpu_s)
            for r in runs]
    print(table(f"routing only: {args.chats} chats x {args.messages} messages, no outgoing "
                "call", header, rows))
    write_results(f"routing_{args.chats}x{args.messages}",
                  {"benchmark": "routing", "runs": [asdict(r) for r in runs]})


if __name__ == "__main__":
    main_or_bot(main, bot)
