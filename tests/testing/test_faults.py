"""Fault injection: error answers, latency, dropped connections, slow bodies."""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from typing import Any

import pytest
import requests

from actorbot.testing import FakeBotApi, Fault
from actorbot.testing._errors import NGINX_502
from tests.testing.fake_helpers import Api, expect_error


def send(api: Api, chat_id: int = 1, text: str = "x") -> requests.Response:
    return api("sendMessage", chat_id=chat_id, text=text)


def test_status_fault_fires_times_then_stops(tg: FakeBotApi, api: Api) -> None:
    tg.add_fault(Fault(method="sendMessage", status=500, times=2))
    first, second, third = send(api), send(api), send(api)
    expect_error(first, 500, "Internal Server Error")
    expect_error(second, 500, "Internal Server Error")
    assert third.status_code == 200
    assert [c.status for c in tg.calls] == [500, 500, 200]  # faulted calls are recorded
    assert tg.sent_texts(1) == ["x"]  # ...and had no effect
    assert tg.stats["faults_fired"] == 2


def test_method_match_is_case_insensitive_and_none_matches_all(tg: FakeBotApi, api: Api) -> None:
    tg.add_fault(Fault(method="SENDMESSAGE", status=503, times=1))
    assert send(api).status_code == 503
    tg.add_fault(Fault(status=500, times=2))
    assert api("getMe").status_code == 500
    assert send(api).status_code == 500
    assert api("getMe").status_code == 200


def test_chat_filter(tg: FakeBotApi, api: Api) -> None:
    tg.add_fault(Fault(method="sendMessage", chat_id=2, status=500))
    assert send(api, chat_id=1).status_code == 200
    assert send(api, chat_id=2).status_code == 500
    assert send(api, chat_id=2).status_code == 500  # times=None: forever
    tg.clear_faults()
    assert send(api, chat_id=2).status_code == 200


def test_html_502_like_nginx(tg: FakeBotApi, api: Api) -> None:
    tg.add_fault(Fault(status=502, times=1))
    resp = send(api)
    assert resp.status_code == 502
    assert resp.headers["Content-Type"] == "text/html"
    assert resp.text == NGINX_502
    assert tg.calls[0].response == NGINX_502


def test_429_fault_has_retry_after(tg: FakeBotApi, api: Api) -> None:
    tg.add_fault(Fault(status=429, retry_after=7, times=1))
    resp = send(api)
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "7"
    assert resp.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert tg.count_429 == 1


def test_migrate_fault(tg: FakeBotApi, api: Api) -> None:
    tg.add_fault(Fault(status=400, migrate_to_chat_id=-1001, times=1))
    assert send(api, chat_id=-5).json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": -1001},
    }


def test_any_status_and_description(tg: FakeBotApi, api: Api) -> None:
    text = "Forbidden: bot was kicked from the group chat"
    tg.add_fault(Fault(status=403, description=text, times=1))
    expect_error(send(api, chat_id=-5), 403, text)


def test_probability_is_reproducible_with_a_seed(session: requests.Session) -> None:
    def pattern(seed: int) -> list[int]:
        with FakeBotApi(seed=seed) as tg:
            tg.add_fault(Fault(method="getMe", status=500, probability=0.5))
            return [session.get(f"{tg.api_url}/getMe").status_code for _ in range(16)]

    rng = random.Random(3)
    expected = [500 if rng.random() < 0.5 else 200 for _ in range(16)]
    assert pattern(3) == expected
    assert 200 in expected
    assert 500 in expected


def test_fault_latency(tg: FakeBotApi, api: Api) -> None:
    tg.add_fault(Fault(method="sendMessage", latency=0.3, times=1))
    start = time.monotonic()
    assert send(api).status_code == 200
    assert time.monotonic() - start >= 0.3
    tg.add_fault(Fault(method="getMe", latency=(0.1, 0.2), times=1))
    start = time.monotonic()
    assert api("getMe").ok
    assert time.monotonic() - start >= 0.1


