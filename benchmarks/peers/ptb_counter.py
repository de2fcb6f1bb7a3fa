"""The counter bot on python-telegram-bot, for benchmarks/compare.py (runs in the peers venv).

Same contract as ``benchmarks/bots/actorbot_counter.py``: ``python ptb_counter.py VARIANT
TOKEN BASE_URL``; prints ``ready <cpu seconds>`` once the application is initialised, then
polls (10 s long polls, like the actorbot bot) until SIGTERM. VARIANT ``default`` handles
updates one at a time, PTB's default; ``concurrent`` is ``concurrent_updates(True)`` (up
to 256 at once, with the default pool of 256 connections). The per-chat count lives in
``context.chat_data``, PTB's place for per-chat state.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

VARIANTS = ("default", "concurrent")


async def count(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_data, message = context.chat_data, update.message
    if chat_data is None or message is None:
        return
    chat_data["count"] = n = chat_data.get("count", 0) + 1
    await message.reply_text(str(n))  # private chat: no quote, like the actorbot bot


async def announce(_: Application[Any, Any, Any, Any, Any, Any]) -> None:
    times = os.times()
    print(f"ready {times.user + times.system:.4f}", flush=True)


def main() -> None:
    variant, token, base_url = sys.argv[1:]
    if variant not in VARIANTS:
        raise SystemExit(f"variant must be one of {VARIANTS}")
    logging.basicConfig(level=logging.WARNING)  # httpx logs every request at INFO
    builder = (ApplicationBuilder().token(token).base_url(f"{base_url}/bot")
               .base_file_url(f"{base_url}/file/bot").post_init(announce))
    if variant == "concurrent":
        builder = builder.concurrent_updates(True)
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, count))
    application.run_polling(timeout=10)  # stops gracefully on SIGTERM


if __name__ == "__main__":
    main()
