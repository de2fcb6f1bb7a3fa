"""The counter bot at Telegram's limits: 300 private chats x 5 messages, the fake's strict
flood control (30 in any 1 s overall, 1/s per private chat with a burst of 3), the sender's
default limits. Reported: replies/s, 429 answers, bot CPU per reply, order.

    .venv/bin/python benchmarks/flood.py
    .venv/bin/python benchmarks/flood.py --chats 100 --messages 3     # a short run
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from counter import HERE, order_cell, run_bot, table, write_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.0, help="emulated API latency, s")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    bot = str(HERE / "bots" / "actorbot_counter.py")
    run = run_bot("actorbot", [sys.executable, bot, "pool@telegram"], chats=args.chats,
                  messages=args.messages, latency=args.latency, timeout=args.timeout,
                  flood=True)
    header = ("bot", "replies", "s", "replies/s", "429s", "CPU ms/reply", "order ok",
              "other CPU s")
    rows = [(run.bot, run.replies, run.seconds, run.updates_per_s, run.responses_429,
             run.bot_cpu_ms_per_reply, order_cell(run), run.other_cpu_s)]
    print(table(f"{args.chats} private chats x {args.messages} messages, strict flood "
                f"control, default limits, API latency {args.latency * 1000:g} ms",
                header, rows))
    write_results(f"flood_{args.chats}x{args.messages}",
                  {"benchmark": "flood", "runs": [asdict(run)]})


if __name__ == "__main__":
    main()
