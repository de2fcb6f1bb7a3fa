"""initData and Login Widget validation: a Telegram-signed vector, our own signed vectors,
and every way of tampering with them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import pytest

from actorbot import webapp
from actorbot.webapp import _ed25519, _initdata
from actorbot.webapp._initdata import (
    InitDataInvalid,
    LoginInvalid,
    validate_init_data,
    validate_init_data_signature,
    validate_login_widget,
)

# The example initData published with Telegram Mini Apps' init-data-golang: signed by
# Telegram for the demo bot 7342037359 (hash with its token, signature with the
# production Ed25519 key).
TG_TOKEN = "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4"
TG_BOT_ID = 7342037359
TG_INIT_DATA = (
    "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F"
    "%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_"
    "code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22pho"
    "to_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATH"
    "a57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=pr"
    "ivate&auth_date=1733509682&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72A"
    "PCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg&hash=a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c11fe"
    "5729cae6796a36d73"
)
TG_AUTH_DATE = 1733509682

TOKEN = "123456:OUR-secret-token"
BOT_ID = 123456
NOW = 1_760_000_000
SECRET = bytes(range(32))  # our own "Telegram" Ed25519 key, for third-party vectors
PUBLIC = _ed25519.public_key(SECRET)
USER = {"id": 42, "first_name": "Ann", "username": "ann", "language_code": "en"}


def check_string(fields: Mapping[str, str], skip: tuple[str, ...]) -> bytes:
    return "\n".join(f"{k}={v}" for k, v in sorted(fields.items()) if k not in skip).encode()


def init_fields(token: str = TOKEN, *, bot_id: int = BOT_ID, **extra: str) -> dict[str, str]:
    """initData fields as Telegram builds them: signature first, then the hash over all."""
    fields = {"query_id": "AAF", "user": json.dumps(USER, separators=(",", ":")),
              "auth_date": str(NOW - 60), **extra}
    message = f"{bot_id}:WebAppData\n".encode() + check_string(fields, ("hash", "signature"))
    sig = base64.urlsafe_b64encode(_ed25519.sign(SECRET, message)).decode().rstrip("=")
    fields["signature"] = sig
    key = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(key, check_string(fields, ("hash",)), hashlib.sha256).hexdigest()
    return fields


def signed(**extra: str) -> str:
    return urlencode(init_fields(**extra))


def reason_of(call: Any) -> str:
    with pytest.raises(webapp.AuthDataInvalid) as info:
        call()
    assert TOKEN not in f"{info.value} {info.value!r}"
    return info.value.reason


# -- Telegram's own vector ------------------------------------------------------------------


def test_telegram_signed_init_data_validates_with_the_token() -> None:
    data = validate_init_data(TG_INIT_DATA, TG_TOKEN, now=TG_AUTH_DATE + 10)
    assert data.auth_date == TG_AUTH_DATE
    assert data.user_id == 279058397
    assert data.user is not None
    assert data.user["first_name"] == "Vladislav + - ? /"  # JSON "\\/" is "/"
    assert data.user["is_premium"] is True
    assert (data.chat_type, data.chat_instance) == ("private", "8134722200314281151")
    assert data.query_id is None
    assert data.fields["hash"].startswith("a433d8")


def test_telegram_signed_init_data_validates_without_the_token() -> None:
    data = validate_init_data_signature(TG_INIT_DATA, TG_BOT_ID, now=TG_AUTH_DATE + 10)
    assert data.user_id == 279058397
    assert reason_of(lambda: validate_init_data_signature(
        TG_INIT_DATA, TG_BOT_ID, test_env=True, now=TG_AUTH_DATE)) == "signature_mismatch"
    assert reason_of(lambda: validate_init_data_signature(
        TG_INIT_DATA, TG_BOT_ID + 1, now=TG_AUTH_DATE)) == "signature_mismatch"


def test_telegram_vector_refused_with_another_token_or_too_late() -> None:
    assert reason_of(lambda: validate_init_data(
        TG_INIT_DATA, TOKEN, now=TG_AUTH_DATE)) == "hash_mismatch"
    assert reason_of(lambda: validate_init_data(TG_INIT_DATA, TG_TOKEN)) == "expired"


# -- our vectors: HMAC ------------------------------------------------------------------------


def test_own_vector_round_trip_and_parsed_fields() -> None:
    raw = signed(start_param="ref_7", chat_type="sender", can_send_after="5")
    data = validate_init_data(raw, TOKEN, now=NOW)
    assert data.user == USER
    assert data.user_id == 42
    assert (data.query_id, data.start_param, data.chat_type) == ("AAF", "ref_7", "sender")
    assert data.can_send_after == 5
    assert data.auth_date == NOW - 60
    assert (data.receiver, data.chat) == (None, None)
    assert "hash" not in repr(data)
    assert TOKEN not in repr(data)


@pytest.mark.parametrize("field", ["user", "auth_date", "query_id", "signature"])
def test_any_changed_field_breaks_the_hash(field: str) -> None:
    fields = init_fields()
    fields[field] = fields[field].replace("4", "5").replace("A", "B").replace("a", "b")
    assert reason_of(lambda: validate_init_data(urlencode(fields), TOKEN, now=NOW)) == (
        "hash_mismatch")


def test_added_or_removed_field_breaks_the_hash() -> None:
    fields = init_fields()
    added = {**fields, "start_param": "x"}
    assert reason_of(lambda: validate_init_data(urlencode(added), TOKEN, now=NOW)) == (
        "hash_mismatch")
    del fields["query_id"]
    assert reason_of(lambda: validate_init_data(urlencode(fields), TOKEN, now=NOW)) == (
        "hash_mismatch")


def test_wrong_or_missing_hash() -> None:
    fields = init_fields()
    fields["hash"] = "0" * 64
    assert reason_of(lambda: validate_init_data(urlencode(fields), TOKEN, now=NOW)) == (
        "hash_mismatch")
    fields["hash"] = "not hex at all ✓"
    assert reason_of(lambda: validate_init_data(urlencode(fields), TOKEN, now=NOW)) == (
        "hash_mismatch")
    del fields["hash"]
    assert reason_of(lambda: validate_init_data(urlencode(fields), TOKEN, now=NOW)) == (
        "missing_hash")
    assert reason_of(lambda: validate_init_data("", TOKEN, now=NOW)) == "missing_hash"


def test_uppercase_hash_is_the_same_hash() -> None:
    fields = init_fields()
    fields["hash"] = fields["hash"].upper()
    assert validate_init_data(urlencode(fields), TOKEN, now=NOW).user_id == 42


def test_the_digests_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(_initdata.hmac, "compare_digest", spy)
    fields = init_fields()
    validate_init_data(urlencode(fields), TOKEN, now=NOW)
    assert compared == [(fields["hash"].encode(), fields["hash"].encode())]


def test_duplicated_keys_are_refused_even_if_one_copy_is_signed() -> None:
    raw = signed() + "&user=" + json.dumps({"id": 1})
    assert reason_of(lambda: validate_init_data(raw, TOKEN, now=NOW)) == "duplicate_field"
    raw = "hash=00&" + signed()
    assert reason_of(lambda: validate_init_data(raw, TOKEN, now=NOW)) == "duplicate_field"


def test_a_field_smuggled_into_another_ones_value_is_refused() -> None:
    """'a=1' + 'b=2' and 'a=1\\nb=2' have the same data-check-string: refuse newlines."""
    key = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    honest = {"auth_date": str(NOW), "query_id": "Q", "user": json.dumps(USER)}
    digest = hmac.new(key, check_string(honest, ()), hashlib.sha256).hexdigest()
    merged = {"auth_date": f"{NOW}\nquery_id=Q\nuser={json.dumps(USER)}", "hash": digest}
    assert check_string(merged, ("hash",)) == check_string(honest, ())  # the attack is real
    assert reason_of(lambda: validate_init_data(urlencode(merged), TOKEN, now=NOW)) == (
        "malformed")
    equals_in_key = {"auth_date": str(NOW), "user=x": "y", "hash": digest}
    assert reason_of(lambda: validate_init_data(urlencode(equals_in_key), TOKEN, now=NOW)) == (
        "malformed")


def test_auth_date_max_age() -> None:
    raw = signed()  # auth_date = NOW - 60
    assert validate_init_data(raw, TOKEN, max_age=60, now=NOW).auth_date == NOW - 60
    assert reason_of(lambda: validate_init_data(raw, TOKEN, max_age=59, now=NOW)) == "expired"
    assert reason_of(lambda: validate_init_data(raw, TOKEN, now=NOW + 86_400)) == "expired"
    assert validate_init_data(raw, TOKEN, max_age=None, now=NOW + 10**9).user_id == 42


def test_missing_or_malformed_auth_date() -> None:
    fields = init_fields()
    del fields["auth_date"]
    key = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(key, check_string(fields, ("hash",)), hashlib.sha256).hexdigest()
    assert reason_of(lambda: validate_init_data(urlencode(fields), TOKEN, now=NOW)) == (
        "missing_auth_date")
    raw = urlencode(init_fields(auth_date="yesterday"))
    assert reason_of(lambda: validate_init_data(raw, TOKEN, now=NOW)) == "malformed"


def test_signed_but_broken_json_is_malformed() -> None:
    raw = urlencode(init_fields(user="{not json"))
    assert reason_of(lambda: validate_init_data(raw, TOKEN, now=NOW)) == "malformed"
    raw = urlencode(init_fields(chat="[1, 2]"))
    assert reason_of(lambda: validate_init_data(raw, TOKEN, now=NOW)) == "malformed"


def test_not_a_query_string() -> None:
    assert reason_of(lambda: validate_init_data("a=1&&b", TOKEN, now=NOW)) == "malformed"
    assert reason_of(lambda: validate_init_data("x=%FF", TOKEN, now=NOW)) == "malformed"
    assert reason_of(lambda: validate_init_data("a=" + "x" * 20_000, TOKEN)) == "malformed"


def test_bad_arguments_raise_type_errors_without_the_token() -> None:
    with pytest.raises(TypeError, match="initData must be a str"):
        validate_init_data(b"hash=00", TOKEN)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="token") as info:
        validate_init_data(signed(), "")
    assert TOKEN not in str(info.value)
    with pytest.raises(TypeError, match="bot_id"):
        validate_init_data_signature(signed(), "123456")  # type: ignore[arg-type]


# -- our vectors: third-party Ed25519 -----------------------------------------------------------


def test_own_signature_round_trip() -> None:
    data = validate_init_data_signature(signed(), BOT_ID, public_key=PUBLIC, now=NOW)
    assert data.user_id == 42
    assert data.fields["signature"]


def test_signature_ignores_the_hash_but_not_the_fields() -> None:
    fields = init_fields()
    fields["hash"] = "0" * 64  # third parties cannot check it: it does not matter here
    assert validate_init_data_signature(
        urlencode(fields), BOT_ID, public_key=PUBLIC, now=NOW).user_id == 42
    fields["query_id"] = "AAG"
    assert reason_of(lambda: validate_init_data_signature(
        urlencode(fields), BOT_ID, public_key=PUBLIC, now=NOW)) == "signature_mismatch"


def test_signature_for_another_bot_or_key_is_refused() -> None:
    raw = signed()
    assert reason_of(lambda: validate_init_data_signature(
        raw, BOT_ID + 1, public_key=PUBLIC, now=NOW)) == "signature_mismatch"
    assert reason_of(lambda: validate_init_data_signature(raw, BOT_ID, now=NOW)) == (
        "signature_mismatch")  # Telegram's production key did not sign it


def test_missing_or_undecodable_signature() -> None:
    fields = init_fields()
    fields["signature"] = "not*base64"
    assert reason_of(lambda: validate_init_data_signature(
        urlencode(fields), BOT_ID, public_key=PUBLIC, now=NOW)) == "malformed"
    fields["signature"] = base64.urlsafe_b64encode(b"short").decode()
    assert reason_of(lambda: validate_init_data_signature(
        urlencode(fields), BOT_ID, public_key=PUBLIC, now=NOW)) == "signature_mismatch"
    del fields["signature"]
    assert reason_of(lambda: validate_init_data_signature(
        urlencode(fields), BOT_ID, public_key=PUBLIC, now=NOW)) == "missing_signature"


def test_signature_checks_age_too() -> None:
    assert reason_of(lambda: validate_init_data_signature(
        signed(), BOT_ID, public_key=PUBLIC, max_age=10, now=NOW)) == "expired"


# -- Login Widget ------------------------------------------------------------------------------


def login_fields(token: str = TOKEN, **values: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"id": 42, "first_name": "Ann", "username": "ann",
                              "photo_url": "https://t.me/i/userpic/320/ann.jpg",
                              "auth_date": NOW - 5, **values}
    key = hashlib.sha256(token.encode()).digest()
    text = check_string({k: str(v) for k, v in fields.items()}, ())
    fields["hash"] = hmac.new(key, text, hashlib.sha256).hexdigest()
    return fields


def test_login_widget_mapping_and_query_string() -> None:
    fields = login_fields()
    user = validate_login_widget(fields, TOKEN, now=NOW)
    assert (user.id, user.first_name, user.username, user.auth_date) == (42, "Ann", "ann",
                                                                         NOW - 5)
    assert user.last_name is None
    assert validate_login_widget(urlencode(fields), TOKEN, now=NOW) == user
    as_strings = {k: str(v) for k, v in fields.items()}
    assert validate_login_widget({**as_strings, "last_name": None}, TOKEN, now=NOW) == user


def test_login_widget_refusals() -> None:
    fields = login_fields()
    assert reason_of(lambda: validate_login_widget({**fields, "id": 43}, TOKEN, now=NOW)) == (
        "hash_mismatch")
    assert reason_of(lambda: validate_login_widget(fields, "1:other", now=NOW)) == (
        "hash_mismatch")
    assert reason_of(lambda: validate_login_widget(fields, TOKEN, now=NOW + 86_400)) == (
        "expired")
    no_hash = {k: v for k, v in fields.items() if k != "hash"}
    assert reason_of(lambda: validate_login_widget(no_hash, TOKEN, now=NOW)) == "missing_hash"
    assert reason_of(lambda: validate_login_widget({**fields, "x": True}, TOKEN)) == (
        "malformed")
    assert reason_of(lambda: validate_login_widget(
        urlencode(fields) + "&id=1", TOKEN, now=NOW)) == "duplicate_field"
    bad_id = login_fields(id="ann")
    assert reason_of(lambda: validate_login_widget(bad_id, TOKEN, now=NOW)) == "malformed"
    # A Mini App's key is not the Login Widget's key.
    assert reason_of(lambda: validate_login_widget(signed(), TOKEN, now=NOW)) == (
        "hash_mismatch")
    with pytest.raises(LoginInvalid):
        validate_login_widget(no_hash, TOKEN)
    with pytest.raises(TypeError, match="mapping"):
        validate_login_widget([("id", 1)], TOKEN)  # type: ignore[arg-type]


def test_errors_are_typed_value_errors() -> None:
    with pytest.raises(InitDataInvalid) as info:
        validate_init_data("auth_date=1", TOKEN)
    assert isinstance(info.value, ValueError)
    assert info.value.reason == "missing_hash"
    assert str(info.value) == "missing_hash"
