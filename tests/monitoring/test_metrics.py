"""Prometheus metrics: what a scrape shows is what engine.stats() says."""

from __future__ import annotations

import socket
import sys
import threading
from typing import Any, cast

import pytest
import requests
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from actorbot import ChatHandler, Engine, Route, per_chat_id
from actorbot.engine import STATS
from actorbot.monitoring._metrics import EngineCollector, MetricsServer, metric_name, serve_metrics
from actorbot.testing import FakeBotApi
from tests.helpers import eventually, make_engine


class Echo(ChatHandler):
    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message(msg.get("text", ""))


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(url, timeout=5).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_a_scrape_reports_the_engine_stats(tg: FakeBotApi, no_thread_left: None) -> None:
    engine = make_engine(tg, [Route(per_chat_id(), Echo, idle_timeout=None)])
    with engine, serve_metrics(engine, 0) as server:
        for chat in (1, 2, 1):
            tg.inject_message(chat, "hi")
        tg.wait_for_calls("sendMessage", 3, timeout=10)
        eventually(lambda: engine.stats()["handled"] == 3, what="3 updates handled")
        got, stats = scrape(server.url), engine.stats()
    assert got["actorbot_handlers_by_class", (("handler", "Echo"),)] == 2
    assert got["actorbot_handlers_alive", ()] == stats["handlers_alive"] == 2
    assert got["actorbot_spawned_total", ()] == stats["spawned"] == 2
    assert got["actorbot_passivated_total", ()] == stats["passivated"] == 0
    assert got["actorbot_failed_total", ()] == 0
    assert got["actorbot_handled_total", ()] == 3
    assert got["actorbot_routed_total", ()] == stats["routed"] == 3
    assert got["actorbot_in_flight", ()] == stats["in_flight"] == 0
    assert got["actorbot_sender_queue", ()] == stats["sender_queue"] == 0
    assert got["actorbot_sender_rate_limited_total", ()] == 0
    assert got["actorbot_poll_rate_limited_total", ()] == 0
    assert got["actorbot_status", (("status", stats["status"]),)] == 1
    assert got["actorbot_update_lag_seconds", ()] >= 0
    exported = {name.removesuffix("_created") for name, _ in got}
    no_samples = {metric_name(s) for s in STATS if s.kind == "counter" and s.label is not None
                  and not stats[s.name]}  # counts by name, none counted yet
    assert no_samples == {"actorbot_sender_failed_by_error_total"}
    assert {metric_name(stat) for stat in STATS} - no_samples <= exported  # lag included
    assert any(name.startswith("process_") for name, _ in got)  # memory, CPU, open files
    assert server.port > 0
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url, timeout=5)  # stopped: the port is closed


class StubEngine:
    def __init__(self, stats: dict[str, Any]) -> None:
        self._stats = stats

    def stats(self) -> dict[str, Any]:
        return self._stats


def collect(stats: dict[str, Any]) -> dict[str, tuple[str, list[tuple[dict[str, str], float]]]]:
    collector = EngineCollector(cast(Engine, StubEngine(stats)), prefix="bot")
    return {m.name: (m.type, [(s.labels, s.value) for s in m.samples])
            for m in collector.collect()}


def test_kinds_labels_and_figures_without_a_value() -> None:
    got = collect({
        "status": "stopped", "handlers_alive": 3, "handlers_by_class": {"B": 2, "A": 1},
        "spawned": 7, "buffered": 1, "buffered_total": 4, "sender_bucket_wait_s": 0.5,
        "update_lag_s": None, "journal_pending": 5, "not_a_figure": 9,
        "sender_failed_by_error": {"ServerError": 2, "ConnectionLost": 1},
    })
    assert got == {
        "bot_status": ("gauge", [({"status": "stopped"}, 1)]),
        "bot_handlers_alive": ("gauge", [({}, 3)]),
        "bot_handlers_by_class": ("gauge", [({"handler": "A"}, 1), ({"handler": "B"}, 2)]),
        "bot_spawned": ("counter", [({}, 7)]),  # exposed as bot_spawned_total
        "bot_buffered": ("gauge", [({}, 1)]),
        "bot_buffered_total": ("counter", [({}, 4)]),  # its own family, not the gauge's
        "bot_sender_bucket_wait_seconds": ("counter", [({}, 0.5)]),
        "bot_journal_pending": ("gauge", [({}, 5)]),
        "bot_sender_failed_by_error": ("counter", [({"error": "ConnectionLost"}, 1),
                                                   ({"error": "ServerError"}, 2)]),
    }  # no lag yet, and only the table's figures


def test_metric_names_follow_the_stats_keys() -> None:
    by_name = {stat.name: stat for stat in STATS}
    assert [metric_name(by_name[key], "bot") for key in (
        "spawned", "buffered", "buffered_total", "sender_bucket_wait_s", "update_lag_s",
        "handlers_by_class",
    )] == ["bot_spawned_total", "bot_buffered", "bot_buffered_total_total",
           "bot_sender_bucket_wait_seconds_total", "bot_update_lag_seconds",
           "bot_handlers_by_class"]


def test_describe_names_every_family_once_so_a_registry_refuses_a_clash() -> None:
    collector = EngineCollector(cast(Engine, StubEngine({})))
    families = [(m.name, m.type) for m in collector.describe()]
    assert len(families) == len(STATS) == len({name for name, _ in families})
    registry = CollectorRegistry()
    registry.register(cast(Any, collector))
    registry.register(cast(Any, EngineCollector(cast(Engine, StubEngine({})), prefix="other")))
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        registry.register(cast(Any, EngineCollector(cast(Engine, StubEngine({})))))


def test_without_prometheus_client_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # import now fails
    monkeypatch.setitem(sys.modules, "prometheus_client.core", None)
    with pytest.raises(ImportError, match=r"pip install 'actorbot\[metrics\]'"):
        MetricsServer(cast(Engine, StubEngine({})))
    with pytest.raises(ImportError, match=r"actorbot\[metrics\]"):
        EngineCollector(cast(Engine, StubEngine({})))


def test_a_silent_client_blocks_neither_scrapes_nor_stop(no_thread_left: None) -> None:
    server = MetricsServer(cast(Engine, StubEngine({"handled": 3}))).start()
    silent = socket.create_connection(("127.0.0.1", server.port))  # connects, sends nothing
    try:
        assert scrape(server.url)["actorbot_handled_total", ()] == 3
        stopper = threading.Thread(target=server.stop, args=(2.0,), name="test-stopper",
                                   daemon=True)
        stopper.start()
        stopper.join(10)  # before the fix: stop() waited for the silent client forever
        assert not stopper.is_alive()
    finally:
        silent.close()
