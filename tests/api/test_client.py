"""The client against the fake Bot API server, over real HTTP."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import socket
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actorbot.api import (
    METHODS,
    ApiError,
    BadRequest,
    ChatMigrated,
    Client,
    Conflict,
    ConnectError,
    ConnectionLost,
    Forbidden,
    InputFile,
    InvalidResponse,
    LoggedOut,
    MessageNotModified,
    NotFound,
    QueryExpired,
    ReadTimeout,
    RetryAfter,
    ServerError,
    TelegramError,
    Unauthorized,
)
from actorbot.api.codegen import snake_case
from actorbot.testing import FakeBotApi, Fault
from tests.corpus import API_SPEC, ERRORS

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = TOKEN.partition(":")[2]


@pytest.fixture
def tg() -> Iterator[FakeBotApi]:
    with FakeBotApi(token=TOKEN) as server:
        yield server


@pytest.fixture
def bot(tg: FakeBotApi) -> Iterator[Client]:
    with Client(TOKEN, base_url=tg.base_url, read_timeout=5) as client:
        yield client


def assert_no_token(exc: BaseException) -> None:
    text = "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)
    assert SECRET not in text, text


# -- plain calls ------------------------------------------------------------------------


def test_get_me_and_repr_hide_the_token(tg: FakeBotApi, bot: Client) -> None:
    me = bot.get_me()
    assert me["id"] == 123456789
    assert me["is_bot"] is True
    assert SECRET not in repr(bot)
    assert SECRET not in str(bot)
    assert repr(bot) == f"Client(bot_id=123456789, base_url={tg.base_url!r})"


def test_json_body_nested_objects_and_none_omitted(tg: FakeBotApi, bot: Client) -> None:
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}
    msg = bot.send_message(42, "hi there", reply_markup=markup, parse_mode=None)
    assert msg["text"] == "hi there"
    assert msg["chat"]["id"] == 42
    (call,) = tg.calls_to("sendMessage")
    assert call.params == {"chat_id": 42, "text": "hi there", "reply_markup": markup}
    assert "parse_mode" not in call.params


def test_call_reaches_methods_newer_than_the_table(tg: FakeBotApi, bot: Client) -> None:
    assert bot.call("sendMessage", chat_id=7, text="via call")["text"] == "via call"
    with pytest.raises(NotFound) as info:
        bot.call("sendTelepathicMessage", chat_id=7)
    assert info.value.error_code == 404
    assert info.value.description == "Not Found: method not found"


@dataclasses.dataclass
class Button:
    text: str
    callback_data: str | None = None


def test_dataclasses_and_tuples_serialise(tg: FakeBotApi, bot: Client) -> None:
    bot.send_message(1, "x", reply_markup={"inline_keyboard": ((Button("a", "b"),),)})
    (call,) = tg.calls_to("sendMessage")
    button = {"text": "a", "callback_data": "b"}
    assert call.params["reply_markup"] == {"inline_keyboard": [[button]]}


def test_unserialisable_parameter_is_a_type_error(tg: FakeBotApi, bot: Client) -> None:
    with pytest.raises(TypeError, match="sendMessage"):
        bot.send_message(1, "x", reply_markup={"k": object()})
    assert tg.calls == []


def test_bad_arguments_fail_before_any_request(tg: FakeBotApi, bot: Client) -> None:
    with pytest.raises(TypeError, match="'text'"):
        bot.call("sendMessage", chat_id=1)
    with pytest.raises(TypeError, match="'text'"):
        bot.call("SENDMESSAGE", chat_id=1, text=None)
    with pytest.raises(ValueError, match="method name"):
        bot.call("../getMe")
    with pytest.raises(ValueError, match="token"):
        Client("abc/def")
    assert tg.calls == []


def _dummy(types: list[str]) -> Any:
    t = types[0]
    if t == "InputFile":
        return b"upload"
    if t.startswith("Array of"):
        return []
    return {"Integer": 1, "String": "x", "Boolean": True, "Float": 1.5}.get(t, {})


def test_every_method_enforces_required_params_then_reaches_the_server(
    tg: FakeBotApi, bot: Client
) -> None:
    spec = json.loads(API_SPEC.read_text(encoding="utf-8"))["methods"]
    for name, method in spec.items():
        fn = getattr(bot, snake_case(name))
        required = [f for f in method.get("fields") or [] if f["required"]]
        if required:
            with pytest.raises(TypeError, match=repr(required[0]["name"])):
                fn()
            with pytest.raises(TypeError, match=repr(required[-1]["name"])):
                bot.call(name, **{f["name"]: _dummy(f["types"]) for f in required[:-1]})
    assert tg.calls == []  # nothing was sent for a call with a missing parameter

    for name, method in spec.items():
        required = [f for f in method.get("fields") or [] if f["required"]]
        # The fake may refuse dummy values (no such message, ...): reaching it is the point.
        with contextlib.suppress(ApiError):
            getattr(bot, snake_case(name))(*[_dummy(f["types"]) for f in required])
    assert [c.method for c in tg.calls] == list(spec)
    assert set(METHODS) == set(spec)


# -- uploads and downloads --------------------------------------------------------------


def test_uploads_of_every_kind_round_trip(tg: FakeBotApi, bot: Client, tmp_path: Path) -> None:
    path = tmp_path / "cat.jpg"
    path.write_bytes(b"\xff\xd8 path bytes")
    sent = [
        bot.send_photo(1, path, caption="from a path"),
        bot.send_document(1, b"raw bytes"),
        bot.send_document(1, io.BytesIO(b"file object")),
        bot.send_document(1, InputFile(b"%PDF", filename="r.pdf", content_type="application/pdf")),
    ]
    calls = tg.calls
    assert calls[0].files["photo"] == b"\xff\xd8 path bytes"
    assert calls[0].params["caption"] == "from a path"
    assert [c.files["document"] for c in calls[1:]] == [b"raw bytes", b"file object", b"%PDF"]
    assert sent[3]["document"]["file_name"] == "r.pdf"

    file_id = sent[0]["photo"][-1]["file_id"]
    assert bot.download_bytes(file_id) == b"\xff\xd8 path bytes"
    target = tmp_path / "down.bin"
    assert bot.download_file(sent[1]["document"]["file_id"], target) == len(b"raw bytes")
    assert target.read_bytes() == b"raw bytes"
    buf = io.BytesIO()
    bot.download_file(sent[2]["document"]["file_id"], buf)
    assert buf.getvalue() == b"file object"


def test_media_group_uploads_use_attach(tg: FakeBotApi, bot: Client) -> None:
    file_id = tg.add_file(b"already there", filename="x.jpg")
    messages = bot.send_media_group(
        5,
        [
            {"type": "photo", "media": b"first"},
            {"type": "photo", "media": file_id, "caption": "reused"},
            {"type": "document", "media": InputFile(b"third", filename="t.txt")},
        ],
    )
    assert len(messages) == 3
    (call,) = tg.calls_to("sendMediaGroup")
    assert [m["media"] for m in call.params["media"]] == ["attach://file0", file_id, "attach://file1"]
    assert call.files == {"file0": b"first", "file1": b"third"}


def test_download_of_unknown_file_is_typed(bot: Client) -> None:
    with pytest.raises(BadRequest):
        bot.download_bytes("no-such-file-id")


def test_failed_download_leaves_no_partial_file(
    tg: FakeBotApi, bot: Client, tmp_path: Path
) -> None:
    file_id = tg.add_file(b"x" * 1000)
    tg.add_fault(Fault(method="getFile", status=500, times=1))
    target = tmp_path / "partial.bin"
    with pytest.raises(ServerError):
        bot.download_file(file_id, target)
    assert not target.exists()


# -- errors -----------------------------------------------------------------------------

EXPECTED_TYPES: dict[str, type[TelegramError]] = {
    "Too Many Requests": RetryAfter,
    "Bad Request: group chat was upgraded": ChatMigrated,
    "Unauthorized": Unauthorized,
    "Forbidden": Forbidden,
    "Bad Request: chat not found": BadRequest,
    "Bad Request: message is not modified": MessageNotModified,
    "Bad Request: query is too old": QueryExpired,
    "Bad Request: file is too big": BadRequest,
    "Not Found": NotFound,
    "Conflict": Conflict,
    "Misdirected Request": Unauthorized,
    "Internal Server Error": ServerError,
    "Logged out": LoggedOut,
}


def _errors() -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = json.loads(ERRORS.read_text(encoding="utf-8"))["errors"]
    return errors


def test_every_documented_error_response_maps_to_its_type(tg: FakeBotApi, bot: Client) -> None:
    errors = _errors()
    assert len(errors) == 23
    for entry in errors:
        body = entry["body"]
        tg.clear_faults()
        if isinstance(body, str):
            fault = Fault(method="sendMessage", status=entry["http_status"], html=True)
        else:
            params = body.get("parameters", {})
            fault = Fault(method="sendMessage", status=entry["http_status"],
                          description=body["description"],
                          retry_after=params.get("retry_after"),
                          migrate_to_chat_id=params.get("migrate_to_chat_id"))
        tg.add_fault(fault)
        with pytest.raises(TelegramError) as info:
            bot.send_message(1, "x")
        err = info.value
        assert_no_token(err)
        if isinstance(body, str):  # the nginx HTML page
            assert type(err) is ServerError
            assert isinstance(err, ApiError)
            assert err.error_code == 502
            continue
        expected = next(t for p, t in EXPECTED_TYPES.items() if body["description"].startswith(p))
        assert type(err) is expected, body["description"]
        assert isinstance(err, ApiError)
        assert err.error_code == body["error_code"]
        assert err.description == body["description"]
        assert err.parameters == body.get("parameters", {})
        if isinstance(err, RetryAfter):
            assert err.retry_after == 17
        if isinstance(err, ChatMigrated):
            assert err.migrate_to_chat_id == -1009000000101


def test_retry_after_header_alone_is_honoured(tg: FakeBotApi, bot: Client) -> None:
    tg.add_fault(Fault(method="sendMessage", status=429, headers={"Retry-After": "4"},
                       body={"ok": False, "error_code": 429, "description": "Too Many Requests"}))
    with pytest.raises(RetryAfter) as info:
        bot.send_message(1, "x")
    assert info.value.retry_after == 4


def test_wrong_token_is_unauthorized(tg: FakeBotApi) -> None:
    other = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    with Client(other, base_url=tg.base_url) as bad, pytest.raises(Unauthorized) as info:
        bad.get_me()
    assert info.value.error_code == 401
    assert_no_token(info.value)


def test_conflicting_poll_is_a_conflict(tg: FakeBotApi, bot: Client) -> None:
    bot.set_webhook("https://example.org/hook")
    with pytest.raises(Conflict) as info:
        bot.get_updates(timeout=0)
    assert "webhook is active" in info.value.description


@pytest.mark.parametrize(
    "body",
    [b"not json at all", b"[1, 2]", b'{"result": 1}', b'{"ok": true}', b'{"ok": "yes"}'],
)
def test_malformed_answers_are_invalid_response(tg: FakeBotApi, bot: Client, body: bytes) -> None:
    tg.add_fault(Fault(method="getMe", status=200, raw_body=body))
    with pytest.raises(InvalidResponse) as info:
        bot.get_me()
    assert info.value.status == 200
    assert_no_token(info.value)


def test_error_body_missing_fields_still_typed(tg: FakeBotApi, bot: Client) -> None:
    tg.add_fault(Fault(method="getMe", status=403, raw_body=b'{"ok": false}'))
    with pytest.raises(Forbidden) as info:
        bot.get_me()
    assert info.value.error_code == 403
    assert info.value.description == "HTTP 403"


# -- network failures never leak the token ----------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_connection_refused(bot: Client) -> None:
    with Client(TOKEN, base_url=f"http://127.0.0.1:{_closed_port()}") as client:
        with pytest.raises(ConnectError) as info:
            client.send_message(1, "x")
        assert info.value.may_have_reached is False
        assert info.value.method == "sendMessage"
        assert_no_token(info.value)
        with pytest.raises(ConnectError) as info2:
            client.download_bytes("x")
        assert_no_token(info2.value)


def test_read_timeout_may_have_reached(tg: FakeBotApi) -> None:
    tg.add_fault(Fault(method="sendMessage", latency=2.0, times=1))
    with Client(TOKEN, base_url=tg.base_url, read_timeout=0.2) as client:
        with pytest.raises(ReadTimeout) as info:
            client.send_message(1, "x")
        assert info.value.may_have_reached is True
        assert_no_token(info.value)


def test_dropped_connection_after_processing(tg: FakeBotApi, bot: Client) -> None:
    tg.add_fault(Fault(method="sendMessage", drop="after", times=1))
    with pytest.raises(ConnectionLost) as info:
        bot.send_message(1, "x")
    assert info.value.may_have_reached is True
    assert_no_token(info.value)
    assert len(tg.calls_to("sendMessage")) == 1  # it did reach "Telegram"
    assert bot.send_message(1, "y")["text"] == "y"  # the pool recovers


def test_long_poll_read_timeout_outlasts_the_poll(tg: FakeBotApi) -> None:
    with Client(TOKEN, base_url=tg.base_url, read_timeout=0.2, long_poll_margin=5) as client:
        assert client.get_updates(timeout=1) == []  # 1 s poll > 0.2 s plain read timeout


def test_get_updates_returns_injected_updates(tg: FakeBotApi, bot: Client) -> None:
    tg.inject_message(1001, "hello")
    (update,) = bot.get_updates(timeout=0)
    assert update["message"]["text"] == "hello"
    assert bot.get_updates(offset=update["update_id"] + 1, timeout=0) == []
