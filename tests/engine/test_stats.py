"""The stats table: one definition behind engine.stats(), the log event and the docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from actorbot import ChatHandler, Route, per_chat_id
from actorbot.engine import STATS, Stat
from actorbot.engine._stats import Parts, read_stats
from actorbot.errors import ConfigError
from actorbot.intake import PollerStats
from actorbot.journal import JournalStats
from actorbot.monitoring._metrics import metric_name
from actorbot.routing import RouterStats
from actorbot.runtime import InFlight
from actorbot.sending import SenderStats
from actorbot.testing import FakeBotApi
from tests.helpers import make_engine

MONITORING_DOC = Path(__file__).parents[2] / "docs" / "monitoring.md"

KEYS = [
    "status", "handlers_alive", "handlers_by_class", "spawned", "passivated", "closed",
    "failed", "in_flight", "passivating", "buffered", "buffered_total", "routed", "skipped",
    "malformed", "dropped", "banned", "handled", "coroutines_running", "hook_failures",
    "sender_queue",
    "sender_in_flight", "sender_calls", "sender_failed", "sender_failed_by_error",
    "sender_retries", "sender_rate_limited", "sender_bucket_wait_s", "polls", "fetched",
    "poll_errors", "poll_rate_limited", "poll_unreadable", "poll_below_offset",
    "poll_journal_failures", "update_lag_s", "journal_pending", "duplicates", "replayed",
    "dead_letters",
]


def test_engine_stats_has_exactly_the_keys_operators_rely_on(tg: FakeBotApi) -> None:
    engine = make_engine(tg, [Route(per_chat_id(), ChatHandler)])
    assert list(engine.stats()) == KEYS == [stat.name for stat in STATS]


def test_the_stats_event_logs_what_stats_returns(tg: FakeBotApi) -> None:
    engine = make_engine(tg, [Route(per_chat_id(), ChatHandler)])
    with capture_logs() as logs:
        engine._emit_stats()  # the timer's callback; a stopped engine does not re-arm it
    [event] = [e for e in logs if e["event"] == "engine.stats"]
    assert {k: v for k, v in event.items() if k not in ("event", "log_level")} == engine.stats()


def test_each_figure_is_read_from_its_part() -> None:
    tracker = InFlight()
    tracker.admit(3)
    tracker.begin(1, 0)  # one finished at once, two in flight
    parts = Parts(
        status="connected",
        router=RouterStats(alive=2, alive_by_class={"Echo": 2}, spawned=5, buffered_total=7,
                           routed=9, banned=1, last_update_date=100),
        sender=SenderStats(queued=4, calls=8, rate_limited=2, bucket_wait_s=1.23456,
                           failed=3, failed_by_error={"ServerError": 2, "ConnectionLost": 1}),
        poller=PollerStats(polls=6, fetched=10, errors=3, rate_limited=1, unreadable=2,
                           below_offset=4, journal_failures=1),
        tracker=tracker,
        journal=JournalStats(pending=2, duplicates=5, replayed=4, dead_letters=1),
        now=112.5,
    )
    stats = read_stats(parts)
    assert {k: v for k, v in stats.items() if v not in (0, {})} == {
        "status": "connected", "handlers_alive": 2, "handlers_by_class": {"Echo": 2},
        "spawned": 5, "buffered_total": 7, "routed": 9, "banned": 1, "in_flight": 2,
        "handled": 1, "sender_queue": 4, "sender_calls": 8, "sender_rate_limited": 2,
        "sender_bucket_wait_s": 1.235, "polls": 6, "fetched": 10, "poll_errors": 3,
        "sender_failed": 3, "sender_failed_by_error": {"ServerError": 2, "ConnectionLost": 1},
        "poll_rate_limited": 1, "poll_unreadable": 2, "poll_below_offset": 4,
        "poll_journal_failures": 1, "update_lag_s": 12.5, "journal_pending": 2,
        "duplicates": 5, "replayed": 4, "dead_letters": 1,
    }
    assert stats["handlers_by_class"] is not parts.router.alive_by_class  # a copy


def test_the_update_lag_is_none_before_any_dated_update_and_never_negative() -> None:
    def lag(date: int | None, now: float) -> object:
        parts = Parts("stopped", RouterStats(last_update_date=date), SenderStats(),
                      PollerStats(), InFlight(), JournalStats(), now)
        return read_stats(parts)["update_lag_s"]

    assert lag(None, 100.0) is None
    assert lag(105, 100.0) == 0.0  # Telegram's clock ahead of ours


def test_the_table_is_well_formed() -> None:
    names = [stat.name for stat in STATS]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in names)  # metric-safe
    assert all(stat.help.endswith(".") for stat in STATS)
    assert {(s.name, s.label) for s in STATS if s.label is not None} == {
        ("status", "status"), ("handlers_by_class", "handler"),
        ("sender_failed_by_error", "error")}
    assert {s.name for s in STATS if s.kind == "gauge"} == {
        "handlers_alive", "in_flight", "passivating", "buffered", "coroutines_running",
        "sender_queue",
        "sender_in_flight", "update_lag_s", "journal_pending", "dead_letters"}


def test_a_stat_without_a_valid_kind_or_label_is_refused() -> None:
    with pytest.raises(ConfigError, match="kind must be one of"):
        Stat("x", "histogram", "X.", lambda p: 0)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="an info figure needs a label"):
        Stat("x", "info", "X.", lambda p: "")
    with pytest.raises(ConfigError, match="a gauge has no label"):
        Stat("x", "gauge", "X.", lambda p: 0, label="x")


def documented_figures() -> dict[str, tuple[str, str]]:
    """``docs/monitoring.md``'s table of figures: key -> (kind, metric)."""
    text = MONITORING_DOC.read_text(encoding="utf-8")
    section = text.split("\n### The numbers\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| `([\w{}]+)` \|", section, re.MULTILINE)
    assert len(rows) == len({key for key, _, _ in rows}), "a figure documented twice"
    return {key: (kind, metric) for key, kind, metric in rows}


def test_every_figure_is_documented_and_every_documented_figure_exists() -> None:
    expected = {
        stat.name: (stat.kind, metric_name(stat) + (f"{{{stat.label}}}" if stat.label else ""))
        for stat in STATS
    }
    assert documented_figures() == expected
