from __future__ import annotations

from actorbot.api._redact import REDACTED, redact

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_exact_and_url_encoded_token() -> None:
    text = f"GET /bot{TOKEN}/getMe and /bot123456789%3AAAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/x"
    out = redact(text, TOKEN)
    assert TOKEN not in out
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in out
    assert out.count(REDACTED) == 2


def test_token_shaped_text_without_knowing_the_token() -> None:
    assert redact(f"url=https://api.telegram.org/bot{TOKEN}/sendMessage") == (
        f"url=https://api.telegram.org/bot{REDACTED}/sendMessage"
    )


def test_short_test_token_given_explicitly() -> None:
    assert redact("x 1:abc y", "1:abc") == f"x {REDACTED} y"


def test_plain_numbers_untouched() -> None:
    assert redact("chat 12345 said 10:30") == "chat 12345 said 10:30"
