"""Parameter decoding: encodings, multipart, and coercion by the spec's types."""

from __future__ import annotations

import json

import pytest

from actorbot.testing._decode import coerce, parse_multipart, parse_request, require_int
from actorbot.testing._errors import FakeApiError


def test_query_and_body_merge_with_body_winning() -> None:
    params, uploads = parse_request(
        "chat_id=1&text=q", "application/x-www-form-urlencoded", b"text=body"
    )
    assert params == {"chat_id": "1", "text": "body"}
    assert uploads == {}


def test_json_body_must_be_an_object() -> None:
    with pytest.raises(FakeApiError, match="can't parse JSON object"):
        parse_request("", "application/json", b"[1, 2]")


def test_content_type_parameters_are_ignored() -> None:
    params, _ = parse_request("", "application/json; charset=utf-8", b'{"a": 1}')
    assert params == {"a": 1}


def test_multipart_fields_and_files() -> None:
    boundary = "b0und"
    body = (
        b"--b0und\r\n"
        b'Content-Disposition: form-data; name="chat_id"\r\n\r\n'
        b"42\r\n"
        b"--b0und\r\n"
        b'Content-Disposition: form-data; name="photo"; filename="a \\"b\\".jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n"
        b"\x00\r\n\x01binary\r\n"
        b"--b0und--\r\n"
    )
    params, uploads = parse_request("", f'multipart/form-data; boundary="{boundary}"', body)
    assert params == {"chat_id": "42"}
    up = uploads["photo"]
    assert up.filename == 'a "b".jpg'
    assert up.content_type == "image/jpeg"
    assert up.data == b"\x00\r\n\x01binary"


def test_multipart_without_boundary_or_parts_is_rejected() -> None:
    with pytest.raises(FakeApiError, match="boundary"):
        parse_request("", "multipart/form-data", b"x")
    with pytest.raises(FakeApiError, match="multipart"):
        parse_multipart(b"garbage", b"zz")


def test_coerce_by_method_kinds() -> None:
    markup = {"inline_keyboard": []}
    params = coerce(
        "sendMessage",
        {
            "chat_id": "-100",
            "text": "007",
            "disable_notification": "True",
            "protect_content": "0",
            "reply_markup": json.dumps(markup),
            "message_thread_id": "12",
            "unknown_param": "{}",
        },
    )
    assert params == {
        "chat_id": -100,
        "text": "007",
        "disable_notification": True,
        "protect_content": False,
        "reply_markup": markup,
        "message_thread_id": 12,
        "unknown_param": "{}",
    }


def test_coerce_leaves_unparsable_values_for_the_handler() -> None:
    params = coerce("sendLocation", {"latitude": "north", "longitude": "1.5", "chat_id": "@x"})
    assert params == {"latitude": "north", "longitude": 1.5, "chat_id": "@x"}
    assert coerce("sendMessage", {"reply_markup": "{broken"}) == {"reply_markup": "{broken"}


def test_numbers_for_text_become_strings() -> None:
    assert coerce("sendMessage", {"text": 5, "chat_id": 1}) == {"text": "5", "chat_id": 1}


def test_require_int() -> None:
    assert require_int({"message_id": 3}, "message_id") == 3
    with pytest.raises(FakeApiError, match="invalid message_id specified"):
        require_int({"message_id": "x"}, "message_id")
    with pytest.raises(FakeApiError):
        require_int({"message_id": True}, "message_id")
