"""Bot commands: declaring, parsing, dispatching in handlers, and syncing the menu."""

from __future__ import annotations

import json
from typing import Any

import pytest
from structlog.testing import capture_logs

from actorbot import (
    AccessList,
    ChatHandler,
    Client,
    Engine,
    Handler,
    Route,
    command,
    command_of,
    per_chat_id,
)
from actorbot.engine import Hooks
from actorbot.handlers import parse_command, sync_commands
from actorbot.handlers._commands import CommandText, commands_of, declared_commands
from actorbot.testing import FakeBotApi, Fault
from tests.helpers import make_engine

ADMINS = {"type": "all_chat_administrators"}


class Bot(ChatHandler):
    @command("start", "Start the bot", languages={"ru": "Запустить бота"})
    def start_command(self, msg: dict[str, Any], args: str) -> None:
        self.sender.send_message(f"start:{args}")

    @command("help", "What I can do")
    @command("h", "Help, short", hidden=True)
    def help(self, msg: dict[str, Any], args: str) -> None:
        self.sender.send_message("help")

    @command("ban", "Ban a user", scope="all_chat_administrators")
    def ban(self, msg: dict[str, Any], args: str) -> None:
        self.sender.send_message(f"ban {args}: {'ok' if self.is_admin else 'denied'}")

    def on_chat_message(self, msg: dict[str, Any]) -> None:
        self.sender.send_message(f"text:{msg.get('text')}")


# -- declaring ---------------------------------------------------------------------------------


@pytest.mark.parametrize("trigger", ["", "Start", "with space", "x" * 33, "émoji"])
def test_invalid_triggers_are_refused(trigger: str) -> None:
    with pytest.raises(ValueError, match="lowercase"):
        command(trigger, "text")


@pytest.mark.parametrize("kwargs", [{"description": ""}, {"description": "x" * 257},
                                    {"description": "ok", "languages": {"ru": ""}}])
def test_invalid_descriptions_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="1-256"):
        command("ok", **kwargs)


def test_registry_per_class_with_inheritance_overrides_and_aliases() -> None:
    table = commands_of(Bot)
    assert list(table) == ["start", "h", "help", "ban"]
    assert table["h"].method == table["help"].method == "help"
    assert table["h"].hidden
    assert table["ban"].scope == ADMINS
    assert table["start"].languages == {"ru": "Запустить бота"}

    class Child(Bot):
        @command("/start", "Start again")  # the slash is optional
        def restart(self, msg: dict[str, Any], args: str) -> None: ...

        def help(self, msg: dict[str, Any], args: str) -> None: ...  # still the command

    child = commands_of(Child)
    assert child["start"].method == "restart"
    assert child["start"].description == "Start again"
    assert child["help"].method == "help"
    assert commands_of(Bot)["start"].method == "start_command"  # the parent is unchanged
    assert commands_of(Handler) == {}


@pytest.mark.parametrize("name", ["start", "stop", "close", "on_message", "sender"])
def test_a_command_method_must_not_hide_the_handlers_own_attributes(name: str) -> None:
    def method(self: Any, msg: Any, args: str) -> None: ...

    clash = type("Clash", (ChatHandler,), {name: command("go", "Go")(method)})
    with pytest.raises(TypeError, match=f"Clash.{name} would replace .*{name}_command"):
        commands_of(clash)
    with pytest.raises(TypeError, match="would replace"):
        Engine("1:x", [Route(per_chat_id(), clash)], intake=None)  # before anything starts


# -- parsing ----------------------------------------------------------------------------------


def msg(text: str, length: int | None = None, offset: int = 0) -> dict[str, Any]:
    entity_len = len(text.split(maxsplit=1)[0]) if length is None else length
    return {"text": text, "entities": [{"type": "bot_command", "offset": offset,
                                        "length": entity_len}]}


@pytest.mark.parametrize(("message", "expected"), [
    (msg("/start"), CommandText("start", None, "")),
    (msg("/start payload-1"), CommandText("start", None, "payload-1")),
    (msg("/start@Test_Bot  two words \n"), CommandText("start", "Test_Bot", "two words")),
    (msg("/HELP"), CommandText("help", None, "")),
    (msg("/go 🚀 now"), CommandText("go", None, "🚀 now")),
    (msg("/go\nsecond line"), CommandText("go", None, "second line")),
])
def test_parse_command(message: dict[str, Any], expected: CommandText) -> None:
    assert parse_command(message) == expected


