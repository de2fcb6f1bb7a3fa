"""telepot 6.3's synchronous reference examples (``reference_6_3``), run over the fake Telegram.

Each test executes one program or snippet as its source text, with only the imports
changed, and asserts what the fake received, in order, and what the program printed.
"""

from __future__ import annotations

import os
import sys
import threading
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actorbot.compat import telepot
from actorbot.testing import FakeBotApi
from tests.compat.telepot import reference_6_3 as ref
from tests.helpers import eventually

TOKEN = "123456:TEST-token"
CHAT = 5


def execute(source: str, namespace: dict[str, Any], printed: list[str]) -> dict[str, Any]:
    """Execute a program in ``namespace``; what it prints goes to ``printed`` (the engine
    logs to stdout too)."""
    namespace["print"] = lambda *args: printed.append(" ".join(map(str, args)))
    exec(compile(source, "<telepot 6.3 example>", "exec"), namespace)
    return namespace


def run(source: str, printed: list[str] | None = None, /, **names: Any) -> dict[str, Any]:
    """Execute a snippet with the ``names`` it assumes; return its namespace."""
    return execute(source, names, [] if printed is None else printed)


def sent(tg: FakeBotApi, *methods: str) -> list[tuple[str, dict[str, Any]]]:
    """(method, params) of every call to ``methods``, in the order the fake got them."""
    return [(c.method, c.params) for c in tg.calls if c.method in methods]


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """The programs open files by relative paths: run them in a directory of their own."""
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


@pytest.fixture
def bot(telegram: FakeBotApi) -> Iterator[telepot.Bot]:
    bot = telepot.Bot(TOKEN)
    yield bot
    bot.client.close()


# -- telepot.Bot's methods, called outside any message loop --------------------------------


def test_send_message_examples(telegram: FakeBotApi, bot: telepot.Bot) -> None:
    msg_id = telegram.inject_message(CHAT, "hello")["message"]["message_id"]
    run(ref.SEND_MESSAGE, bot=bot, chat_id=CHAT, msg_id=msg_id)
    keyboard = {"keyboard": [["Yes", "No"], ["Maybe", "Maybe not"]]}
    assert [(p["text"], {k: v for k, v in p.items() if k not in ("chat_id", "text")})
            for _m, p in sent(telegram, "sendMessage")] == [
        ("A short sentence.", {}),
        ("I do not understand your last message.", {"reply_parameters": {"message_id": msg_id}}),
        ("http://www.yahoo.com \n no web page preview",
         {"link_preview_options": {"is_disabled": True}}),
        ("*bold text*\n_italic text_\n[link](http://www.google.com)", {"parse_mode": "Markdown"}),
        ("<i>italic</i> <code>inline fixed-width code</code>", {"parse_mode": "HTML"}),
        ("Here is a custom keyboard", {"reply_markup": keyboard}),
        ("Hiding it now.", {"reply_markup": {"remove_keyboard": True}}),  # 6.3: hide_keyboard
        ("Force reply", {"reply_markup": {"force_reply": True}}),
        ("Show keyboard", {"reply_markup": {"keyboard": [["Yes", "No"]]}}),
        ("Hide keyboard", {"reply_markup": {"remove_keyboard": True}}),
        ("Force reply", {"reply_markup": {"force_reply": True}}),
    ]
    assert all(c.status == 200 for c in telegram.calls_to("sendMessage"))


