"""The counter bot on aiogram 3, for benchmarks/compare.py (runs in the peers venv).

Same contract as ``benchmarks/bots/actorbot_counter.py``: ``python aiogram_counter.py
VARIANT TOKEN BASE_URL``; prints ``ready <cpu seconds>`` at the dispatcher's startup, then
polls (10 s long polls) until SIGTERM. VARIANT ``default`` runs each update as its own task
(aiogram's default: nothing orders a chat's updates), ``isolated`` adds
``SimpleEventIsolation`` (a lock per chat and user), ``sequential`` handles one update at a
time (``handle_as_tasks=False``). The per-chat count lives in the FSM storage (the default
in-memory one), aiogram's place for per-chat state.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import Message

VARIANTS = ("default", "isolated", "sequential")
router = Router()


@router.message(F.text)
async def count(message: Message, state: FSMContext) -> None:
    n = (await state.get_data()).get("count", 0) + 1
    await state.update_data(count=n)
    await message.answer(str(n))


async def announce() -> None:
    times = os.times()
    print(f"ready {times.user + times.system:.4f}", flush=True)


async def run(variant: str, token: str, base_url: str) -> None:
    dispatcher = Dispatcher(
        events_isolation=SimpleEventIsolation() if variant == "isolated" else None)
    dispatcher.include_router(router)
    dispatcher.startup.register(announce)
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
    bot = Bot(token, session=session)
    # handle_signals (the default) stops polling gracefully on SIGTERM
    await dispatcher.start_polling(bot, polling_timeout=10,
                                   handle_as_tasks=variant != "sequential")


def main() -> None:
    variant, token, base_url = sys.argv[1:]
    if variant not in VARIANTS:
        raise SystemExit(f"variant must be one of {VARIANTS}")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiogram.dispatcher").setLevel(logging.ERROR)  # "Received SIGTERM"
    asyncio.run(run(variant, token, base_url))


if __name__ == "__main__":
    main()
