"""The sender at Telegram's limits, and how pipelining lifts a 50 ms round trip.

1. Strict flood control on the fake server (Telegram's limits: 1/s per private chat, 30/s
   overall), 50 ms emulated latency, messages to 1,000 chats for at least 60 s, with the
   sender's default limits: sustained messages/s and how many 429s came back.
2. No flood control, 50 ms latency: messages/s with 1, 4, 16 and 64 HTTP connections.

    .venv/bin/python benchmarks/sender.py               # both parts (about 2 minutes)
    .venv/bin/python benchmarks/sender.py --skip-limits # part 2 only
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import structlog

from actorbot import Client
from actorbot.runtime import Clock
from actorbot.sending import RateLimits, Sender, SenderHandle, Sending
from actorbot.testing import FakeBotApi

RESULTS = Path(__file__).parent / "results"


def run(tg: FakeBotApi, messages: list[dict[str, Any]], limits: RateLimits,
        workers: int) -> dict[str, Any]:
    client = Client(tg.token, base_url=tg.base_url, pool_maxsize=workers)
    clock = Clock()
    clock.start()
    sender = Sender(client, clock, Sending(limits=limits, http_workers=workers,
                                          max_queue=len(messages) + 1))
    sender._start_actor_loop()
    handle = SenderHandle.of(sender)
    try:
        futures = [handle.submit("sendMessage", m) for m in messages]
        for future in futures:
            future.get(timeout=600)
    finally:
        sender.actor_ref.stop(timeout=60)
        clock.stop(5)
        client.close()
    sends = tg.calls_to("sendMessage")
    ok = [c for c in sends if c.status == 200]
    seconds = ok[-1].time - ok[0].time
    return {"messages": len(ok), "seconds": round(seconds, 2),
            "per_s": round((len(ok) - 1) / seconds, 2) if seconds > 0 else None,
            "responses_429": tg.count_429, "calls": len(sends)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--seconds", type=float, default=62.0,
                        help="length of the flood-control run")
    parser.add_argument("--skip-limits", action="store_true")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    results: dict[str, Any] = {"benchmark": "sender", "latency_ms": args.latency * 1000,
                               "chats": args.chats}

    if not args.skip_limits:
        limits = RateLimits()
        count = int((args.seconds + 1) * limits.global_per_s)
        messages = [{"chat_id": 1000 + i % args.chats, "text": f"m{i}"} for i in range(count)]
        with FakeBotApi(flood_control=True, latency=args.latency) as tg:
            strict = run(tg, messages, limits, workers=8)
        results["flood_control"] = strict
        print(f"strict flood control, {args.latency * 1000:g} ms latency, {args.chats} chats, "
              f"default limits, 8 connections:")
        print(f"  {strict['messages']} messages in {strict['seconds']} s = "
              f"{strict['per_s']} msg/s, 429 responses: {strict['responses_429']}")

    print(f"no flood control, {args.latency * 1000:g} ms latency:")
    print(f"  {'connections':>11}  {'messages':>8}  {'seconds':>7}  {'msg/s':>7}")
    sweep = []
    for workers in (1, 4, 16, 64):
        count = max(200, workers * 60)
        messages = [{"chat_id": 1000 + i % args.chats, "text": f"m{i}"} for i in range(count)]
        with FakeBotApi(latency=args.latency) as tg:
            row = {"connections": workers, **run(tg, messages, RateLimits.unlimited(), workers)}
        sweep.append(row)
        print(f"  {workers:>11}  {row['messages']:>8}  {row['seconds']:>7}  {row['per_s']:>7}")
    results["pipelining"] = sweep
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "sender.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
