"""Build Bot API objects (User, Chat, Message, files) shaped like the real server's.

Pure functions over plain dicts: the state module decides *what* exists, these decide how
it looks on the wire, so the shapes are in one place and easy to compare with
the update samples in ``tests/data/botapi/updates``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Final

Json = dict[str, Any]

PRIVATE: Final = "private"
GROUP: Final = "group"
SUPERGROUP: Final = "supergroup"
CHANNEL: Final = "channel"
CHAT_TYPES: Final = (PRIVATE, GROUP, SUPERGROUP, CHANNEL)


def chat_type_for(chat_id: int) -> str:
    """Telegram's id convention: users > 0, supergroups/channels -100..., basic groups < 0."""
    if chat_id > 0:
        return PRIVATE
    if chat_id <= -1_000_000_000_000:
        return SUPERGROUP
    return GROUP


@dataclass(slots=True)
class ChatInfo:
    """What the fake knows about a chat (declared with ``add_chat`` or guessed from its id)."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    is_forum: bool = False

    def to_dict(self) -> Json:
        out: Json = {"id": self.id}
        if self.type == PRIVATE:
            out["first_name"] = self.first_name or f"User{self.id}"
            if self.last_name:
                out["last_name"] = self.last_name
        else:
            out["title"] = self.title or f"Chat {self.id}"
        if self.username:
            out["username"] = self.username
        if self.is_forum:
            out["is_forum"] = True
        out["type"] = self.type
        return out


@dataclass(slots=True)
class UserInfo:
    """A (non-bot) user that injected updates come from."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False
    extra: Json = field(default_factory=dict)

    def to_dict(self) -> Json:
        out: Json = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        out.update(self.extra)
        return out


def bot_user(bot_id: int, first_name: str, username: str) -> Json:
    """The User that getMe returns (and that bot messages come ``from``)."""
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": first_name,
        "username": username,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def now() -> int:
    """Message dates are Unix seconds, like Telegram's."""
    return int(time.time())


@dataclass(slots=True)
class StoredFile:
    """A file the fake holds: uploaded, added by a test, or referenced by URL."""

    file_id: str
    file_unique_id: str
    data: bytes
    filename: str
    mime_type: str
    file_path: str

    def base(self) -> Json:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }

    def to_file(self) -> Json:
        """The ``File`` object getFile returns."""
        return {**self.base(), "file_path": self.file_path}


_PHOTO_SIZES: Final = ((90, 67), (320, 240), (800, 600))


def media_object(kind: str, f: StoredFile, params: Json, sizes: list[StoredFile]) -> Any:
    """The Message field for a sent file of ``kind`` (``photo`` is a list of PhotoSize).

    ``sizes`` are extra stored copies for the smaller photo sizes, each with its own file_id
    as Telegram gives them.
    """
    if kind == "photo":
        out = []
        for (width, height), size in zip(_PHOTO_SIZES, [*sizes, f], strict=False):
            out.append({**size.base(), "width": width, "height": height})
        return out
    obj = f.base()
    if kind in ("document", "video", "animation", "audio"):
        obj["file_name"] = f.filename
    if kind != "sticker":
        obj["mime_type"] = f.mime_type
    if kind in ("video", "animation", "video_note"):
        obj.update(width=int(params.get("width") or 640), height=int(params.get("height") or 360))
    if kind in ("video", "animation", "audio", "voice", "video_note"):
        obj["duration"] = int(params.get("duration") or 1)
    if kind == "video_note":
        obj["length"] = int(params.get("length") or 240)
        obj.pop("width")
        obj.pop("height")
    if kind == "audio":
        for key in ("performer", "title"):
            if params.get(key):
                obj[key] = params[key]
    if kind == "sticker":
        obj.update(type="regular", width=512, height=512, is_animated=False, is_video=False)
        if params.get("emoji"):
            obj["emoji"] = params["emoji"]
    return obj


_MIME_BY_KIND: Final = {
    "photo": "image/jpeg",
    "audio": "audio/mpeg",
    "voice": "audio/ogg",
    "video": "video/mp4",
    "animation": "video/mp4",
    "video_note": "video/mp4",
    "sticker": "image/webp",
}

_EXT_BY_KIND: Final = {
    "photo": "jpg",
    "audio": "mp3",
    "voice": "oga",
    "video": "mp4",
    "animation": "mp4",
    "video_note": "mp4",
    "sticker": "webp",
}

_DIR_BY_KIND: Final = {
    "photo": "photos",
    "audio": "music",
    "voice": "voice",
    "video": "videos",
    "animation": "animations",
    "video_note": "video_notes",
    "sticker": "stickers",
    "document": "documents",
}


def mime_for(kind: str, given: str) -> str:
    if given and given != "application/octet-stream":
        return given
    return _MIME_BY_KIND.get(kind, "application/octet-stream")


def path_for(kind: str, number: int, filename: str) -> str:
    """``file_path`` as Telegram forms it: ``<dir>/file_<n>.<ext>``."""
    ext = _EXT_BY_KIND.get(kind)
    if ext is None:
        _, dot, ext = filename.rpartition(".")
        ext = ext if dot and ext.isalnum() else "bin"
    return f"{_DIR_BY_KIND.get(kind, 'documents')}/file_{number}.{ext}"