@pytest.mark.parametrize("message", [
    {"text": "/start"},  # no entity: not a command for Telegram
    msg("hello /start", length=6, offset=6),  # a command, but not at offset 0
    {"text": "/start", "entities": [{"type": "bold", "offset": 0, "length": 6}]},
    {"text": "/start", "entities": "nope"},
    msg("/start", length=1),
    msg("/start", length=99),
    {"caption": "/start", "caption_entities": [{"type": "bot_command", "offset": 0,
                                                "length": 6}]},
    "not a message",
])
def test_not_a_command(message: Any) -> None:
    assert parse_command(message) is None


def test_command_after_an_astral_character_uses_utf16_lengths() -> None:
    # "/a😀" is not a valid command, but the entity length is in UTF-16 units: 4, not 3.
    assert parse_command(msg("/a😀 x", length=4)) == CommandText("a😀", None, "x")


# -- publishing -------------------------------------------------------------------------------


def test_declared_menus_per_scope_and_language() -> None:
    menus = {(m.scope and m.scope["type"], m.language): m.commands
             for m in declared_commands([Bot])}
    assert menus == {
        (None, ""): [{"command": "start", "description": "Start the bot"},
                     {"command": "help", "description": "What I can do"}],
        (None, "ru"): [{"command": "start", "description": "Запустить бота"},
                       {"command": "help", "description": "What I can do"}],
        ("all_chat_administrators", ""): [{"command": "ban", "description": "Ban a user"}],
    }


def test_sync_sets_only_what_differs(tg: FakeBotApi) -> None:
    with Client(tg.token, base_url=tg.base_url) as client:
        first = sync_commands(client, [Route(per_chat_id(), Bot)])
        assert [(m.scope, m.language) for m in first] == [(None, ""), (None, "ru"),
                                                          (ADMINS, "")]
        assert [c["command"] for c in tg.commands()] == ["start", "help"]
        assert tg.commands(language_code="ru")[0]["description"] == "Запустить бота"
        assert tg.commands(ADMINS) == [{"command": "ban", "description": "Ban a user"}]

        tg.reset_calls()
        assert sync_commands(client, [Bot, Bot]) == []
        # the 3 declared menus, then the 5 other well-known scopes x languages: empty
        assert len(tg.calls_to("getMyCommands")) == 8
        assert tg.calls_to("deleteMyCommands") == []
        assert tg.calls_to("setMyCommands") == []

        client.set_my_commands([{"command": "old", "description": "Old"}], language_code="ru")
        tg.reset_calls()
        again = sync_commands(client, [Bot])
        assert [(m.scope, m.language) for m in again] == [(None, "ru")]
        assert len(tg.calls_to("setMyCommands")) == 1
        assert tg.commands(language_code="ru")[0]["command"] == "start"


class Fewer(ChatHandler):
    @command("start", "Start the bot")
    def start_command(self, msg: dict[str, Any], args: str) -> None:
        self.sender.send_message("start")


def test_sync_deletes_menus_no_longer_declared(tg: FakeBotApi) -> None:
    chat_scope = {"type": "chat", "chat_id": 42}

    class InOneChat(ChatHandler):
        @command("only", "Only here", scope=chat_scope)
        def only(self, msg: dict[str, Any], args: str) -> None:
            pass

    published: set[tuple[str, str]] = set()
    with Client(tg.token, base_url=tg.base_url) as client:
        sync_commands(client, [Bot, InOneChat], published=published)
        assert tg.commands(chat_scope) != []
        client.set_my_commands([{"command": "x", "description": "By hand"}],
                               scope={"type": "all_group_chats"})
        tg.reset_calls()
        done = sync_commands(client, [Fewer], published=published)
    # "ru" and the admins' scope are no longer declared; the chat scope was published
    # before; all group chats is a well-known scope: all found and deleted.
    assert sorted((json.dumps(m.scope), m.language) for m in done if not m.commands) == [
        ('null', "ru"), ('{"chat_id": 42, "type": "chat"}', ""),
        ('{"type": "all_chat_administrators"}', ""), ('{"type": "all_group_chats"}', "")]
    assert len(tg.calls_to("deleteMyCommands")) == 4
    assert tg.commands(language_code="ru") == tg.commands(ADMINS) == []
    assert tg.commands(chat_scope) == tg.commands({"type": "all_group_chats"}) == []
    assert [c["command"] for c in tg.commands()] == ["start"]
    assert published == {('{"type": "default"}', "")}