@pytest.mark.parametrize(("source", "filename", "kind", "method", "actions", "second"), [
    (ref.SEND_PHOTO, "lighthouse.jpg", "photo", "sendPhoto", ["upload_photo"],
     {"caption": "This is a lighthouse"}),
    (ref.SEND_AUDIO, "dgdg.mp3", "audio", "sendAudio", ["upload_voice"],  # was upload_audio
     {"duration": 6, "performer": "Ding Dong"}),
    (ref.SEND_DOCUMENT, "document.txt", "document", "sendDocument", ["upload_document"], {}),
    (ref.SEND_STICKER, "gandhi.png", "sticker", "sendSticker", [], {}),
    (ref.SEND_VIDEO, "hktraffic.mp4", "video", "sendVideo", ["upload_video"],
     {"duration": 5}),
    (ref.SEND_VOICE, "example.ogg", "voice", "sendVoice", [], {"duration": 6}),
])
def test_file_examples_upload_then_resend_by_file_id(  # noqa: PLR0917
    telegram: FakeBotApi, bot: telepot.Bot, workdir: Path, source: str, filename: str,
    kind: str, method: str, actions: list[str], second: dict[str, Any],
) -> None:
    content = f"the bytes of {filename}".encode()
    (workdir / filename).write_bytes(content)
    ns = run(source, bot=bot, chat_id=CHAT)
    calls = [c for c in telegram.calls if c.method in (method, "sendChatAction")]
    assert [c.method for c in calls] == ["sendChatAction"] * len(actions) + [method, method]
    assert [c.params["action"] for c in calls[:len(actions)]] == actions
    upload, resend = calls[len(actions):]
    assert upload.status == resend.status == 200
    assert upload.files[kind] == content
    file_id = ns["file_id"]
    assert isinstance(file_id, str)
    assert telegram.file_content(file_id) == content
    assert resend.params == {"chat_id": CHAT, kind: file_id, **second}


def test_send_location_examples(telegram: FakeBotApi, bot: telepot.Bot) -> None:
    run(ref.SEND_LOCATION, bot=bot, chat_id=CHAT)
    assert sent(telegram, "sendChatAction", "sendLocation") == [
        ("sendChatAction", {"chat_id": CHAT, "action": "find_location"}),
        ("sendLocation", {"chat_id": CHAT, "latitude": 22.33, "longitude": 114.18}),
        ("sendLocation", {"chat_id": CHAT, "latitude": 49.25, "longitude": -123.1}),
        ("sendLocation", {"chat_id": CHAT, "latitude": -37.82, "longitude": 144.97}),
    ]


def test_set_webhook_examples_set_it_then_cancel_it(
    telegram: FakeBotApi, bot: telepot.Bot, workdir: Path
) -> None:
    (workdir / "domain.cert").write_bytes(b"-----BEGIN CERTIFICATE-----")
    run(ref.SET_WEBHOOK, bot=bot)
    calls = telegram.calls_to("setWebhook")
    assert [c.params for c in calls] == [{"url": "https://www.domain.com/webhook"},
                                         {"url": "https://www.domain.com/webhook"},
                                         {"url": ""}]
    assert calls[1].files == {"certificate": b"-----BEGIN CERTIFICATE-----"}
    assert all(c.status == 200 for c in calls)
    assert bot.getWebhookInfo()["url"] == ""  # cancelled


def test_download_file_examples(telegram: FakeBotApi, bot: telepot.Bot, workdir: Path) -> None:
    stored = telegram.add_file(b"some bytes", "photo.jpg")
    # The example's file_id is a literal: let the fake know the file under that name too.
    state = telegram._state
    state.files["ABcdEfGhijkLm_NopQRstuvxyZabcdEFgHIJ"] = state.files[stored]
    (workdir / "save" / "to").mkdir(parents=True)
    run(ref.DOWNLOAD_FILE, bot=bot)
    assert (workdir / "save" / "to" / "path").read_bytes() == b"some bytes"
    assert [c.params for c in telegram.calls_to("getFile")] == [
        {"file_id": "ABcdEfGhijkLm_NopQRstuvxyZabcdEFgHIJ"}] * 2