def test_global_latency_does_not_serialise_connections(tg: FakeBotApi) -> None:
    tg.latency = 0.5
    assert tg.latency == 0.5
    barrier = threading.Barrier(3)
    elapsed: list[float] = []

    def client() -> None:
        with requests.Session() as s:
            barrier.wait()
            start = time.monotonic()
            assert s.get(f"{tg.api_url}/getMe").ok
            elapsed.append(time.monotonic() - start)

    threads = [threading.Thread(target=client) for _ in range(2)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.monotonic()
    for t in threads:
        t.join()
    total = time.monotonic() - start
    assert len(elapsed) == 2
    assert min(elapsed) >= 0.5
    assert total < 0.95  # serialised requests would take at least 1.0 s


def test_drop_before_closes_without_processing(tg: FakeBotApi, api: Api) -> None:
    tg.add_fault(Fault(method="sendMessage", drop="before", times=1))
    with pytest.raises(requests.ConnectionError):
        send(api)
    assert tg.calls == []  # never reached the bot
    assert tg.transcript(1) == []
    assert tg.stats["dropped_before"] == 1
    assert send(api).status_code == 200  # the client reconnects


def test_drop_after_processes_then_closes(tg: FakeBotApi, api: Api) -> None:
    tg.add_fault(Fault(method="sendMessage", drop="after", times=1))
    with pytest.raises(requests.ConnectionError):
        send(api, text="did it arrive?")
    assert [(c.method, c.status) for c in tg.calls] == [("sendMessage", 200)]
    assert tg.sent_texts(1) == ["did it arrive?"]  # it did: the client cannot know
    assert tg.stats["dropped_after"] == 1


def test_slow_body(tg: FakeBotApi) -> None:
    tg.add_fault(Fault(method="getMe", slow_body=0.4, times=1))
    conn = http.client.HTTPConnection("127.0.0.1", tg.port, timeout=10)
    try:
        start = time.monotonic()
        conn.request("GET", f"/bot{tg.token}/getMe")
        resp = conn.getresponse()
        head_time = time.monotonic() - start
        body = resp.read()
        total = time.monotonic() - start
    finally:
        conn.close()
    assert json.loads(body) == {"ok": True, "result": tg.bot_user}
    assert total >= 0.35
    assert head_time < total


def test_faults_combine(tg: FakeBotApi, api: Api) -> None:
    tg.add_fault(Fault(method="sendMessage", latency=0.2, status=500, times=1))
    start = time.monotonic()
    assert send(api).status_code == 500
    assert time.monotonic() - start >= 0.2


@pytest.mark.parametrize(
    "kwargs",
    [{"drop": "sideways"}, {"probability": 1.5}, {"times": -1}, {"status": 42}],
)
def test_invalid_faults_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        Fault(**kwargs)


def test_close_connections(tg: FakeBotApi, session: requests.Session) -> None:
    assert session.get(f"{tg.api_url}/getMe").ok
    assert tg.close_connections() == 1
    assert session.get(f"{tg.api_url}/getMe").ok  # requests reconnects on a stale socket


def test_raw_body_replaces_the_answer(tg: FakeBotApi, api: Api) -> None:
    tg.add_fault(Fault(method="getMe", raw_body=b"not json at all", times=1))
    resp = api("getMe")
    assert resp.status_code == 200
    assert resp.content == b"not json at all"
    assert tg.calls[0].response == "not json at all"


def test_json_body_with_any_status_and_extra_headers(tg: FakeBotApi, api: Api) -> None:
    body = {"ok": False, "error_code": 429, "description": "Too Many Requests"}
    tg.add_fault(Fault(status=429, body=body, headers={"Retry-After": "4"}, times=1))
    resp = api("sendMessage", chat_id=1, text="x")
    assert resp.status_code == 429
    assert resp.json() == body
    assert resp.headers["Retry-After"] == "4"
    assert tg.transcript(1) == []


def test_headers_alone_decorate_a_normal_answer(tg: FakeBotApi, api: Api) -> None:
    tg.add_fault(Fault(method="getMe", headers={"X-Extra": "yes"}, times=1))
    resp = api("getMe")
    assert resp.json()["ok"] is True
    assert resp.headers["X-Extra"] == "yes"


def test_html_pages_for_other_gateway_errors(tg: FakeBotApi, api: Api) -> None:
    tg.add_fault(Fault(status=504, times=1))
    resp = api("getMe")
    assert resp.status_code == 504
    assert "<h1>504 Gateway Timeout</h1>" in resp.text
    tg.add_fault(Fault(status=500, html=True, times=1))
    assert "<h1>500 Internal Server Error</h1>" in api("getMe").text


def test_body_and_raw_body_exclude_each_other() -> None:
    with pytest.raises(ValueError, match="not both"):
        Fault(body={}, raw_body=b"")
