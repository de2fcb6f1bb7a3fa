"""getUpdates semantics: offsets, limits, long polling, allowed_updates, conflicts."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests

from actorbot.testing import FakeBotApi
from actorbot.testing._state import BotState, RawResult
from tests.testing.fake_helpers import Api, expect_error


def updates(api: Api, **params: Any) -> list[Any]:
    body = api("getUpdates", **params).json()
    assert body["ok"] is True, body
    result: list[Any] = body["result"]
    return result


def ids(items: list[Any]) -> list[int]:
    return [u["update_id"] for u in items]


class Poller:
    """getUpdates on its own connection and thread, so the test can act meanwhile."""

    def __init__(self, tg: FakeBotApi, **params: Any) -> None:
        self.response: requests.Response | None = None
        self.elapsed = -1.0
        self.done = threading.Event()
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, args=(tg.api_url, params))

    def _run(self, url: str, params: dict[str, Any]) -> None:
        start = time.monotonic()
        try:
            self.response = self._session.post(f"{url}/getUpdates", json=params, timeout=60)
        finally:
            self.elapsed = time.monotonic() - start
            self.done.set()

    def start(self, tg: FakeBotApi, *, wait: bool = True) -> Poller:
        self._thread.start()
        if wait:
            assert tg.wait_for(lambda: tg.long_poll_pending, 5), "long poll never pending"
        return self

    def join(self, timeout: float = 5.0) -> requests.Response:
        assert self.done.wait(timeout), "getUpdates did not return"
        self._thread.join()
        self._session.close()
        assert self.response is not None
        return self.response


def test_update_ids_start_at_first_update_id_and_increase() -> None:
    with FakeBotApi(first_update_id=500) as tg, requests.Session() as s:
        seqs = [tg.inject_update({"message": {"text": str(i)}}) for i in range(3)]
        assert seqs == [500, 501, 502]
        got = s.get(f"{tg.api_url}/getUpdates").json()["result"]
        assert got == [{"update_id": 500 + i, "message": {"text": str(i)}} for i in range(3)]


def test_unconfirmed_updates_are_returned_again(tg: FakeBotApi, api: Api) -> None:
    tg.inject_updates([{"message": {}}, {"message": {}}])
    assert ids(updates(api)) == ids(updates(api))
    assert tg.pending_update_count == 2


def test_offset_confirms_earlier_updates(tg: FakeBotApi, api: Api) -> None:
    first, second, third = tg.inject_updates([{"message": {"n": i}} for i in range(3)])
    assert ids(updates(api, offset=second)) == [second, third]
    assert tg.confirmed_offset == second
    assert ids(updates(api)) == [second, third]  # first is forgotten for good
    assert ids(updates(api, offset=third + 1)) == []
    assert tg.pending_update_count == 0
    assert tg.confirmed_offset == third + 1
    assert first < second


def test_offset_beyond_the_queue_does_not_swallow_future_updates(tg: FakeBotApi, api: Api) -> None:
    (only,) = tg.inject_updates([{"message": {}}])
    assert updates(api, offset=only + 1000) == []
    assert tg.confirmed_offset == only + 1  # capped at the next id
    (later,) = tg.inject_updates([{"message": {}}])
    assert ids(updates(api)) == [later]


def test_negative_offset_returns_last_n_and_forgets_the_rest(tg: FakeBotApi, api: Api) -> None:
    seqs = tg.inject_updates([{"message": {"n": i}} for i in range(5)])
    assert ids(updates(api, offset=-2)) == seqs[3:]
    assert tg.pending_update_count == 2
    assert ids(updates(api)) == seqs[3:]


@pytest.mark.parametrize(("limit", "expected"), [(None, 100), (0, 1), (-5, 1), (3, 3), (500, 100)])
def test_limit_is_clamped_to_1_100(
    tg: FakeBotApi, api: Api, limit: int | None, expected: int
) -> None:
    tg.inject_updates([{"message": {}} for _ in range(150)])
    params = {} if limit is None else {"limit": limit}
    assert len(updates(api, **params)) == expected


def test_long_poll_returns_as_soon_as_an_update_arrives(tg: FakeBotApi) -> None:
    poller = Poller(tg, timeout=30).start(tg)
    injected = tg.inject_message(7, "wake up")
    resp = poller.join(timeout=5)
    assert resp.json() == {"ok": True, "result": [injected]}
    assert poller.elapsed < 5  # the poll asked for 30 s: the injection ended it


def test_long_poll_times_out_with_empty_result(tg: FakeBotApi, api: Api) -> None:
    start = time.monotonic()
    assert updates(api, timeout=1) == []
    assert time.monotonic() - start >= 0.9


@pytest.mark.parametrize(("given", "used"), [(10_000, 50), (50, 50), (-3, 0), ("x", 0)])
def test_timeout_is_clamped_to_0_50(
    tg: FakeBotApi, api: Api, monkeypatch: pytest.MonkeyPatch, given: Any, used: int
) -> None:
    seen: list[float] = []

    def spy(self: BotState, offset: int, limit: int, timeout: float, allowed: Any) -> RawResult:
        seen.append(timeout)
        result = RawResult(b"[]")
        result.decoded = []
        return result

    monkeypatch.setattr(BotState, "get_updates", spy)
    api("getUpdates", timeout=given)
    assert seen == [used]


def test_stop_wakes_a_pending_long_poll() -> None:
    tg = FakeBotApi().start()
    poller = Poller(tg, timeout=30).start(tg)
    tg.stop()
    assert poller.done.wait(5)
    poller.join()


def test_default_allowed_updates_exclude_opt_in_types(tg: FakeBotApi, api: Api) -> None:
    tg.inject_updates(
        [
            {"message": {}},
            {"chat_member": {}},
            {"message_reaction": {}},
            {"message_reaction_count": {}},
            {"callback_query": {}},
            {"some_future_type": {}},
        ]
    )
    kinds = [next(k for k in u if k != "update_id") for u in updates(api)]
    assert kinds == ["message", "callback_query", "some_future_type"]
    assert tg.pending_update_count == 3  # the others were dropped when met
    assert tg.stats["updates_filtered"] == 3


def test_allowed_updates_filter_and_persist(tg: FakeBotApi, api: Api) -> None:
    tg.inject_updates([{"message": {}}, {"chat_member": {}}, {"edited_message": {}}])
    got = updates(api, allowed_updates=["chat_member"])
    assert [list(u)[1] for u in got] == ["chat_member"]
    tg.inject_updates([{"message": {}}, {"chat_member": {"n": 2}}])
    got = updates(api, offset=got[0]["update_id"] + 1)  # no allowed_updates: setting kept
    assert [u.get("chat_member") for u in got] == [{"n": 2}]


def test_empty_allowed_updates_restores_the_default(tg: FakeBotApi, api: Api) -> None:
    updates(api, allowed_updates=["callback_query"])
    tg.inject_updates([{"message": {}}, {"chat_member": {}}])
    got = updates(api, allowed_updates=[])
    assert [list(u)[1] for u in got] == ["message"]


def test_allowed_updates_as_form_string(tg: FakeBotApi, session: requests.Session) -> None:
    tg.inject_updates([{"message": {}}, {"poll": {}}])
    resp = session.post(f"{tg.api_url}/getUpdates", data={"allowed_updates": '["poll"]'})
    assert [list(u)[1] for u in resp.json()["result"]] == ["poll"]


def test_raw_garbage_is_delivered_in_place(tg: FakeBotApi, api: Api) -> None:
    raws: list[Any] = [
        "a string",
        42,
        None,
        [1, 2],
        {"update_id": "not-a-number", "message": "oops"},
        {},
    ]
    seqs = tg.inject_updates(raws)
    got = updates(api)
    assert got[:4] == raws[:4]
    assert got[4] == {"update_id": seqs[4], "message": "oops"}
    assert got[5] == {"update_id": seqs[5]}
    # the server's own sequence still drives offsets
    assert updates(api, offset=seqs[3]) == got[3:]


def test_keep_update_id(tg: FakeBotApi, api: Api) -> None:
    raw = {"update_id": 7, "message": {"text": "x"}}
    seq = tg.inject_update(raw, keep_update_id=True)
    assert updates(api) == [raw]
    assert updates(api, offset=seq + 1) == []


def test_getupdates_while_webhook_is_set_is_409(tg: FakeBotApi, api: Api) -> None:
    assert api("setWebhook", url="https://example.org/hook").json()["ok"] is True
    expect_error(
        api("getUpdates"),
        409,
        "Conflict: can't use getUpdates method while webhook is active;"
        " use deleteWebhook to delete the webhook first",
    )
    api("deleteWebhook")
    assert updates(api) == []


def test_second_getupdates_terminates_the_older_one(tg: FakeBotApi, api: Api) -> None:
    older = Poller(tg, timeout=30).start(tg)
    assert updates(api) == []  # the newer request proceeds normally
    expect_error(
        older.join(),
        409,
        "Conflict: terminated by other getUpdates request;"
        " make sure that only one bot instance is running",
    )


def test_newer_long_poll_keeps_polling_after_terminating_the_older(tg: FakeBotApi) -> None:
    older = Poller(tg, timeout=30).start(tg)
    newer = Poller(tg, timeout=30).start(tg, wait=False)
    assert older.join().status_code == 409
    assert tg.wait_for(lambda: tg.long_poll_pending, 5)
    update = tg.inject_message(3, "for the newer poll")
    assert newer.join().json() == {"ok": True, "result": [update]}


def test_set_webhook_terminates_a_pending_poll(tg: FakeBotApi, api: Api) -> None:
    poller = Poller(tg, timeout=30).start(tg)
    assert api("setWebhook", url="https://example.org/hook").json()["result"] is True
    expect_error(poller.join(), 409, "Conflict: terminated by setWebhook request")


def test_inject_updates_bulk_is_one_batch(tg: FakeBotApi, api: Api) -> None:
    seqs = tg.inject_updates({"message": {"n": i}} for i in range(1000))
    assert seqs == list(range(seqs[0], seqs[0] + 1000))
    assert tg.pending_update_count == 1000
    got = updates(api, offset=seqs[-1])
    assert got == [{"update_id": seqs[-1], "message": {"n": 999}}]


def test_updates_are_snapshots_at_injection(tg: FakeBotApi, api: Api) -> None:
    raw = {"message": {"text": "before"}}
    tg.inject_update(raw)
    raw["message"]["text"] = "after"
    assert updates(api)[0]["message"]["text"] == "before"


def test_inject_rejects_non_json_values(tg: FakeBotApi) -> None:
    with pytest.raises(TypeError):
        tg.inject_update({"message": {1, 2}})
    assert tg.pending_update_count == 0
