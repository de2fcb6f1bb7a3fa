"""ChatSender: the generated, typed methods of ``self.sender`` against a real sender."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

import pykka
import pytest

from actorbot import Client
from actorbot.runtime import Clock
from actorbot.sending import (
    CallFuture,
    CallOptions,
    CallResult,
    ChatSender,
    RateLimits,
    Sender,
    SenderHandle,
    Sending,
)
from actorbot.testing import FakeBotApi

pytestmark = pytest.mark.usefixtures("no_thread_left")

CHAT = 7


@pytest.fixture
def handle(tg: FakeBotApi) -> Iterator[SenderHandle]:
    client = Client(tg.token, base_url=tg.base_url, read_timeout=5)
    clock = Clock()
    sender = Sender(client, clock, Sending(limits=RateLimits.unlimited()))
    clock.start()
    sender._start_actor_loop()
    yield SenderHandle.of(sender)
    sender.actor_ref.stop(timeout=30)
    clock.stop(5)
    client.close()


@pytest.fixture
def bound(handle: SenderHandle) -> ChatSender:
    return ChatSender(handle, CHAT)


def params_of(tg: FakeBotApi, method: str) -> list[dict[str, Any]]:
    return [c.params for c in tg.calls_to(method)]


def test_the_bound_chat_is_filled_in_and_required_parameters_are_positional(
    tg: FakeBotApi, bound: ChatSender
) -> None:
    message = bound.send_message("hi").get(timeout=10)
    assert (message["chat"]["id"], message["text"]) == (CHAT, "hi")
    assert bound.send_chat_action("typing").get(timeout=10) is True
    bound.forward_message(CHAT, message["message_id"]).get(timeout=10)
    assert params_of(tg, "sendMessage") == [{"chat_id": CHAT, "text": "hi"}]
    assert params_of(tg, "sendChatAction") == [{"chat_id": CHAT, "action": "typing"}]
    assert params_of(tg, "forwardMessage") == [
        {"chat_id": CHAT, "from_chat_id": CHAT, "message_id": message["message_id"]}]


def test_an_explicit_chat_id_overrides_the_bound_one(tg: FakeBotApi, bound: ChatSender) -> None:
    bound.send_message("elsewhere", chat_id=8, parse_mode="HTML").get(timeout=10)
    assert params_of(tg, "sendMessage") == [
        {"chat_id": 8, "text": "elsewhere", "parse_mode": "HTML"}]
    assert tg.sent_texts(8) == ["elsewhere"]
    assert tg.sent_texts(CHAT) == []


def test_methods_without_chat_id_get_none(tg: FakeBotApi, bound: ChatSender) -> None:
    assert bound.get_me().get(timeout=10)["is_bot"] is True
    assert params_of(tg, "getMe") == [{}]


def test_without_a_bound_chat_chat_id_is_needed_at_the_call_site(
    tg: FakeBotApi, handle: SenderHandle
) -> None:
    unbound = ChatSender(handle, None)
    with pytest.raises(TypeError, match=r"^sendMessage\(\) needs chat_id=\.\.\.: this sender "
                                        r"is bound to no chat$"):
        unbound.send_message("hi")
    unbound.send_message("hi", chat_id=9).get(timeout=10)
    # Where Telegram's chat_id is optional, none is sent: the bot's default menu button.
    unbound.get_chat_menu_button().get(timeout=10)
    assert params_of(tg, "sendMessage") == [{"chat_id": 9, "text": "hi"}]
    assert params_of(tg, "getChatMenuButton") == [{}]


def test_bad_calls_fail_at_the_call_site_and_queue_nothing(
    tg: FakeBotApi, bound: ChatSender
) -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        bound.send_message("hi", bogus=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'text'"):
        bound.send_message()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="takes 2 positional arguments but 3 were given"):
        bound.send_message("hi", "HTML")  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"^sendMessage\(\) missing required parameter\(s\): "
                                        r"'text'$"):  # the sender's check_call, as for call()
        bound.send_message(None)  # type: ignore[arg-type]
    with pytest.raises(AttributeError, match="send_mesage"):
        bound.send_mesage("hi")  # type: ignore[attr-defined]
    bound.get_me().get(timeout=10)  # the sender is fine, and got nothing before this
    assert [c.method for c in tg.calls] == ["getMe"]


def test_call_reaches_any_method_by_name(tg: FakeBotApi, bound: ChatSender) -> None:
    future = bound.call("sendMessage", text="by name", newer_param=1)
    assert future.get(timeout=10)["text"] == "by name"
    bound.call("getMe").get(timeout=10)
    with pytest.raises(TypeError, match=r"sendMessage\(\) missing required parameter"):
        bound.call("sendMessage")
    # The spec's parameters are not checked by call(): it is for what the spec lacks.
    assert params_of(tg, "sendMessage") == [
        {"chat_id": CHAT, "text": "by name", "newer_param": 1}]
    assert params_of(tg, "getMe") == [{}]


def test_the_future_is_a_call_future_with_the_result(bound: ChatSender) -> None:
    future = bound.send_message("typed")
    assert isinstance(future, CallFuture)
    assert isinstance(future, pykka.Future)
    assert future.get(timeout=10)["text"] == "typed"
    assert bound.delete_message(future.get()["message_id"]).get(timeout=10) is True


class _Inbox(pykka.ThreadingActor):
    def __init__(self, got: queue.Queue[Any]) -> None:
        super().__init__()
        self.got = got

    def on_receive(self, message: Any) -> None:
        self.got.put(message)


def test_notify_reports_the_result_to_the_owner(tg: FakeBotApi, handle: SenderHandle) -> None:
    got: queue.Queue[Any] = queue.Queue()
    owner = _Inbox.start(got)
    try:
        sender = ChatSender(handle, CHAT, owner)
        message = sender.notify("greeting").send_message("hello").get(timeout=10)
        result = got.get(timeout=10)
        assert isinstance(result, CallResult)
        assert (result.tag, result.method, result.ok, result.result) == (
            "greeting", "sendMessage", True, message)
        sender.send_message("untagged").get(timeout=10)
        sender.notify("again").get_me().get(timeout=10)
        assert got.get(timeout=10).tag == "again"  # nothing came for the untagged call
        assert got.empty()
    finally:
        owner.stop()


def test_notify_needs_an_owner(bound: ChatSender) -> None:
    with pytest.raises(RuntimeError, match="no actor to notify"):
        bound.notify("tag")


class _Recording:
    """Stands in for a SenderHandle: records what reaches ``submit`` (without the Nones
    that the sender's check_call drops) instead of queueing it."""

    def __init__(self) -> None:
        self.submitted: list[tuple[str, dict[str, Any], Any, Any, CallOptions]] = []

    def submit(self, method: str, params: dict[str, Any], *, notify: Any, tag: Any,
               options: CallOptions) -> CallFuture[Any]:
        given = {k: v for k, v in params.items() if v is not None}
        self.submitted.append((method, given, notify, tag, options))
        return CallFuture()


def test_options_and_notify_reach_the_sender_with_each_call() -> None:
    handle, owner = _Recording(), object()
    sender = ChatSender(handle, CHAT, owner)  # type: ignore[arg-type]
    sender.options(coalesce=True).edit_message_text(message_id=5, text="v2")
    sender.notify("t").options(retry_unsafe=True).send_message("x")
    sender.options(coalesce=True).notify("u").call("editMessageText", message_id=5, text="v3")
    sender.send_message("plain")
    assert handle.submitted == [
        ("editMessageText", {"chat_id": CHAT, "message_id": 5, "text": "v2"},
         None, None, CallOptions(coalesce=True)),
        ("sendMessage", {"chat_id": CHAT, "text": "x"}, owner, "t", CallOptions(retry_unsafe=True)),
        ("editMessageText", {"chat_id": CHAT, "message_id": 5, "text": "v3"},
         owner, "u", CallOptions(coalesce=True)),
        ("sendMessage", {"chat_id": CHAT, "text": "plain"}, None, None, CallOptions()),
    ]