def test_answer_inline_query_examples_send_todays_fields(
    telegram: FakeBotApi, bot: telepot.Bot
) -> None:
    first = telegram.inject_inline_query(7, "morning")["inline_query"]["id"]
    second = telegram.inject_inline_query(7, "photos")["inline_query"]["id"]
    with warnings.catch_warnings():
        # 6.3's fields used to be dropped with a warning
        warnings.simplefilter("error", UserWarning)
        run(ref.ANSWER_ARTICLES, bot=bot, query_id=first)
        run(ref.ANSWER_PHOTOS, bot=bot, query_id=second)
    calls = telegram.calls_to("answerInlineQuery")
    assert [c.status for c in calls] == [200, 200]
    assert [c.params for c in calls] == [
        {"inline_query_id": first, "results": [
            {"type": "article", "id": "abc", "title": "ABC",
             "input_message_content": {"message_text": "Good morning"}},
            {"type": "article", "id": "xyz", "title": "ZZZZZ",
             "input_message_content": {"message_text": "Good night"}}]},
        {"inline_query_id": second, "results": [
            {"type": "photo", "id": "123", "photo_url": "...", "thumbnail_url": "..."},
            {"type": "photo", "id": "999", "photo_url": "...", "thumbnail_url": "..."}]},
    ]


# -- functions of the telepot module; namedtuple; Listener --------------------------------


def test_flavor_glance_example(telegram: FakeBotApi) -> None:
    inline = telegram.inject_inline_query(7, "cats", "10")["inline_query"]
    ns = run(ref.FLAVOR_GLANCE, msg=inline)
    assert ns["flavor"] == "inline_query"
    assert (ns["query_id"], ns["from_id"], ns["query_string"], ns["offset"]) == (
        inline["id"], 7, "cats", "10")
    chosen = telegram.inject_chosen_inline_result(7, "abc", "cats")["chosen_inline_result"]
    ns = run(ref.FLAVOR_GLANCE, msg=chosen)
    assert (ns["flavor"], ns["result_id"], ns["from_id"], ns["query_string"]) == (
        "chosen_inline_result", "abc", 7, "cats")
    # The example compares with 'message', which 6.3's flavor() never returned: as in
    # 6.3, a normal message takes no branch.
    message = telegram.inject_message(CHAT, "hi")["message"]
    ns = run(ref.FLAVOR_GLANCE, msg=message)
    assert ns["flavor"] == "normal"
    assert "content_type" not in ns
    assert telepot.glance(message, long=True) == (
        "text", "private", CHAT, message["date"], message["message_id"])


def test_namedtuple_examples(telegram: FakeBotApi) -> None:
    msg = telegram.inject_message(-40, "hi", chat_type="group", user_id=7)["message"]
    printed: list[str] = []
    ns = run(ref.NAMEDTUPLE_MESSAGE, printed, msg=msg)
    assert ns["ntuple1"] == ns["ntuple2"]
    assert printed == ["7", "-40"]
    ns = run(ref.NAMEDTUPLE_PARTS, msg=msg)
    assert ns["ntuple3"] == ns["ntuple4"]
    assert ns["ntuple3"].id == 7
    assert ns["ntuple5"] == ns["ntuple6"]
    assert ns["ntuple5"].type == "group"


def test_listener_options_and_capture_examples() -> None:
    bot = telepot.SpeakerBot(TOKEN)
    listener = bot.create_listener()
    ns = run(ref.LISTENER_OPTIONS, listener=listener)
    assert ns["timeout"] == 10
    run(ref.LISTENER_CAPTURE, listener=listener)
    assert len(listener.list_captures()) == 6

    def message(chat: int, text: str, first: str = "Ann", last: str = "Bell") -> dict[str, Any]:
        return {"message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"},
                "text": text, "from": {"id": chat, "first_name": first, "last_name": last}}

    assert listener.matches(message(12345678, "words"))  # the chat id
    assert listener.matches(message(1, "42"))  # an integer
    assert listener.matches(message(1, "words", "Nicky", "Leeds"))  # sounds like me
    assert not listener.matches(message(1, "words"))
    for mic_msg in (message(2, "x"), message(12345678, "y")):
        bot.mic.send(mic_msg)
    assert listener.wait()["text"] == "y"


# -- programs that run a message loop -------------------------------------------------------


