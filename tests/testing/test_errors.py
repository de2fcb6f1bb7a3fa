"""Error bodies and texts, compared with the reference data where it has them."""

from __future__ import annotations

import json

import pytest

from actorbot.testing import FakeApiError
from actorbot.testing import _errors as errs
from tests.corpus import ERRORS


def test_body_has_parameters_only_when_set() -> None:
    assert FakeApiError(400, "Bad Request: x").body() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: x",
    }
    assert errs.migrated(-100).body()["parameters"] == {"migrate_to_chat_id": -100}


@pytest.mark.parametrize(
    ("delay", "seconds"), [(0.001, 1), (1.0, 1), (1.2, 2), (2.5, 3), (17.0, 17)]
)
def test_retry_after_rounds_up_to_whole_seconds(delay: float, seconds: int) -> None:
    assert errs.retry_after_seconds(delay) == seconds
    err = errs.too_many_requests(seconds)
    assert err.headers == (("Retry-After", str(seconds)),)
    assert err.description == f"Too Many Requests: retry after {seconds}"


def test_missing_param_texts() -> None:
    assert errs.missing_param("sendMessage", "text").description == errs.TEXT_EMPTY
    assert errs.missing_param("sendPhoto", "chat_id").description == "Bad Request: chat_id is empty"
    assert (
        errs.missing_param("sendPhoto", "photo").description
        == 'Bad Request: parameter "photo" is required'
    )


def test_constants_match_errors_json() -> None:
    documented = {
        e["body"]["description"] if isinstance(e["body"], dict) else e["body"]
        for e in json.loads(ERRORS.read_text(encoding="utf-8"))["errors"]
    }
    ours = [
        errs.UNAUTHORIZED,
        errs.INVALID_TOKEN,
        errs.NOT_FOUND,
        errs.METHOD_NOT_FOUND,
        errs.CONFLICT_WEBHOOK_ACTIVE,
        errs.CONFLICT_OTHER_POLL,
        errs.CONFLICT_SET_WEBHOOK,
        errs.BLOCKED,
        errs.MIGRATED,
        errs.CHAT_NOT_FOUND,
        errs.QUERY_INVALID,
        errs.NOT_MODIFIED,
        errs.RESTART,
        errs.NGINX_502,
    ]
    assert [text for text in ours if text not in documented] == []
