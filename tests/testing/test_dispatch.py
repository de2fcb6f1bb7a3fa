"""The HTTP surface of the Bot API: paths, tokens, method names, encodings, records."""

from __future__ import annotations

import json

import pytest
import requests

from actorbot.api._methods import METHODS
from actorbot.testing import FakeBotApi
from tests.corpus import ERRORS as ERRORS_JSON
from tests.testing.fake_helpers import Api, expect_error

ERRORS = json.loads(ERRORS_JSON.read_text(encoding="utf-8"))


def test_get_me_over_get_and_post(tg: FakeBotApi, session: requests.Session) -> None:
    got = session.get(f"{tg.api_url}/getMe").json()
    posted = session.post(f"{tg.api_url}/getMe").json()
    assert got == posted == {"ok": True, "result": tg.bot_user}
    assert tg.bot_user["id"] == tg.bot_id == 123456
    assert tg.bot_user["is_bot"] is True
    assert tg.base_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    "token",
    [
        "123456",  # no colon
        "abc:def",  # non-numeric bot id
        "0123:abc",  # leading zero
        "123:" + "x" * 80,  # too long
        "-5:abc",
        "99999999999999999999:abc",  # out of range
    ],
)
def test_syntactically_invalid_token_is_401_invalid_token(
    tg: FakeBotApi, session: requests.Session, token: str
) -> None:
    resp = session.get(f"{tg.base_url}/bot{token}/getMe")
    expect_error(resp, 401, "Unauthorized: invalid token specified")


def test_wrong_token_is_401_unauthorized(tg: FakeBotApi, session: requests.Session) -> None:
    resp = session.get(f"{tg.base_url}/bot654321:OTHER-token/getMe")
    expect_error(resp, 401, "Unauthorized")
    assert tg.calls == []
    assert tg.stats["unauthorized"] == 1


def test_error_bodies_match_errors_json(tg: FakeBotApi, session: requests.Session) -> None:
    by_text = {e["body"]["description"]: e for e in ERRORS["errors"] if isinstance(e["body"], dict)}
    assert len(by_text) > 4
    cases = {
        "Unauthorized": session.get(f"{tg.base_url}/bot1:x/getMe"),
        "Unauthorized: invalid token specified": session.get(f"{tg.base_url}/botnope/getMe"),
        "Not Found: method not found": session.get(f"{tg.api_url}/noSuchMethod"),
        "Not Found": session.get(f"{tg.base_url}/favicon.ico"),
    }
    for text, resp in cases.items():
        ref = by_text[text]
        assert resp.status_code == ref["http_status"]
        assert resp.json() == ref["body"]


def test_unknown_method_is_404_and_recorded(tg: FakeBotApi, session: requests.Session) -> None:
    expect_error(session.post(f"{tg.api_url}/sendMesage"), 404, "Not Found: method not found")
    assert [(c.method, c.status) for c in tg.calls] == [("sendMesage", 404)]


@pytest.mark.parametrize(
    "path",
    ["/", "/bot", "/bot123456:TEST-token", "/bot123456:TEST-token/", "/bot1:a/b/c", "/x/getMe"],
)
def test_malformed_paths_are_404_not_found(
    tg: FakeBotApi, session: requests.Session, path: str
) -> None:
    expect_error(session.get(tg.base_url + path), 404, "Not Found")


@pytest.mark.parametrize("name", ["sendmessage", "SENDMESSAGE", "SendMessage", "sendMessage"])
def test_method_names_are_case_insensitive(
    tg: FakeBotApi, session: requests.Session, name: str
) -> None:
    resp = session.post(f"{tg.api_url}/{name}", json={"chat_id": 1, "text": "hi"})
    assert resp.json()["result"]["text"] == "hi"
    assert tg.calls[-1].method == "sendMessage"
    assert len(tg.calls_to("SENDmessage")) == 1


def test_get_with_query_string_decodes_types(tg: FakeBotApi, session: requests.Session) -> None:
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
    resp = session.get(
        f"{tg.api_url}/sendMessage",
        params={"chat_id": "42", "text": "123", "reply_markup": json.dumps(markup)},
    )
    msg = resp.json()["result"]
    assert msg["chat"]["id"] == 42
    assert msg["text"] == "123"  # a string parameter stays a string even if numeric
    assert msg["reply_markup"] == markup
    assert tg.calls[0].params == {"chat_id": 42, "text": "123", "reply_markup": markup}


def test_urlencoded_form_coerces_ints_and_bools(tg: FakeBotApi, session: requests.Session) -> None:
    resp = session.post(
        f"{tg.api_url}/sendMessage",
        data={"chat_id": "-100123", "text": "x", "disable_notification": "true"},
    )
    assert resp.status_code == 200
    params = tg.calls[0].params
    assert params == {"chat_id": -100123, "text": "x", "disable_notification": True}


