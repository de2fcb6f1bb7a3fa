"""Journal overhead: the counter workload with the in-memory journal and with SQLite.

The in-memory journal (the default) dedupes and parks poison updates but loses what is in
flight on a crash; SQLite (WAL) makes delivery at-least-once across crashes. Same workload,
same run, so the ratio is what the durability costs:

    .venv/bin/python benchmarks/journal.py                      # 1,000 x 20, 0 ms
    .venv/bin/python benchmarks/journal.py --chats 200 --messages 10
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict

from counter import HERE, RESULTS, Run, order_cell, run_bot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.0, help="emulated API latency, s")
    parser.add_argument("--runtime", default="pool")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    bot = str(HERE / "bots" / "actorbot_counter.py")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, where in [("memory journal", "memory"),
                             ("sqlite NORMAL", f"{tmp}/normal.db"),
                             ("sqlite FULL", f"{tmp}/full.db?FULL")]:
            runs.append(run_bot(label, [sys.executable, bot, args.runtime, where],
                                chats=args.chats, messages=args.messages,
                                latency=args.latency, timeout=args.timeout))
    base = runs[0]
    header = ("journal", "replies", "updates/s", "vs memory", "CPU ms/reply", "+CPU ms",
              "order ok", "other CPU s")
    rows = [(r.bot, r.replies, r.updates_per_s,
             f"{r.updates_per_s / base.updates_per_s:.2f}x" if base.updates_per_s else "-",
             r.bot_cpu_ms_per_reply, f"{r.bot_cpu_ms_per_reply - base.bot_cpu_ms_per_reply:+.3f}",
             order_cell(r), r.other_cpu_s) for r in runs]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    print(f"{args.chats} chats x {args.messages} messages, API latency "
          f"{args.latency * 1000:g} ms, runtime {args.runtime}")
    for row in (header, *rows):
        print("  ".join(str(x).rjust(w) for x, w in zip(row, widths, strict=True)))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"journal_{args.chats}x{args.messages}_{int(args.latency * 1000)}ms.json"
    out.write_text(json.dumps({"benchmark": "journal", "runs": [asdict(r) for r in runs]},
                              indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