class Program:
    """A program run on a thread of its own, as ``python program.py TOKEN`` would run it."""

    def __init__(self, source: str, monkeypatch: pytest.MonkeyPatch, *argv: str) -> None:
        monkeypatch.setattr(sys, "argv", ["program.py", TOKEN, *argv])
        self.ended = threading.Event()
        clock = types.ModuleType("program_time")
        clock.sleep = self._sleep  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "program_time", clock)
        self.printed: list[str] = []
        self.namespace: dict[str, Any] = {"__name__": "__main__"}
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(source,), name="telepot-program")
        self._thread.start()

    def _sleep(self, seconds: float) -> None:
        if self.ended.wait(seconds):
            raise SystemExit(0)  # the program is over: leave its `while 1` loop

    def _run(self, source: str) -> None:
        try:
            execute(source, self.namespace, self.printed)
        except SystemExit:
            pass
        except BaseException as exc:  # noqa: BLE001 - reported by stop()
            self.error = exc

    def bot_stopped(self) -> None:
        """What ends the program once its bot is stopped: leaving ``sleep`` (``ended``)."""

    def output(self, lines: int) -> list[str]:
        """The program's first ``lines`` printed lines, once it has printed them."""
        eventually(lambda: len(self.printed) >= lines, 10, f"{lines} lines printed")
        return self.printed[:lines]

    @property
    def bot(self) -> Any:
        """The program's bot, once its message loop runs."""
        eventually(lambda: getattr(self.namespace.get("bot"), "loop", None) is not None, 10,
                   "the program's message loop")
        return self.namespace["bot"]

    def stop(self) -> None:
        """Stop the bot (Ctrl-C, in a terminal) and wait for the program to end."""
        assert self.bot.stop()
        self.bot_stopped()
        self.ended.set()
        self._thread.join(10)
        assert not self._thread.is_alive()
        assert self.error is None, repr(self.error)


def test_skeleton_with_a_handle_method(
    telegram: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = Program(ref.SKELETON_CLASS, monkeypatch)
    try:
        telegram.inject_message(CHAT, "hi")
        telegram.inject_message(-40, None, chat_type="group", user_id=7,
                                new_chat_participant={"id": 9, "is_bot": False,
                                                      "first_name": "new"})
        telegram.inject_message(-40, None, chat_type="group", user_id=7,
                                left_chat_member={"id": 9, "is_bot": False, "first_name": "x"})
        out = program.output(3)
    finally:
        program.stop()
    assert out == [
        "text private 5", "new_chat_participant group -40", "left_chat_participant group -40"]


def test_skeleton_with_a_global_handler_and_its_own_loop(
    telegram: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = Program(ref.SKELETON_FUNCTION, monkeypatch)
    try:
        assert program.output(1) == ["Listening ..."]  # the loop runs: messages may come
        telegram.inject_message(CHAT, "hi")
        telegram.inject_message(CHAT, None, photo=[{"file_id": "p", "file_unique_id": "u",
                                                     "width": 1, "height": 1}])
        out = program.output(3)
    finally:
        program.stop()
    assert out == ["Listening ...", "text private 5", "photo private 5"]


def test_delegator_bot_counter_counts_per_chat(
    telegram: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = Program(ref.COUNTER, monkeypatch)
    try:
        for text in ("a", "b", "c"):
            telegram.inject_message(1, text)
            telegram.inject_message(-40, text, chat_type="group", user_id=7)
        telegram.inject_message(2, "x")
        assert telegram.wait_for(lambda: len(telegram.calls_to("sendMessage")) == 7, 10)
    finally:
        program.stop()
    assert telegram.sent_texts(1) == ["1", "2", "3"]
    assert telegram.sent_texts(-40) == ["1", "2", "3"]
    assert telegram.sent_texts(2) == ["1"]


def test_message_printer_monitor_prints_every_message(
    telegram: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = Program(ref.MESSAGE_PRINTER, monkeypatch)
    try:
        sent_updates = [telegram.inject_message(c, f"m{c}") for c in (1, 2, 3)]
        out = program.output(6)
    finally:
        program.stop()
    assert out[::2] == ["Message received:"] * 3
    assert out[1::2] == [str(u["message"]) for u in sent_updates]
    assert program.bot.loop.engine.stats()["spawned"] == 1
