"""Uploads: what counts as a file, and how a call with files becomes a multipart body.

A ``str`` is never an upload: Telegram reads it as a file_id or URL. Uploads are bytes,
paths (``os.PathLike``), binary file objects, or :class:`InputFile` for an explicit name or
content type. Uploads nested in objects (media groups, input media) are sent as extra parts
and referenced with ``attach://<name>``, as the Bot API requires.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any, TypeAlias


@dataclass(frozen=True, slots=True)
class InputFile:
    """An upload with an explicit file name and/or content type."""

    data: bytes | IO[bytes] | os.PathLike[str]
    filename: str | None = None
    content_type: str | None = None


InputFileLike: TypeAlias = str | bytes | os.PathLike[str] | IO[bytes] | InputFile

# (filename, content, content type) as requests' ``files=`` takes it.
FilePart: TypeAlias = tuple[str, bytes | IO[bytes], str]


def is_upload(value: object) -> bool:
    return isinstance(value, bytes | bytearray | memoryview | os.PathLike | InputFile) or (
        hasattr(value, "read") and not isinstance(value, str)
    )


def _part(value: Any, default_name: str, stack: ExitStack) -> FilePart:
    filename: str | None = None
    ctype = "application/octet-stream"
    if isinstance(value, InputFile):
        filename, ctype = value.filename, value.content_type or ctype
        value = value.data
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        filename = filename or PurePath(path).name
        return filename, stack.enter_context(open(path, "rb")), ctype
    if isinstance(value, bytearray | memoryview):
        value = bytes(value)
    if not isinstance(value, bytes):
        name = getattr(value, "name", None)
        if filename is None and isinstance(name, str):
            filename = PurePath(name).name
    return filename or default_name, value, ctype


def _form_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class _Attacher:
    def __init__(self, stack: ExitStack) -> None:
        self.stack = stack
        self.files: dict[str, FilePart] = {}

    def walk(self, value: Any) -> Any:
        """Replace nested uploads with ``attach://`` references, collecting the parts."""
        if is_upload(value):
            name = f"file{len(self.files)}"
            while name in self.files:
                name += "_"
            self.files[name] = _part(value, name, self.stack)
            return f"attach://{name}"
        if isinstance(value, Mapping):
            return {k: self.walk(v) for k, v in value.items() if v is not None}
        if isinstance(value, list | tuple):
            return [self.walk(v) for v in value]
        return value


def has_upload(params: Mapping[str, Any]) -> bool:
    return any(_contains_upload(v) for v in params.values())


def _contains_upload(value: Any) -> bool:
    if is_upload(value):
        return True
    if isinstance(value, Mapping):
        return any(_contains_upload(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_contains_upload(v) for v in value)
    return False


def multipart(
    params: Mapping[str, Any], stack: ExitStack
) -> tuple[dict[str, str], dict[str, FilePart]]:
    """Split ``params`` into form fields and file parts; files opened here close with ``stack``."""
    attacher = _Attacher(stack)
    data: dict[str, str] = {}
    for key, value in params.items():
        if is_upload(value):
            attacher.files[key] = _part(value, key, stack)
        else:
            data[key] = _form_value(attacher.walk(value))
    return data, attacher.files
