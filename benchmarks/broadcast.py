"""A broadcast at Telegram's limits: one message to each of 100,000 chats, all queued at
once, against the fake's strict flood control, with the sender's default limits; then the
same through the paid-broadcast lane (``allow_paid_broadcast``, 1,000/s on the fake).

The sender runs in its own process (the harness runs the fake), for ``--seconds`` after
the last message is queued. Reported per lane: messages delivered and their rate, 429
answers, the sender thread's CPU share of one core (from /proc, the actor's own thread),
the bot process's CPU per delivered message, the one-off CPU of queueing 100,000 calls,
and how much CPU other processes used meanwhile (the machine is shared: check it).

    .venv/bin/python benchmarks/broadcast.py                  # 100,000 chats, 60 s per lane
    .venv/bin/python benchmarks/broadcast.py --seconds 15     # a short run
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from counter import CLOCK_TICKS, machine_busy_seconds, table, write_results

from actorbot.testing import FakeBotApi


def thread_cpu(native_id: int) -> float:
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_cpu() -> float:
    times = os.times()
    return times.user + times.system


def bot(token: str, base_url: str, chats: str, seconds: str, lane: str) -> None:
    """The bot process: queue one message per chat, let the sender work, print figures."""
    import structlog

    from actorbot import Client
    from actorbot.runtime import Clock
    from actorbot.sending import Sender, SenderHandle, Sending

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))

    class MeasuredSender(Sender):
        native_id = 0

        def on_start(self) -> None:
            MeasuredSender.native_id = threading.get_native_id()
            super().on_start()

    count, paid = int(chats), lane == "paid"
    client = Client(token, base_url=base_url, pool_maxsize=64)
    clock = Clock()
    clock.start()
    sender = MeasuredSender(client, clock, Sending(max_queue=count + 1, max_retries=0))
    sender._start_actor_loop()
    handle = SenderHandle.of(sender)
    extra: dict[str, Any] = {"allow_paid_broadcast": True} if paid else {}
    cpu0 = process_cpu()
    for chat in range(1, count + 1):
        handle.submit("sendMessage", {"chat_id": chat, "text": "news", **extra})
    cpu1, start = process_cpu(), time.monotonic()
    sender_cpu1 = thread_cpu(MeasuredSender.native_id)
    done0 = sender.stats.succeeded
    time.sleep(float(seconds))  # a fixed measurement window, not synchronisation
    elapsed = time.monotonic() - start
    cpu2, sender_cpu2 = process_cpu(), thread_cpu(MeasuredSender.native_id)
    delivered = sender.stats.succeeded - done0
    print(json.dumps({
        "queue_cpu_s": round(cpu1 - cpu0, 3), "seconds": round(elapsed, 2),
        "delivered": delivered, "per_s": round(delivered / elapsed, 1),
        "sender_core_share": round((sender_cpu2 - sender_cpu1) / elapsed, 4),
        "bot_cpu_ms_per_message": round((cpu2 - cpu1) / max(delivered, 1) * 1000, 3),
        "rate_limited": sender.stats.rate_limited,
    }), flush=True)
    sender.actor_ref.stop(timeout=60)
    clock.stop(5)
    client.close()


def run(chats: int, seconds: float, lane: str) -> dict[str, Any]:
    with FakeBotApi(flood_control=True, record_calls=False) as tg:
        busy0, own0 = machine_busy_seconds(), process_cpu()
        child = subprocess.run(
            [sys.executable, __file__, "bot", tg.token, tg.base_url, str(chats), str(seconds),
             lane], capture_output=True, text=True, check=True)
        busy, own = machine_busy_seconds() - busy0, process_cpu() - own0
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        figures["responses_429"] = tg.count_429
    figures.update(lane=lane, chats=chats,
                   other_cpu_s=round(max(busy - own, 0.0), 1))  # the bot's CPU included
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--lanes", nargs="+", default=["overall", "paid"])
    args = parser.parse_args()
    runs = [run(args.chats, args.seconds, lane) for lane in args.lanes]
    header = ("lane", "delivered", "s", "msg/s", "429s", "sender core %", "bot CPU ms/msg",
              "queueing CPU s", "machine CPU s beyond harness")
    rows = [(r["lane"], r["delivered"], r["seconds"], r["per_s"], r["responses_429"],
             round(r["sender_core_share"] * 100, 2), r["bot_cpu_ms_per_message"],
             r["queue_cpu_s"], r["other_cpu_s"]) for r in runs]
    print(table(f"broadcast: one message to each of {args.chats:,} chats, strict flood "
                f"control, default limits, {args.seconds:g} s per lane", header, rows))
    write_results(f"broadcast_{args.chats}", {"benchmark": "broadcast", "runs": runs})


if __name__ == "__main__":
    if sys.argv[1:2] == ["bot"]:
        bot(*sys.argv[2:])
    else:
        main()
