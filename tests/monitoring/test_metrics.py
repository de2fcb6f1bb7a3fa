"""Prometheus metrics: what a scrape shows is what engine.stats() says."""

from __future__ import annotations

import socket
import sys
import threading
from typing import Any, cast

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from actorbot import ChatHandler, Engine, Route, per_chat_id
from actorbot.monitoring._metrics import EngineCollector, MetricsServer, serve_metrics
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
    assert got["actorbot_handlers_alive", (("handler", "Echo"),)] == 2
    assert got["actorbot_handlers_spawned_total", ()] == stats["spawned"] == 2
    assert got["actorbot_handlers_passivated_total", ()] == stats["passivated"] == 0
    assert got["actorbot_handlers_failed_total", ()] == 0
    assert got["actorbot_updates_handled_total", ()] == 3
    assert got["actorbot_updates_in_flight", ()] == stats["in_flight"] == 0
    assert got["actorbot_sender_queue_depth", ()] == stats["sender_queue"] == 0
    assert got["actorbot_rate_limited_total", (("component", "sender"),)] == 0
    assert got["actorbot_rate_limited_total", (("component", "poller"),)] == 0
    assert got["actorbot_engine_status", (("status", stats["status"]),)] == 1
    assert got["actorbot_update_lag_seconds", ()] >= 0
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


def test_counters_gauges_and_stats_keys_it_does_not_know() -> None:
    got = collect({
        "status": "stopped", "handlers_alive": 3, "handlers_by_class": {"A": 1, "B": 2},
        "spawned": 7, "sender_rate_limited": 4, "poll_rate_limited": 1,
        "update_lag_s": None, "journal_pending": 5, "odd-name": 1.5, "label": "text",
        "flag": True, "duplicates": 2, "hook_failures": 1,
    })
    assert got["bot_handlers_alive"] == ("gauge", [({"handler": "A"}, 1), ({"handler": "B"}, 2)])
    assert got["bot_handlers_spawned"] == ("counter", [({}, 7)])
    assert got["bot_rate_limited"][1] == [({"component": "sender"}, 4),
                                          ({"component": "poller"}, 1)]
    assert got["bot_engine_status"] == ("gauge", [({"status": "stopped"}, 1)])
    assert got["bot_journal_pending"] == ("gauge", [({}, 5)])
    assert got["bot_updates_duplicate"] == ("counter", [({}, 2)])
    assert got["bot_hook_failures"] == ("counter", [({}, 1)])
    assert got["bot_odd_name"] == ("gauge", [({}, 1.5)])  # newer engine parts show up
    for absent in ("bot_update_lag_seconds", "bot_label", "bot_flag", "bot_status"):
        assert absent not in got


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
        assert scrape(server.url)["actorbot_updates_handled_total", ()] == 3
        stopper = threading.Thread(target=server.stop, args=(2.0,), name="test-stopper",
                                   daemon=True)
        stopper.start()
        stopper.join(10)  # before the fix: stop() waited for the silent client forever
        assert not stopper.is_alive()
    finally:
        silent.close()
