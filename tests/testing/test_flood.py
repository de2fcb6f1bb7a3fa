"""Flood control with a manual clock: exact 429 counts and retry_after values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from actorbot.testing import FakeBotApi, FloodLimits
from actorbot.testing._flood import is_charged
from tests.testing.fake_helpers import ManualClock


@pytest.fixture
def limited(clock: ManualClock) -> Iterator[FakeBotApi]:
    with FakeBotApi(flood_control=True, clock=clock) as server:
        yield server


def post(s: requests.Session, tg: FakeBotApi, method: str, **params: Any) -> requests.Response:
    return s.post(f"{tg.api_url}/{method}", json=params, timeout=10)


def statuses(s: requests.Session, tg: FakeBotApi, n: int, chat_id: int) -> list[int]:
    return [post(s, tg, "sendMessage", chat_id=chat_id, text="x").status_code for _ in range(n)]


def test_429_body_and_header(limited: FakeBotApi, session: requests.Session) -> None:
    assert statuses(session, limited, 3, 1) == [200, 200, 200]
    resp = post(session, limited, "sendMessage", chat_id=1, text="x")
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "1"
    assert resp.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert limited.count_429 == 1
    assert limited.stats["flood_429"] == 1
    assert len(limited.transcript(1)) == 3  # the refused call had no effect


def test_private_chat_refills_one_per_second(
    limited: FakeBotApi, session: requests.Session, clock: ManualClock
) -> None:
    assert statuses(session, limited, 5, 1) == [200, 200, 200, 429, 429]
    clock.advance(0.5)
    assert statuses(session, limited, 1, 1) == [429]
    clock.advance(0.5)
    assert statuses(session, limited, 2, 1) == [200, 429]  # refusals consumed nothing
    clock.advance(2.0)
    assert statuses(session, limited, 3, 1) == [200, 200, 429]
    assert limited.count_429 == 5


def test_chats_have_separate_buckets(limited: FakeBotApi, session: requests.Session) -> None:
    assert statuses(session, limited, 4, 1) == [200, 200, 200, 429]
    assert statuses(session, limited, 3, 2) == [200, 200, 200]


def test_group_limit_is_20_in_any_minute(
    limited: FakeBotApi, session: requests.Session, clock: ManualClock
) -> None:
    assert statuses(session, limited, 10, -5) == [200] * 10
    clock.advance(30)
    assert statuses(session, limited, 11, -5) == [200] * 10 + [429]
    assert post(session, limited, "sendMessage", chat_id=-5, text="x").json()["parameters"] == {
        "retry_after": 30}  # the first ten leave the window 60 s after they entered it
    clock.advance(29.9)
    assert statuses(session, limited, 1, -5) == [429]
    clock.advance(0.1)
    assert statuses(session, limited, 11, -5) == [200] * 10 + [429]


def test_global_limit_is_30_in_any_second_from_a_cold_start(
    limited: FakeBotApi, session: requests.Session, clock: ManualClock
) -> None:
    assert [post(session, limited, "sendMessage", chat_id=c, text="x").status_code
            for c in range(1, 32)] == [200] * 30 + [429]
    clock.advance(0.999)  # a bucket would have let 29 more through by now
    assert statuses(session, limited, 1, 99) == [429]
    clock.advance(0.001)
    assert [post(session, limited, "sendMessage", chat_id=c, text="x").status_code
            for c in range(100, 131)] == [200] * 30 + [429]


def test_paid_broadcasts_have_their_own_lane(
    limited: FakeBotApi, session: requests.Session
) -> None:
    def paid(c: int) -> int:
        return post(session, limited, "sendMessage", chat_id=c, text="x",
                    allow_paid_broadcast=True).status_code
    assert [paid(c) for c in range(1, 41)] == [200] * 40
    assert [post(session, limited, "sendMessage", chat_id=c, text="x").status_code
            for c in range(41, 72)] == [200] * 30 + [429]


@pytest.fixture
def buckets(clock: ManualClock) -> Iterator[FakeBotApi]:
    with FakeBotApi(flood_control=True, clock=clock,
                    flood_limits=FloodLimits(sliding=False)) as server:
        yield server


def test_bucket_mode_group_limit_is_20_per_minute(
    buckets: FakeBotApi, session: requests.Session, clock: ManualClock
) -> None:
    limited = buckets
    assert statuses(session, limited, 21, -5) == [200] * 20 + [429]
    resp = post(session, limited, "sendMessage", chat_id=-5, text="x")
    assert resp.json()["parameters"] == {"retry_after": 3}
    clock.advance(2.9)
    assert statuses(session, limited, 1, -5) == [429]
    clock.advance(0.1)
    assert statuses(session, limited, 2, -5) == [200, 429]


def test_bucket_mode_global_limit_is_30_per_second(
    buckets: FakeBotApi, session: requests.Session, clock: ManualClock
) -> None:
    limited = buckets
    results = [post(session, limited, "sendMessage", chat_id=c, text="x") for c in range(1, 32)]
    assert [r.status_code for r in results] == [200] * 30 + [429]
    assert results[-1].json()["parameters"] == {"retry_after": 1}
    clock.advance(1 / 30)
    assert statuses(session, limited, 1, 99) == [200]


def test_retry_after_is_rounded_up(clock: ManualClock, session: requests.Session) -> None:
    limits = FloodLimits(private_per_s=0.4, private_burst=1)
    with FakeBotApi(flood_control=True, flood_limits=limits, clock=clock) as tg:
        assert statuses(session, tg, 1, 1) == [200]
        resp = post(session, tg, "sendMessage", chat_id=1, text="x")
        assert resp.json()["parameters"] == {"retry_after": 3}  # 2.5 s -> 3
        clock.advance(2.4)
        assert post(session, tg, "sendMessage", chat_id=1, text="x").headers["Retry-After"] == "1"


def test_free_methods_are_not_limited(limited: FakeBotApi, session: requests.Session) -> None:
    mid = post(session, limited, "sendMessage", chat_id=1, text="0").json()["result"]["message_id"]
    for i in range(10):
        assert post(session, limited, "sendChatAction", chat_id=1, action="typing").ok
        edit = post(session, limited, "editMessageText", chat_id=1, message_id=mid, text=str(i + 1))
        assert edit.ok
        assert post(session, limited, "getMe").ok
    assert limited.count_429 == 0


def test_media_group_is_charged_once(limited: FakeBotApi, session: requests.Session) -> None:
    media = [{"type": "photo", "media": limited.add_file(b"x", kind="photo")} for _ in range(3)]
    for _ in range(3):
        assert post(session, limited, "sendMediaGroup", chat_id=1, media=media).ok
    assert post(session, limited, "sendMediaGroup", chat_id=1, media=media).status_code == 429


def test_failed_calls_consume_nothing(limited: FakeBotApi, session: requests.Session) -> None:
    for _ in range(5):
        assert post(session, limited, "sendMessage", chat_id=1, text="").status_code == 400
    assert statuses(session, limited, 3, 1) == [200, 200, 200]


def test_flood_control_can_be_switched_at_runtime(
    tg: FakeBotApi, session: requests.Session
) -> None:
    assert statuses(session, tg, 10, 1) == [200] * 10
    tg.flood_control = True
    assert tg.flood_control is True
    assert 429 in statuses(session, tg, 4, 2)
    tg.flood_control = False
    assert statuses(session, tg, 3, 2) == [200] * 3


def test_flood_limits_can_be_replaced(limited: FakeBotApi, session: requests.Session) -> None:
    limited.flood_limits = FloodLimits(private_burst=1)
    assert statuses(session, limited, 2, 1) == [200, 429]
    assert limited.flood_limits.private_burst == 1


@pytest.mark.parametrize(
    ("method", "charged"),
    [
        ("sendMessage", True),
        ("sendPhoto", True),
        ("sendMediaGroup", True),
        ("forwardMessage", True),
        ("forwardMessages", True),
        ("copyMessage", True),
        ("copyMessages", True),
        ("sendChatAction", False),
        ("editMessageText", False),
        ("answerCallbackQuery", False),
        ("getUpdates", False),
    ],
)
def test_which_methods_are_charged(method: str, charged: bool) -> None:
    assert is_charged(method) is charged
