"""Regenerate the typed Bot API methods from a Bot API spec (``api.json``).

One spec, two outputs with the same names, parameters, types and docstrings:
``actorbot/api/_methods.py`` (the method table and ``Client``'s methods) and
``actorbot/sending/_chat_methods.py`` (``self.sender``'s methods: queued, returning a
typed future, ``chat_id`` defaulting to the handler's chat).

Usage::

    python -m actorbot.api.codegen path/to/api.json          # rewrite both files
    python -m actorbot.api.codegen path/to/api.json --check  # exit 1 if either is out of date

The spec layout is the one of PaulSonOfLars/telegram-bot-api-spec:
``methods{name: {name, href, description[], returns[], fields[{name, types[], required}]}}``.
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("_methods.py")
CHAT_OUTPUT = Path(__file__).parents[1] / "sending" / "_chat_methods.py"

_SCALARS = {"Integer": "int", "String": "str", "Boolean": "bool", "Float": "float"}

# Bot API methods whose snake_case name would shadow a client method with another meaning:
# ``Client.close()`` releases connections; Telegram's ``close`` shuts the bot instance down.
RENAMES = {"close": "close_bot"}


def snake_case(name: str) -> str:
    """``sendMessage`` -> ``send_message``; ``getUpdates`` -> ``get_updates``."""
    return RENAMES.get(name) or re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _param_type(types: Sequence[str]) -> str:
    out: list[str] = []
    for t in types:
        if t == "InputFile":
            py = "InputFileLike"
        elif t.startswith("Array of "):
            py = "Sequence[Any]"
        else:
            py = _SCALARS.get(t, "Mapping[str, Any]")
        if py not in out:
            out.append(py)
    if "InputFileLike" in out and "str" in out:
        out.remove("str")  # InputFileLike already admits a file_id or URL string
    return " | ".join(out)


def _result_type(t: str) -> str:
    if t.startswith("Array of "):
        return f"list[{_result_type(t.removeprefix('Array of '))}]"
    return _SCALARS.get(t, "dict[str, Any]")


def _return_type(returns: Sequence[str]) -> str:
    out: list[str] = []
    for t in returns:
        py = _result_type(t)
        if py not in out:
            out.append(py)
    return " | ".join(out) or "Any"


def _docstring(method: Mapping[str, Any]) -> str:
    text = " ".join(method.get("description") or [])
    first = re.split(r"(?<=\.)\s", text, maxsplit=1)[0] if text else method["name"]
    lines = textwrap.wrap(first.replace('"""', "'''").replace("\\", "\\\\"), width=84)
    lines.append(f"`{method['name']}`: {method.get('href', '')}")
    return "\n        ".join(lines)


def _def_source(name: str, sig: Sequence[str], ret: str, doc: str, body: str) -> str:
    return (
        f"    def {snake_case(name)}(\n        "
        + ",\n        ".join(["self", *sig])
        + f",\n    ) -> {ret}:\n"
        + f'        """{doc}\n        """\n'
        + f"        {body}\n"
    )


def _param(field: Mapping[str, Any]) -> str:
    return f"{field['name']}: {_param_type(field['types'])}"


def _method_source(method: Mapping[str, Any]) -> str:
    fields = method.get("fields") or []
    required = [f for f in fields if f.get("required")]
    optional = [f for f in fields if not f.get("required")]
    sig = [_param(f) for f in required]
    if optional:
        sig.append("*")
        sig += [f"{_param(f)} | None = None" for f in optional]
    args = ", ".join(f"{f['name']}={f['name']}" for f in required + optional)
    ret = _return_type(method.get("returns") or [])
    call = f"self.call({method['name']!r}, {args})" if args else f"self.call({method['name']!r})"
    ignore = "  # type: ignore[no-any-return]" if ret != "Any" else ""
    return _def_source(method["name"], sig, ret, _docstring(method), f"return {call}{ignore}")


def _chat_method_source(method: Mapping[str, Any]) -> str:
    """``chat_id`` becomes the first keyword-only parameter, None meaning the bound chat,
    so that the required parameters after it stay positional: ``send_message("hi")``."""
    every = method.get("fields") or []
    takes_chat = any(f["name"] == "chat_id" for f in every)
    fields = [f for f in every if f["name"] != "chat_id"]
    required = [f for f in fields if f.get("required")]
    optional = [f for f in fields if not f.get("required")]
    sig = [_param(f) for f in required]
    if takes_chat or optional:
        sig.append("*")
    if takes_chat:
        sig.append("chat_id: int | str | None = None")
    sig += [f"{_param(f)} | None = None" for f in optional]
    params = "{" + ", ".join(f"{f['name']!r}: {f['name']}" for f in required + optional) + "}"
    if takes_chat:
        body = f"return self._submit_chat({method['name']!r}, chat_id, {params})"
    else:
        body = f"return self._submit({method['name']!r}, {params})"
    ret = f"CallFuture[{_return_type(method.get('returns') or [])}]"
    return _def_source(method["name"], sig, ret, _docstring(method), body)


