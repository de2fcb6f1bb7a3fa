"""The Python control API: lifecycle, injection helpers, records and waiting."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from actorbot.testing import FakeBotApi, RecordedCall
from tests.testing.fake_helpers import Api


def test_lifecycle_joins_every_thread() -> None:
    before = set(threading.enumerate())
    tg = FakeBotApi()
    tg.start()
    with requests.Session() as s:
        for _ in range(3):  # several connections, one of them left open
            assert requests.get(f"{tg.api_url}/getMe", timeout=5).ok
        assert s.get(f"{tg.api_url}/getMe", timeout=5).ok
        assert len(set(threading.enumerate()) - before) >= 2
        tg.stop()
    assert set(threading.enumerate()) - before == set()
    with pytest.raises(RuntimeError):
        _ = tg.base_url


def test_a_server_starts_once() -> None:
    tg = FakeBotApi()
    with tg, pytest.raises(RuntimeError):
        tg.start()


def test_invalid_token_is_refused_up_front() -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        FakeBotApi(token="no-colon")


def test_repr_hides_the_token(tg: FakeBotApi) -> None:
    assert "TEST-token" not in repr(tg)
    assert "123456" in repr(tg)


def test_two_servers_get_different_ports() -> None:
    with FakeBotApi() as a, FakeBotApi(token="777:other") as b:
        assert a.port != b.port
        assert b.bot_id == 777
        assert requests.get(f"{b.api_url}/getMe", timeout=5).json()["result"]["id"] == 777


def test_calls_are_snapshots(tg: FakeBotApi, api: Api) -> None:
    api("getMe")
    snapshot = tg.calls
    api("getMe")
    assert len(snapshot) == 1
    assert len(tg.calls) == 2
    call = snapshot[0]
    assert isinstance(call, RecordedCall)
    assert call.method == "getMe"
    assert call.status == 200
    assert call.response == {"ok": True, "result": tg.bot_user}
    assert call.files == {}
    assert call.time <= time.monotonic()


def test_calls_to_and_reset(tg: FakeBotApi, api: Api) -> None:
    api("getMe")
    api("sendMessage", chat_id=1, text="a")
    api("sendMessage", chat_id=1, text="b")
    assert [c.params["text"] for c in tg.calls_to("sendmessage")] == ["a", "b"]
    tg.reset_calls()
    assert tg.calls == []
    assert tg.calls_to("sendMessage") == []
    assert tg.sent_texts(1) == ["a", "b"]  # chat state is not a record


def test_sent_texts_only_bot_messages_with_captions(tg: FakeBotApi, api: Api) -> None:
    tg.inject_message(1, "from user")
    api("sendMessage", chat_id=1, text="reply")
    api("sendPhoto", chat_id=1, photo=tg.add_file(b"p", kind="photo"), caption="cap")
    api("sendLocation", chat_id=1, latitude=1.0, longitude=2.0)
    assert tg.sent_texts(1) == ["reply", "cap"]
    assert [m.get("text", m.get("caption")) for m in tg.transcript(1)] == [
        "from user",
        "reply",
        "cap",
        None,
    ]


def test_wait_for_returns_when_the_predicate_holds(tg: FakeBotApi) -> None:
    def later() -> None:
        with requests.Session() as s:
            s.post(f"{tg.api_url}/sendMessage", json={"chat_id": 3, "text": "done"})

    worker = threading.Thread(target=later)
    worker.start()
    assert tg.wait_for(lambda: tg.sent_texts(3) == ["done"], timeout=10)
    worker.join()
    assert tg.wait_for(lambda: False, timeout=0.05) is False


def test_wait_for_wakes_on_injected_updates(tg: FakeBotApi) -> None:
    worker = threading.Thread(target=tg.inject_message, args=(1, "x"))
    worker.start()
    assert tg.wait_for(lambda: tg.pending_update_count == 1, timeout=10)
    worker.join()


def test_wait_for_calls(tg: FakeBotApi) -> None:
    def later() -> None:
        with requests.Session() as s:
            for i in range(3):
                s.post(f"{tg.api_url}/sendMessage", json={"chat_id": 3, "text": str(i)})

    worker = threading.Thread(target=later)
    worker.start()
    calls = tg.wait_for_calls("SendMessage", 3, timeout=10)
    worker.join()
    assert [c.params["text"] for c in calls] == ["0", "1", "2"]


def test_wait_for_calls_times_out_with_a_clear_message(tg: FakeBotApi, api: Api) -> None:
    api("getMe")
    with pytest.raises(TimeoutError, match=r"2 call\(s\) to sendMessage .* got 0.*getMe"):
        tg.wait_for_calls("sendMessage", 2, timeout=0.05)


def test_add_file_and_content(tg: FakeBotApi, api: Api, session: requests.Session) -> None:
    file_id = tg.add_file(b"hello", "hello.txt")
    got = api("getFile", file_id=file_id).json()["result"]
    assert got["file_size"] == 5
    assert got["file_path"].endswith(".txt")
    assert session.get(tg.file_url(got["file_path"])).content == b"hello"


def test_errors_stay_empty_in_normal_use(tg: FakeBotApi, api: Api) -> None:
    api("sendMessage", chat_id=1, text="x")
    assert tg.errors == []


def test_add_chat_rejects_unknown_types(tg: FakeBotApi) -> None:
    with pytest.raises(ValueError, match="chat type"):
        tg.add_chat(5, "planet")


def test_record_calls_off_keeps_only_counters(session: requests.Session) -> None:
    with FakeBotApi(record_calls=False) as tg:
        for _ in range(3):
            assert session.get(f"{tg.api_url}/getMe").ok
        assert tg.calls == []
        assert tg.calls_to("getMe") == []
        assert tg.stats["calls"] == 3
        assert tg.stats["status_200"] == 3
