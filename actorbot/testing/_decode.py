"""Turn a request (query string, urlencoded, JSON or multipart body) into typed parameters.

The real server reads every parameter as a string and parses it by the type its method
declares; :data:`PARAM_KINDS` (generated from the spec) gives the fake the same rules, so a
client that forgets to JSON-encode ``reply_markup`` fails here as it would on Telegram.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from actorbot.testing._errors import FakeApiError, bad_request
from actorbot.testing._param_kinds import PARAM_KINDS

_INT_RE: Final = re.compile(r"-?\d+")
_EMPTY: Final[dict[str, str]] = {}


@dataclass(frozen=True, slots=True)
class Upload:
    """One file part of a multipart body."""

    field: str
    filename: str
    content_type: str
    data: bytes


def parse_request(
    query: str, content_type: str, body: bytes
) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Raw parameters and uploads; body parameters override query ones, as on Telegram."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    uploads: dict[str, Upload] = {}
    if not body:
        return params, uploads
    ctype, _, rest = content_type.partition(";")
    ctype = ctype.strip().lower()
    if ctype == "application/json":
        try:
            obj = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(obj, dict):
            raise bad_request("can't parse JSON object")
        params.update(obj)
    elif ctype == "multipart/form-data":
        fields, uploads = parse_multipart(body, _boundary(rest))
        params.update(fields)
    else:  # application/x-www-form-urlencoded, and what curl sends without a type
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise bad_request("request body is not valid UTF-8") from None
        params.update(parse_qsl(text, keep_blank_values=True))
    return params, uploads


def _boundary(params_text: str) -> bytes:
    for item in params_text.split(";"):
        key, _, value = item.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"').encode("latin-1")
    raise bad_request("multipart boundary is missing")


def _disposition(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in value.split(";")[1:]:
        key, _, val = item.strip().partition("=")
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1].replace('\\"', '"')
        out[key.lower()] = val
    return out


def parse_multipart(body: bytes, boundary: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    """Fields and file parts of a multipart/form-data body (a part with a filename is a file)."""
    fields: dict[str, str] = {}
    uploads: dict[str, Upload] = {}
    delimiter = b"--" + boundary
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise bad_request("can't parse multipart body")
    for chunk in chunks[1:-1]:
        part = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        if part.endswith(b"\r\n"):
            part = part[:-2]
        head, sep, data = part.partition(b"\r\n\r\n")
        if not sep:
            raise bad_request("can't parse multipart body")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disp = _disposition(headers.get("content-disposition", ""))
        field_name = disp.get("name")
        if field_name is None:
            continue
        if "filename" in disp:
            ctype = headers.get("content-type", "application/octet-stream")
            uploads[field_name] = Upload(field_name, disp["filename"] or field_name, ctype, data)
        else:
            fields[field_name] = data.decode("utf-8", "replace")
    return fields, uploads


def _to_int(value: Any) -> Any:
    if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
        return int(value)
    return value


def _to_bool(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    if isinstance(value, int) and not isinstance(value, bool):
        return value != 0
    return value


def _to_float(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _to_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


_COERCE: Final = {
    "int": _to_int,
    "int_or_str": _to_int,
    "bool": _to_bool,
    "float": _to_float,
    "json": _to_json,
}


def coerce(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Parse each parameter by the kind the spec gives it for ``method`` (in place).

    Values that do not parse are left as they came; the method handler rejects them if it
    cares, which is what lets tests send deliberately wrong input.
    """
    kinds = PARAM_KINDS.get(method, _EMPTY)
    for name, value in params.items():
        kind = kinds.get(name)
        if kind is not None:
            params[name] = _COERCE[kind](value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            params[name] = str(value) if name in ("text", "caption") else value
    return params


def require_int(params: dict[str, Any], name: str) -> int:
    """An integer parameter, or the Telegram-style 400 for a malformed one."""
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FakeApiError(400, f"Bad Request: invalid {name} specified")
    return value