def test_username_chat_id_stays_a_string(tg: FakeBotApi, api: Api) -> None:
    tg.add_chat(-1001, "channel", title="News", username="news")
    resp = api("sendMessage", chat_id="@news", text="hello")
    assert resp.json()["result"]["chat"] == {
        "id": -1001,
        "title": "News",
        "username": "news",
        "type": "channel",
    }
    assert tg.calls[0].params["chat_id"] == "@news"


def test_json_body_with_object_params(tg: FakeBotApi, api: Api) -> None:
    markup = {"inline_keyboard": [[{"text": "a", "url": "https://example.org"}]]}
    msg = api("sendMessage", chat_id=7, text="t", reply_markup=markup).json()["result"]
    assert msg["reply_markup"] == markup


def test_json_body_with_json_string_params(tg: FakeBotApi, api: Api) -> None:
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "c"}]]}
    msg = api("sendMessage", chat_id=7, text="t", reply_markup=json.dumps(markup)).json()
    assert msg["result"]["reply_markup"] == markup


def test_bad_json_body_is_400(tg: FakeBotApi, session: requests.Session) -> None:
    resp = session.post(
        f"{tg.api_url}/sendMessage", data=b"{nope", headers={"Content-Type": "application/json"}
    )
    expect_error(resp, 400, "Bad Request: can't parse JSON object")
    assert tg.calls[0].status == 400


def test_multipart_upload_and_download_back(tg: FakeBotApi, session: requests.Session) -> None:
    content = bytes(range(256)) * 10
    resp = session.post(
        f"{tg.api_url}/sendDocument",
        data={"chat_id": "5", "caption": "the file"},
        files={"document": ("report.pdf", content, "application/pdf")},
    )
    doc = resp.json()["result"]["document"]
    assert doc["file_name"] == "report.pdf"
    assert doc["mime_type"] == "application/pdf"
    assert doc["file_size"] == len(content)
    assert tg.calls[0].files == {"document": content}
    assert tg.calls[0].params == {"chat_id": 5, "caption": "the file"}

    file_obj = session.get(f"{tg.api_url}/getFile", params={"file_id": doc["file_id"]}).json()
    assert file_obj["result"]["file_id"] == doc["file_id"]
    path = file_obj["result"]["file_path"]
    assert path.startswith("documents/")
    assert path.endswith(".pdf")
    download = session.get(tg.file_url(path))
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["Content-Type"] == "application/pdf"


def test_download_of_unknown_path_is_404(tg: FakeBotApi, session: requests.Session) -> None:
    expect_error(session.get(tg.file_url("documents/file_99.pdf")), 404, "Not Found")
    resp = session.get(f"{tg.base_url}/file/bot654321:other/documents/file_1.bin")
    expect_error(resp, 401, "Unauthorized")


def test_unmodelled_real_methods_answer_true_and_are_recorded(
    tg: FakeBotApi, session: requests.Session
) -> None:
    resp = session.post(f"{tg.api_url}/setChatTitle", json={"chat_id": -5, "title": "New"})
    assert resp.json() == {"ok": True, "result": True}
    assert tg.calls[0].method == "setChatTitle"
    assert tg.calls[0].params == {"chat_id": -5, "title": "New"}


def test_every_real_method_is_reachable(tg: FakeBotApi, session: requests.Session) -> None:
    for name in METHODS:
        resp = session.post(f"{tg.api_url}/{name}")
        assert resp.status_code in (200, 400), (name, resp.text)
        assert resp.json()["ok"] is (resp.status_code == 200)
    assert len(tg.calls) == len(METHODS)


def test_missing_required_parameters(tg: FakeBotApi, api: Api) -> None:
    expect_error(api("sendMessage", chat_id=1), 400, "Bad Request: message text is empty")
    expect_error(api("sendMessage", chat_id=1, text=""), 400, "Bad Request: message text is empty")
    expect_error(api("sendMessage", text="x"), 400, "Bad Request: chat_id is empty")
    expect_error(
        api("sendLocation", chat_id=1, latitude=1.5),
        400,
        'Bad Request: parameter "longitude" is required',
    )
    expect_error(
        api("answerCallbackQuery"), 400, 'Bad Request: parameter "callback_query_id" is required'
    )
    assert [c.status for c in tg.calls] == [400] * 5


def test_responses_are_compact_utf8_json(tg: FakeBotApi, api: Api) -> None:
    resp = api("sendMessage", chat_id=1, text="Привет 👋")
    assert "Привет 👋".encode() in resp.content
    assert resp.json()["result"]["text"] == "Привет 👋"
