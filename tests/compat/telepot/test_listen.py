"""Capture criteria, listeners, the microphone and the delegate feed's rendezvous."""

from __future__ import annotations

import queue
import re
import threading
from typing import Any

import pytest

from actorbot.compat.telepot import filtering
from actorbot.compat.telepot._listen import Feed, Outcome
from actorbot.compat.telepot.exception import StopListening, WaitTooLong
from actorbot.compat.telepot.helper import Listener, Microphone
from actorbot.compat.telepot.namedtuple import Message

MSG = {"message_id": 5, "date": 0, "text": "42",
       "chat": {"id": 7, "type": "private", "first_name": "Nick"},
       "from": {"id": 7, "is_bot": False, "first_name": "Nick", "last_name": "Lee"}}


@pytest.mark.parametrize(("criteria", "expected"), [
    ({"chat__id": 7}, True),
    ({"chat__id": 8}, False),
    ({"chat": {"id": 7, "type": "private"}}, True),
    ({"chat": {"id": 7, "type": "group"}}, False),
    ({"text": str.isdigit}, True),
    ({"text": lambda s: s.isdigit(), "chat__id": 7}, True),
    ({"text": lambda s: s.isdigit(), "chat__id": 8}, False),
    ({"_": lambda m: m["from"]["first_name"].startswith("Nick")}, True),
    ({"from__last_name": "Lee"}, True),
    ({"from__username": "nick"}, False),  # a missing part never matches
    ({"chat__id__deeper": 1}, False),
    ({"caption": None}, False),
])
def test_keyword_criteria_follow_telepot(criteria: dict[str, Any], expected: bool) -> None:
    assert filtering.ok(MSG, **criteria) is expected


@pytest.mark.parametrize(("pattern", "expected"), [
    ([{"chat": {"id": 7}}], True),
    ([{"chat": {"id": 7}}, lambda m: m["text"] == "nope"], False),
    ([{re.compile("^ch"): {"type": "private"}}], True),
    ([{re.compile("^_"): {"source": {"id": 1}}}], False),
])
def test_telepot_12_patterns(pattern: list[Any], expected: bool) -> None:
    assert filtering.match_all(MSG, pattern) is expected


def test_criteria_read_namedtuples_too() -> None:
    assert filtering.ok(Message(**MSG), chat__id=7, from__first_name="Nick")


def test_listener_capture_cancel_clear_list() -> None:
    listener = Listener(None, queue.Queue())
    listener.capture(chat__id=7)
    listener.capture([{"text": "x"}])
    assert listener.list_captures() == [{"chat__id": 7}, [{"text": "x"}]]
    assert listener.matches(MSG)
    listener.cancel_capture(chat__id=7)
    assert listener.list_captures() == [[{"text": "x"}]]
    assert not listener.matches(MSG)
    listener.clear_captures()
    with pytest.raises(RuntimeError, match="no capture criteria"):
        listener.wait()


def test_microphone_listener_waits_for_a_match_and_times_out() -> None:
    mic = Microphone()
    q: queue.Queue[Any] = queue.Queue()
    mic.add(q)
    listener = Listener(mic, q)
    listener.capture(text="yes")
    listener.set_options(timeout=0.05)
    assert listener.get_options("timeout") == (0.05,)
    mic.send({"text": "no"})
    mic.send({"text": "yes", "n": 1})
    assert listener.wait() == {"text": "yes", "n": 1}
    with pytest.raises(WaitTooLong) as waited:
        listener.wait()
    assert waited.value.seconds == 0.05
    mic.remove(q)
    mic.send({"text": "yes"})
    assert q.empty()


def test_feed_hands_over_only_while_the_delegate_waits() -> None:
    feed = Feed()
    got: list[Any] = []

    def delegate() -> None:
        listener = Listener(None, feed)
        listener.capture(n=lambda n: n % 2 == 0)
        try:
            while True:
                got.append(listener.wait()["n"])
        except StopListening:
            pass
        finally:
            feed.exited()

    thread = threading.Thread(target=delegate)
    thread.start()
    feed.settle()
    for n in range(6):
        assert feed.offer({"n": n}) is Outcome.TAKEN  # odd ones are taken and discarded
        assert got == [m for m in range(n + 1) if m % 2 == 0]  # done when offer returns
    feed.close()
    thread.join(5)
    assert feed.offer({"n": 8}) is Outcome.CLOSED


def test_a_delegate_that_times_out_never_swallows_the_next_message() -> None:
    for _ in range(200):  # the timeout and the offer race on purpose
        feed = Feed()
        got: list[Any] = []

        def delegate(feed: Feed = feed, got: list[Any] = got) -> None:
            try:
                got.append(feed.get(timeout=0.0005))
            except queue.Empty:
                pass
            finally:
                feed.exited()

        thread = threading.Thread(target=delegate)
        thread.start()
        outcome = feed.offer("m")
        thread.join(5)
        assert (outcome is Outcome.TAKEN) == (got == ["m"])
        assert outcome in (Outcome.TAKEN, Outcome.EXITED)