def _spec_source(method: Mapping[str, Any]) -> str:
    fields = method.get("fields") or []
    req = tuple(f["name"] for f in fields if f.get("required"))
    opt = tuple(f["name"] for f in fields if not f.get("required"))
    files = tuple(f["name"] for f in fields if "InputFile" in f["types"])
    returns = tuple(method.get("returns") or ())
    return (
        f"    {method['name']!r}: MethodSpec(\n"
        f"        {method['name']!r},\n"
        f"        required={req!r},\n"
        f"        optional={opt!r},\n"
        f"        file_params={files!r},\n"
        f"        returns={returns!r},\n"
        f"    ),\n"
    )


_HEADER = (
    '"""Generated by ``python -m actorbot.api.codegen`` from the Bot API spec. '
    'Do not edit."""\n\n'
    "from __future__ import annotations\n\n"
    "from collections.abc import Mapping, Sequence\n"
)


def _sorted_methods(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [spec["methods"][k] for k in sorted(spec["methods"])]


def generate(spec: Mapping[str, Any]) -> str:
    """Return the source of ``_methods.py`` for ``spec``."""
    methods = _sorted_methods(spec)
    version = f"{spec.get('version', '?')} ({spec.get('release_date', '?')})"
    parts = [
        _HEADER,
        "from typing import Any, Final\n\n"
        "from actorbot.api._files import InputFileLike\n"
        "from actorbot.api._spec import MethodSpec\n\n"
        f"API_VERSION: Final = {version!r}\n\n"
        "METHODS: Final[Mapping[str, MethodSpec]] = {\n",
        *(_spec_source(m) for m in methods),
        "}\n\n\n",
        "class BotMethods:\n"
        '    """One snake_case method per Bot API method; each forwards to ``call``."""\n\n'
        "    __slots__ = ()\n\n"
        "    def call(self, method: str, /, **params: Any) -> Any:\n"
        "        raise NotImplementedError\n",
    ]
    parts += ["\n" + _method_source(m) for m in methods]
    return "".join(parts)


def generate_chat_methods(spec: Mapping[str, Any]) -> str:
    """Return the source of ``sending/_chat_methods.py`` for ``spec``."""
    parts = [
        _HEADER,
        "from typing import Any\n\n"
        "from actorbot.api import InputFileLike\n"
        "from actorbot.sending._future import CallFuture\n\n\n"
        "class ChatMethods:\n"
        '    """One snake_case method per Bot API method, queued on the sender; ``chat_id``\n'
        '    (keyword-only) defaults to the bound chat."""\n\n'
        "    __slots__ = ()\n\n"
        "    def _submit(self, method: str, params: dict[str, Any], /) -> CallFuture[Any]:\n"
        "        raise NotImplementedError\n\n"
        "    def _submit_chat(\n"
        "        self, method: str, chat_id: int | str | None, params: dict[str, Any], /\n"
        "    ) -> CallFuture[Any]:\n"
        "        raise NotImplementedError\n",
    ]
    parts += ["\n" + _chat_method_source(m) for m in _sorted_methods(spec)]
    return "".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actorbot.api.codegen", description=__doc__)
    parser.add_argument("spec", type=Path, help="path to api.json")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    parser.add_argument("--chat-output", type=Path, default=CHAT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="only report whether it is current")
    ns = parser.parse_args(argv)
    spec = json.loads(ns.spec.read_text(encoding="utf-8"))
    outputs = {ns.output: generate(spec), ns.chat_output: generate_chat_methods(spec)}
    if ns.check:
        stale = [p for p, source in outputs.items()
                 if not p.exists() or p.read_text(encoding="utf-8") != source]
        for path in stale:
            print(f"{path} is out of date; run without --check to regenerate")
        return 1 if stale else 0
    for path, source in outputs.items():
        path.write_text(source, encoding="utf-8")
    print(f"wrote {ns.output} and {ns.chat_output} ({len(spec_names(outputs[ns.output]))} methods)")
    return 0


def spec_names(source: str) -> list[str]:
    return re.findall(r"^    '(\w+)': MethodSpec\(", source, flags=re.MULTILINE)


if __name__ == "__main__":
    raise SystemExit(main())