@pytest.mark.usefixtures("no_thread_left")
def test_a_restarted_engine_deletes_the_menus_it_no_longer_declares(tg: FakeBotApi) -> None:
    with make_engine(tg, [Route(per_chat_id(), Bot)]):
        pass
    assert tg.commands(language_code="ru") != []
    with make_engine(tg, [Route(per_chat_id(), Fewer)]):  # a new process, a new engine
        pass
    assert tg.commands(ADMINS) == []  # a well-known scope: found and deleted
    assert [c["command"] for c in tg.commands()] == ["start"]
    # The documented limit: no handler declares "ru" now and the new engine never
    # published it, so nothing tells it to look there.
    assert tg.commands(language_code="ru") != []


# -- in the engine ----------------------------------------------------------------------------


@pytest.mark.usefixtures("no_thread_left")
def test_engine_syncs_at_start_and_dispatches_commands(tg: FakeBotApi) -> None:
    access = AccessList(admins=[7])
    with make_engine(tg, [Route(per_chat_id(), Bot)], access=access):
        assert [c["command"] for c in tg.commands()] == ["start", "help"]  # synced by start()
        assert tg.commands(ADMINS)[0]["command"] == "ban"
        for text, args in [("/start", "deep-link"), ("/start@test_bot", "two words"),
                           ("/start@other_bot", "x"), ("/nope", None), ("/HELP", None),
                           ("/h", None)]:
            tg.inject_command(42, text, args)
        tg.inject_message(42, "just text")
        tg.inject_command(-100, "/ban", "spammer", user_id=7, chat_type="supergroup")
        tg.inject_command(-100, "/ban@test_bot", "admin", user_id=8, chat_type="supergroup")
        assert tg.wait_for(lambda: len(tg.sent_texts(42)) == 7
                           and len(tg.sent_texts(-100)) == 2, 30)
    assert tg.sent_texts(42) == ["start:deep-link", "start:two words", "text:/start@other_bot x",
                                 "text:/nope", "help", "help", "text:just text"]
    assert tg.sent_texts(-100) == ["ban spammer: ok", "ban admin: denied"]

    tg.reset_calls()
    with make_engine(tg, [Route(per_chat_id(), Bot)]):
        pass
    assert tg.calls_to("setMyCommands") == []  # unchanged: nothing rewritten
    assert tg.calls_to("deleteMyCommands") == []
    assert len(tg.calls_to("getMyCommands")) == 8


@pytest.mark.usefixtures("no_thread_left")
def test_a_failed_sync_is_logged_and_commands_still_work(tg: FakeBotApi) -> None:
    tg.add_fault(Fault(method="setMyCommands", status=500))
    errors: list[BaseException] = []
    with capture_logs() as logs, make_engine(
        tg, [Route(per_chat_id(), Bot)], hooks=Hooks(on_error=errors.append),
    ):
        tg.inject_command(42, "/start@test_bot", "ok")
        assert tg.wait_for(lambda: tg.sent_texts(42) == ["start:ok"], 30)
    failed = [e for e in logs if e["event"] == "commands.sync_failed"]
    assert len(failed) == 1
    assert failed[0]["error"].startswith("ServerError")
    assert tg.token not in repr(logs)
    assert [type(e).__name__ for e in errors] == ["ServerError"]


@pytest.mark.usefixtures("no_thread_left")
def test_without_commands_the_username_is_still_fetched_for_catch_all_hooks(
    tg: FakeBotApi,
) -> None:
    class CatchAll(ChatHandler):
        def on_chat_message(self, msg: dict[str, Any]) -> None:
            parsed = command_of(self, msg)
            self.sender.send_message(f"cmd:{parsed.name}" if parsed else f"text:{msg['text']}")

    with make_engine(tg, [Route(per_chat_id(), CatchAll)]):
        for text in ["/go@other_bot", "/go@Test_Bot", "/go"]:
            tg.inject_command(-100, text, chat_type="supergroup")
        tg.inject_message(-100, "plain", chat_type="supergroup")
        assert tg.wait_for(lambda: len(tg.sent_texts(-100)) == 4, 30)
    assert tg.sent_texts(-100) == ["text:/go@other_bot", "cmd:go", "cmd:go", "text:plain"]
    assert [c.method for c in tg.calls if "Command" in c.method or c.method == "getMe"] == [
        "getMe"]  # no menu to publish: no command calls


def test_commands_false_still_knows_the_username_but_does_not_sync(tg: FakeBotApi) -> None:
    with make_engine(tg, [Route(per_chat_id(), Bot)], commands=False):
        tg.inject_command(42, "/start@other_bot", "x")
        tg.inject_command(42, "/start@test_bot", "y")
        assert tg.wait_for(lambda: len(tg.sent_texts(42)) == 2, 30)
    assert tg.sent_texts(42) == ["text:/start@other_bot x", "start:y"]
    assert tg.calls_to("setMyCommands") == []
    assert tg.calls_to("getMyCommands") == []
