"""Webhook intake against polling: the counter workload, bot CPU per update, one run.

The harness (this process) runs the fake Bot API; the bot (``bots/actorbot_webhook.py``)
runs in its own process, so its CPU (user + system of the whole process, from ``/proc``,
from the moment it is ready to the last reply) is the bot side's alone: engine, sender and
the HTTP server that receives the webhook. The updates are injected only once the bot is
ready (all at once, or ``--rate`` per second: the same arrivals for every intake); the
fake then either answers its ``getUpdates`` (up to 100 per call) or POSTs them to the
webhook like Telegram does: up to ``max_connections=40`` at once, one at a time per chat.
Reported: updates/s, bot CPU per update and its ratio to polling's (with the same hooks:
an ``-async`` intake against ``polling-async``), the connections the
fake opened to the webhook, and requests per ``feed`` hand-over (ASGI).

    .venv/bin/python benchmarks/webhook.py                         # 100 chats x 10
    .venv/bin/python benchmarks/webhook.py --chats 1000 --messages 20
    .venv/bin/python benchmarks/webhook.py --intakes polling asgi --repeat 3
    .venv/bin/python benchmarks/webhook.py --chats 1000 --messages 20 --rate 2000
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from counter import HERE, Pacing, Run, run_bot, table, write_results

INTAKES = ("polling", "polling-10", "wsgi", "wsgi-limit10", "stdlib", "asgi", "asgi-single",
           "asgi-uvloop", "lean", "polling-async", "asgi-async", "asgi-uvloop-async", "lean-async")
LABELS = {
    "polling": "polling (getUpdates, 100 per call)",
    "polling-10": "polling, 10 per call (a hand-over's batch)",
    "wsgi": "WSGI: WebhookApp on cheroot, keep_alive_conn_limit=40",
    "wsgi-limit10": "WSGI: cheroot, default keep_alive_conn_limit=10",
    "stdlib": "WSGI: WebhookApp on WSGIThreadServer",
    "asgi": "ASGI: WebhookASGIApp(batches=True) on uvicorn",
    "asgi-single": "ASGI: WebhookASGIApp, one feed per update",
    "asgi-uvloop": "ASGI: WebhookASGIApp(batches=True) on uvicorn + uvloop",
    "polling-async": "polling, async hooks",
    "asgi-async": "ASGI on uvicorn, async hooks, the engine on uvicorn's loop",
    "asgi-uvloop-async": "ASGI on uvicorn + uvloop, async hooks on its loop",
    "lean-async": "experiment: the bare protocol, async hooks on its loop",
    "lean": "experiment: a bare asyncio protocol, the same Gate and batching",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--intakes", nargs="+", default=list(INTAKES), choices=INTAKES)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, alternating")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="updates/s offered (0: all at once, once the bot is ready)")
    args = parser.parse_args()
    bot = str(HERE / "bots" / "actorbot_webhook.py")
    runs: list[tuple[str, Run]] = []
    for _ in range(args.repeat):
        for intake in args.intakes:
            run = run_bot(intake, [sys.executable, bot, intake], chats=args.chats,
                          messages=args.messages, latency=0.0, timeout=args.timeout,
                          pacing=Pacing(rate=args.rate or 1e12))  # 0: all once it is ready
            runs.append((intake, run))
            print(f"{intake}: {run.bot_cpu_ms_per_reply} ms/update", file=sys.stderr)
    bases = {}  # the baselines: polling with the same hooks
    for flavour in ("polling", "polling-async"):
        polling = [r.bot_cpu_ms_per_reply for i, r in runs if i == flavour]
        bases[flavour] = sum(polling) / len(polling) if polling else None
    header = ("intake", "updates", "s", "updates/s", "bot CPU ms/update", "vs polling",
              "switches/update", "connections", "per hand-over", "order ok", "other CPU s")
    rows = []
    for intake, r in runs:
        overs = r.bot_stats.get("hand_overs")
        base = bases["polling-async" if intake.endswith("-async") else "polling"]
        rows.append((
            LABELS[intake], r.replies, r.seconds, r.updates_per_s, r.bot_cpu_ms_per_reply,
            f"{r.bot_cpu_ms_per_reply / base:.2f}x" if base else None, r.switches_per_reply,
            r.fake_stats.get("webhook_connections"),
            f"{r.replies / overs:.1f}" if overs else None,
            "yes" if r.ordered and r.complete else "NO", r.other_cpu_s))
    offered = f"{args.rate:g} updates/s offered" if args.rate else "all at once"
    print(table(f"{args.chats} chats x {args.messages} messages, {offered}, 0 ms API "
                "latency, webhook max_connections=40", header, rows))
    write_results(f"webhook_{args.chats}x{args.messages}" + (f"_{args.rate:g}" if args.rate
                                                             else ""),
                  {"benchmark": "webhook", "rate": args.rate,
                   "baseline_polling_ms": bases["polling"],
                   "baseline_polling_async_ms": bases["polling-async"],
                   "runs": [{"intake": i, **asdict(r)} for i, r in runs]})


if __name__ == "__main__":
    main()
