"""At-least-once across crashes: a bot process SIGKILLed mid-load, restarted on its journal.

The fake Bot API runs here; the bot (``tests/bots/echo_bot.py``, which echoes each text)
runs in a subprocess on a SQLite journal. After each kill the journal's pending updates
are read straight from the file: they are what was in flight at that moment, and the
only updates allowed to be answered twice.
"""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from actorbot.testing import FakeBotApi
from tests.helpers import BotProcess, eventually

ROOT = Path(__file__).resolve().parents[2]
CHATS = 250
MESSAGES = 20  # 5,000 updates


class Bot(BotProcess):
    """The echo bot as a subprocess on ``journal``."""

    def __init__(self, tg: FakeBotApi, journal: Path, flavour: str = "sync") -> None:
        super().__init__(tg, "tests.bots.echo_bot", str(journal), tg.base_url, flavour)


@pytest.fixture
def tg() -> Iterator[FakeBotApi]:
    with FakeBotApi(latency=0.002) as server:  # a round trip keeps replies in flight
        yield server


def inject(tg: FakeBotApi) -> dict[str, int]:
    """Interleaved across chats, as real traffic is; returns text -> update_id."""
    ids = {}
    for i in range(MESSAGES):
        for chat in range(1, CHATS + 1):
            text = f"{chat}:{i}"
            ids[text] = tg.inject_message(chat, text)["update_id"]
    return ids


def replies(tg: FakeBotApi) -> int:
    return len(tg.calls_to("sendMessage"))


def wait_replies(tg: FakeBotApi, count: int, timeout: float = 120) -> None:
    eventually(lambda: replies(tg) >= count, timeout, f"{count} replies", interval=0.02)


def distinct_replies(tg: FakeBotApi) -> int:
    return len({c.params.get("text") for c in tg.calls_to("sendMessage")})


def pending_in(journal: Path) -> set[int]:
    db = sqlite3.connect(journal)
    try:
        return {r[0] for r in db.execute("SELECT update_id FROM updates WHERE state = 0")}
    finally:
        db.close()


def answered(tg: FakeBotApi) -> dict[int, list[str]]:
    return {chat: tg.sent_texts(chat) for chat in range(1, CHATS + 1)}


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_sigkill_mid_load_loses_nothing_and_repeats_only_what_was_in_flight(
    tg: FakeBotApi, tmp_path: Path, flavour: str
) -> None:
    """``async``: the echo hook is ``async def`` and awaits its reply; an update is acked
    only once the coroutine finished and its call resolved, so the same holds."""
    journal = tmp_path / "bot.journal"
    ids = inject(tg)
    total = len(ids)
    rng = random.Random(20261122)
    in_flight_at_kill: list[set[int]] = []
    for _ in range(3):
        bot = Bot(tg, journal, flavour)
        target = min(replies(tg) + rng.randint(400, 1400), total - 500)
        wait_replies(tg, target)
        bot.kill()
        pending = pending_in(journal)
        assert pending, "the kill should have caught work in flight"
        in_flight_at_kill.append(pending)
    bot = Bot(tg, journal, flavour)
    eventually(lambda: distinct_replies(tg) == total, 120, "every update answered",
               interval=0.05)
    out, _ = bot.terminate()
    assert "pending=0" in out

    duplicated: Counter[str] = Counter()
    for chat, texts in answered(tg).items():
        expected = [f"{chat}:{i}" for i in range(MESSAGES)]
        first_seen = list(dict.fromkeys(texts))
        assert first_seen == expected, f"chat {chat}: first answers out of order"
        for text, count in Counter(texts).items():
            if count > 1:
                duplicated[text] = count - 1
    may_repeat = set().union(*in_flight_at_kill)
    repeated_ids = {ids[text] for text in duplicated}
    assert repeated_ids <= may_repeat, sorted(repeated_ids - may_repeat)[:10]
    print(f"\n{total} updates, 3 SIGKILLs; in flight at each kill: "
          f"{[len(p) for p in in_flight_at_kill]}; answered twice: {sum(duplicated.values())}")


def test_graceful_stop_under_load_repeats_nothing(tg: FakeBotApi, tmp_path: Path) -> None:
    journal = tmp_path / "bot.journal"
    inject(tg)
    total = CHATS * MESSAGES
    bot = Bot(tg, journal)
    wait_replies(tg, total // 3)
    out, _ = bot.terminate()  # SIGTERM: stop fetching, drain, flush, confirm, stop
    assert "pending=0 in_flight=0" in out
    assert pending_in(journal) == set()
    stopped_at = replies(tg)
    assert stopped_at < total, "the stop should have come mid-load"
    bot = Bot(tg, journal)
    wait_replies(tg, total)
    bot.terminate()
    for chat, texts in answered(tg).items():
        assert texts == [f"{chat}:{i}" for i in range(MESSAGES)], f"chat {chat}"
    assert replies(tg) == total
