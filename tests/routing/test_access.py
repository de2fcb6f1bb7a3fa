"""The access list: loading, run-time changes from many threads, and the router dropping
banned users' updates before any handler sees them (and handlers seeing ``is_admin``)."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import pytest
from structlog.testing import capture_logs

from actorbot import AccessList, ChatHandler, Route, per_chat_id
from actorbot.testing import FakeBotApi
from tests.helpers import eventually, make_engine


def message(user: int, chat: int | None = None, **extra: Any) -> dict[str, Any]:
    chat = user if chat is None else chat
    return {"update_id": 1, "message": {
        "message_id": 1, "date": 0, "text": "hi", "chat": {"id": chat, "type": "private"},
        "from": {"id": user, "is_bot": False, "first_name": "u"}, **extra}}


# -- the list itself ---------------------------------------------------------------------------


def test_from_settings_accepts_lists_strings_and_missing_keys() -> None:
    access = AccessList.from_settings({"banned_users": [1, "2", " -1003 "],
                                       "admin_users": "10, 11 12;13"})
    assert access.banned == {1, 2, -1003}
    assert access.admins == {10, 11, 12, 13}
    assert AccessList.from_settings({}).banned == frozenset()
    single = AccessList.from_settings({"banned_users": 5, "admin_users": []})
    assert (single.banned, single.admins) == ({5}, frozenset())


@pytest.mark.parametrize("bad", [[True], ["ann"], [1.5], 2.0, {"id": "x"}])
def test_bad_ids_are_refused_with_the_key_named(bad: Any) -> None:
    with pytest.raises((ValueError, TypeError), match="banned_users"):
        AccessList.from_settings({"banned_users": bad})


def test_run_time_changes_and_reload() -> None:
    access = AccessList(banned=[1], admins=[2])
    access.ban(3, 4)
    access.unban(1)
    access.add_admins(5)
    access.remove_admins(2)
    assert (access.banned, access.admins) == ({3, 4}, {5})
    assert access.is_banned(3)
    assert not access.is_banned(None)
    assert access.is_admin(5)
    assert not access.is_admin(3)
    access.load({"banned_users": [9]})
    assert (access.banned, access.admins) == ({9}, frozenset())  # both replaced
    assert repr(access) == "AccessList(banned=1, admins=0)"


def test_concurrent_writers_lose_no_change() -> None:
    access = AccessList()
    barrier = threading.Barrier(8)

    def writer(base: int) -> None:
        barrier.wait()
        for i in range(200):
            access.ban(base + i)
            access.add_admins(base + i)

    threads = [threading.Thread(target=writer, args=(n * 1000,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = {n * 1000 + i for n in range(8) for i in range(200)}
    assert access.banned == expected
    assert access.admins == expected


def test_banned_sender_covers_users_and_chats_acting_for_them() -> None:
    access = AccessList(banned=[666, -100777])
    assert access.banned_sender(message(666)) == 666
    assert access.banned_sender(message(666, chat=-100123)) == 666  # in a group
    assert access.banned_sender(message(1)) is None
    anonymous = message(1087968824, chat=-100777, sender_chat={"id": -100777, "type": "group"})
    assert access.banned_sender(anonymous) == -100777
    query = {"update_id": 2, "callback_query": {"id": "q", "chat_instance": "c", "data": "d",
                                                 "from": {"id": 666, "first_name": "x"}}}
    assert access.banned_sender(query) == 666
    assert access.banned_sender({"update_id": 3, "unknown_kind": {}}) is None
    assert AccessList().banned_sender(message(666)) is None


def test_is_admin_update_uses_the_user_not_a_chat_acting_anonymously() -> None:
    access = AccessList(admins=[5, -100777])
    assert access.is_admin_update(message(5, chat=-100123))
    assert not access.is_admin_update(message(6))
    anonymous = message(1087968824, chat=-100777, sender_chat={"id": -100777, "type": "group"})
    assert not access.is_admin_update(anonymous)
    assert not AccessList().is_admin_update(message(5))


# -- in the engine ----------------------------------------------------------------------------


class Recorder(ChatHandler):
    lock = threading.Lock()
    seen: ClassVar[list[tuple[int, str, bool]]] = []

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        with Recorder.lock:
            Recorder.seen.append((msg["from"]["id"], msg["text"], self.is_admin))


def seen() -> set[tuple[int, str, bool]]:
    with Recorder.lock:
        return set(Recorder.seen)


@pytest.mark.usefixtures("no_thread_left")
def test_router_drops_banned_users_and_handlers_see_admins(tg: FakeBotApi) -> None:
    Recorder.seen = []
    access = AccessList(banned=[666], admins=[1])
    engine = make_engine(tg, [Route(per_chat_id(), Recorder)], access=access)
    with capture_logs() as logs, engine:
        tg.inject_message(666, "top secret text")
        tg.inject_message(-100500, "group spam", user_id=666, chat_type="supergroup")
        tg.inject_message(1, "from the admin")
        tg.inject_message(2, "from a user")
        eventually(lambda: len(seen()) == 2 and engine.stats()["banned"] == 2, 30,
                   "two messages handled and two dropped")
        assert seen() == {(1, "from the admin", True), (2, "from a user", False)}
        # Run-time changes take effect for the next update.
        access.unban(666)
        access.add_admins(2)
        access.remove_admins(1)
        tg.inject_message(666, "let me in")
        tg.inject_message(2, "promoted")
        tg.inject_message(1, "demoted")
        eventually(lambda: len(seen()) == 5, 30, "three more messages")
        stats = engine.stats()
    assert seen() == {(1, "from the admin", True), (2, "from a user", False),
                      (666, "let me in", False), (2, "promoted", True), (1, "demoted", False)}
    assert stats["banned"] == 2
    assert stats["spawned"] == 3  # no handler was ever spawned for the banned user
    banned = [e for e in logs if e["event"] == "router.banned"]
    assert sorted((e["user_id"], e["update_type"]) for e in banned) == [
        (666, "message"), (666, "message")]
    assert "top secret" not in repr(logs)
    assert "spam" not in repr(logs)
    assert engine.stats()["in_flight"] == 0  # dropped updates are finished, not leaked


def test_engine_has_an_empty_access_list_to_change_at_run_time(tg: FakeBotApi) -> None:
    engine = make_engine(tg, [Route(per_chat_id(), Recorder)])
    assert isinstance(engine.access, AccessList)
    assert engine.access.banned == frozenset()
