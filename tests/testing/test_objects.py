"""Object shapes: chat types from ids, Chat/User dicts, file paths and media objects."""

from __future__ import annotations

import pytest

from actorbot.testing._objects import (
    ChatInfo,
    StoredFile,
    UserInfo,
    chat_type_for,
    media_object,
    mime_for,
    path_for,
)


@pytest.mark.parametrize(
    ("chat_id", "kind"),
    [
        (1, "private"),
        (7000000001, "private"),
        (-1, "group"),
        (-999999999999, "group"),
        (-1000000000000, "supergroup"),
        (-1009000000101, "supergroup"),
    ],
)
def test_chat_type_for(chat_id: int, kind: str) -> None:
    assert chat_type_for(chat_id) == kind


def test_chat_dicts() -> None:
    assert ChatInfo(5, "private").to_dict() == {"id": 5, "first_name": "User5", "type": "private"}
    assert ChatInfo(-5, "group", title="G", username="g").to_dict() == {
        "id": -5,
        "title": "G",
        "username": "g",
        "type": "group",
    }


def test_user_dict() -> None:
    assert UserInfo(7, "Ann", language_code=None).to_dict() == {
        "id": 7,
        "is_bot": False,
        "first_name": "Ann",
    }


def test_paths_and_mime_types() -> None:
    assert path_for("photo", 3, "x.png") == "photos/file_3.jpg"
    assert path_for("document", 4, "report.PDF") == "documents/file_4.PDF"
    assert path_for("document", 5, "noext") == "documents/file_5.bin"
    assert mime_for("voice", "application/octet-stream") == "audio/ogg"
    assert mime_for("document", "text/plain") == "text/plain"


def test_video_note_has_length_not_size() -> None:
    f = StoredFile("id", "uid", b"abc", "v.mp4", "video/mp4", "video_notes/file_1.mp4")
    obj = media_object("video_note", f, {"duration": 3}, [])
    assert obj == {
        "file_id": "id",
        "file_unique_id": "uid",
        "file_size": 3,
        "mime_type": "video/mp4",
        "duration": 3,
        "length": 240,
    }
