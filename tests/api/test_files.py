"""How uploads become multipart parts; the round trip over HTTP is in test_client.py."""

from __future__ import annotations

import io
import json
from contextlib import ExitStack
from pathlib import Path

from actorbot.api import InputFile
from actorbot.api._files import has_upload, is_upload, multipart


def test_strings_are_never_uploads() -> None:
    assert not is_upload("AgACAgIAAxkBAAIC")  # a file_id
    assert not is_upload("https://example.org/a.png")
    assert is_upload(b"x")
    assert is_upload(Path("a.png"))
    assert is_upload(io.BytesIO(b"x"))
    assert is_upload(InputFile(b"x", filename="a.txt"))


def test_top_level_and_nested_uploads(tmp_path: Path) -> None:
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(b"JPEG")
    params = {
        "chat_id": 5,
        "disable_notification": True,
        "media": [
            {"type": "photo", "media": photo, "caption": None},
            {"type": "photo", "media": "existing-file-id"},
            {"type": "document", "media": InputFile(b"DOC", "r.pdf", "application/pdf")},
        ],
    }
    assert has_upload(params)
    with ExitStack() as stack:
        data, files = multipart(params, stack)
        assert data["chat_id"] == "5"
        assert data["disable_notification"] == "true"
        media = json.loads(data["media"])
        assert media == [
            {"type": "photo", "media": "attach://file0"},
            {"type": "photo", "media": "existing-file-id"},
            {"type": "document", "media": "attach://file1"},
        ]
        assert files["file0"][0] == "cat.jpg"
        assert files["file1"] == ("r.pdf", b"DOC", "application/pdf")
        handle = files["file0"][1]
        assert not isinstance(handle, bytes)
        assert handle.read() == b"JPEG"
    assert handle.closed  # files the client opened are closed with the call


def test_top_level_upload_uses_param_name_and_file_object_name(tmp_path: Path) -> None:
    with ExitStack() as stack:
        _, files = multipart({"chat_id": 1, "document": b"raw"}, stack)
        assert files["document"] == ("document", b"raw", "application/octet-stream")
        fh = stack.enter_context((tmp_path / "notes.txt").open("wb+"))
        _, files = multipart({"document": fh}, stack)
        assert files["document"][0] == "notes.txt"
