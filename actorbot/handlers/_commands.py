"""Bot commands declared on handler classes, dispatched and synced to Telegram.

::

    class Bot(ChatHandler):
        @command("start", "Start the bot")
        def start(self, msg, args):
            self.sender.send_message(f"hello {args}")

A message whose ``bot_command`` entity sits at offset 0 (``/start payload``, or
``/start@this_bot payload`` in groups) runs the decorated method with the message and the
text after the command; commands meant for another bot and unknown ones reach
``on_chat_message`` as ordinary messages (there, :func:`command_of` tells a command for
this bot from one for another). The engine fetches the bot's username (``getMe``) at
every start, commands declared or not, so ``/cmd@other_bot`` is never taken as ours.

The engine publishes every declared command with ``setMyCommands`` at start, per scope
and language, only where ``getMyCommands`` differs, so a restart does not rewrite an
unchanged menu, and deletes (``deleteMyCommands``) the menus of scopes and languages no
longer declared; see :func:`sync_commands` for which it can find.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, MutableSet
from dataclasses import dataclass, field, replace
from typing import Any, Final, TypeVar

import structlog

from actorbot.api import Client
from actorbot.errors import ConfigError

log = structlog.get_logger("actorbot.commands")

F = TypeVar("F", bound=Callable[..., Any])

_TRIGGER: Final = re.compile(r"[a-z0-9_]{1,32}")
_MARK: Final = "__actorbot_commands__"
_TABLE: Final = "_actorbot_command_table"
_WELL_KNOWN_SCOPES: Final[tuple[Mapping[str, Any] | None, ...]] = (
    None, {"type": "all_private_chats"}, {"type": "all_group_chats"},
    {"type": "all_chat_administrators"})
"""The scopes a menu may sit in without naming a chat; the sync checks each for leftovers."""

MenuKey = tuple[str, str]
"""A menu's place on Telegram: its scope as sorted JSON (the default one if none) and its
language ("" for all)."""


@dataclass(frozen=True, slots=True)
class BotCommand:
    """One declared command; ``method`` is the handler method that runs it."""

    trigger: str
    description: str
    scope: Mapping[str, Any] | None = None
    """A BotCommandScope; None is the default scope."""
    languages: Mapping[str, str] = field(default_factory=dict)
    """Descriptions per IETF language code, for users with that language."""
    hidden: bool = False
    """Dispatched, but not published in the menu."""
    method: str = ""


@dataclass(frozen=True, slots=True)
class CommandText:
    """A command message taken apart: ``/name@mention args``."""

    name: str
    mention: str | None
    args: str


def command(
    trigger: str,
    description: str,
    *,
    scope: Mapping[str, Any] | str | None = None,
    languages: Mapping[str, str] | None = None,
    hidden: bool = False,
) -> Callable[[F], F]:
    """Declare a handler method ``(self, msg, args)`` as the command ``/trigger``.

    ``scope`` is a BotCommandScope (``{"type": "all_private_chats"}``, or just its type);
    decorators stack to give one method several triggers.
    """
    trigger = trigger.removeprefix("/")
    if not _TRIGGER.fullmatch(trigger):
        raise ConfigError(f"a command is 1-32 lowercase letters, digits or _: {trigger!r}")
    texts = [description, *(languages or {}).values()]
    if not all(isinstance(t, str) and 1 <= len(t) <= 256 for t in texts):
        raise ConfigError(f"/{trigger}: a description is 1-256 characters")
    if isinstance(scope, str):
        scope = {"type": scope}
    declared = BotCommand(trigger, description, dict(scope) if scope else None,
                          dict(languages or {}), hidden)

    def mark(func: F) -> F:
        marks: list[BotCommand] = [*getattr(func, _MARK, ()), declared]
        setattr(func, _MARK, marks)
        return func

    return mark


def is_command_method(value: object) -> bool:
    """Whether ``value`` was declared a command with :func:`command`."""
    return bool(getattr(value, _MARK, ()))


def commands_of(cls: type) -> Mapping[str, BotCommand]:
    """The commands a handler class declares or inherits, by trigger (cached per class).

    Raises TypeError if a command's method replaces a base class attribute: ``def
    start(...)`` would hide the actor's ``start()`` and no handler could be spawned.
    """
    table: Mapping[str, BotCommand] | None = cls.__dict__.get(_TABLE)
    if table is None:
        found: dict[str, BotCommand] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                marks = getattr(value, _MARK, ())
                if marks:
                    _check_not_shadowing(klass, name)
                for declared in marks:
                    found[declared.trigger] = replace(declared, method=name)
        table = found
        setattr(cls, _TABLE, table)
    return table


def _check_not_shadowing(klass: type, name: str) -> None:
    for base in klass.__mro__[1:]:
        if name in vars(base) and not getattr(vars(base)[name], _MARK, ()):
            raise TypeError(
                f"{klass.__name__}.{name} would replace {base.__name__}.{name}: give the "
                f"command's method another name (e.g. {name}_command)")


def parse_command(msg: Any) -> CommandText | None:
    """``msg``'s command, if its text starts with a ``bot_command`` entity."""
    text = msg.get("text") if isinstance(msg, dict) else None
    entities = msg.get("entities") if isinstance(msg, dict) else None
    if not isinstance(text, str) or not text.startswith("/") or not isinstance(entities, list):
        return None
    length = next((e.get("length") for e in entities if isinstance(e, dict)
                   and e.get("type") == "bot_command" and e.get("offset") == 0), None)
    ascii_only = text.isascii()
    units = len(text) if ascii_only else len(text.encode("utf-16-le")) // 2
    if type(length) is not int or not 2 <= length <= units:
        return None
    raw = text[:length] if ascii_only else (
        text.encode("utf-16-le")[: 2 * length].decode("utf-16-le", errors="replace"))
    if not text.startswith(raw):
        return None
    name, _, mention = raw[1:].partition("@")
    return CommandText(name.lower(), mention or None, text[len(raw):].strip())


def _addressed_here(parsed: CommandText, bot_username: str | None) -> bool:
    """Whether a command is this bot's: no ``@mention``, or this bot's. With the username
    unknown (``getMe`` failed at start) a mention is taken as ours: better a command run
    twice in a group with another bot than one never run."""
    return not parsed.mention or not bot_username or (
        parsed.mention.lower() == bot_username.lower())


def command_of(handler: object, msg: Any) -> CommandText | None:
    """``msg``'s command if it is addressed to this bot, for hooks that parse commands
    themselves (``on_chat_message`` of a handler without ``@command``): None for plain
    text and for ``/cmd@other_bot``. ``handler`` is the handler seeing ``msg``."""
    parsed = parse_command(msg)
    if parsed is None:
        return None
    context = getattr(handler, "context", None)
    username = getattr(getattr(context, "services", None), "bot_username", None)
    return parsed if _addressed_here(parsed, username) else None


def find_command(
    handler: object, msg: Any, bot_username: str | None
) -> tuple[Callable[[Any, str], Any], str] | None:
    """``handler``'s bound method for ``msg``'s command and the command's arguments; None
    if it has none for it (or the command names another bot)."""
    table = commands_of(type(handler))
    if not table:
        return None
    parsed = parse_command(msg)
    if parsed is None or not _addressed_here(parsed, bot_username):
        return None
    declared = table.get(parsed.name)
    if declared is None:
        return None
    return getattr(handler, declared.method), parsed.args


def dispatch_command(handler: object, msg: Any, bot_username: str | None) -> bool:
    """Run ``handler``'s method for ``msg``'s command; False if it has none for it (or the
    command names another bot), so the message goes to the usual hook."""
    found = find_command(handler, msg, bot_username)
    if found is None:
        return False
    method, args = found
    method(msg, args)
    return True


# -- publishing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandList:
    """What ``setMyCommands`` should hold for one scope and language ("" for all)."""

    scope: Mapping[str, Any] | None
    language: str
    commands: list[dict[str, str]]


def _handler_classes(handlers: Iterable[object]) -> list[type]:
    classes: list[type] = []
    for item in handlers:
        cls = getattr(item, "handler", item)  # a Route, or a handler class
        if isinstance(cls, type) and cls not in classes:
            classes.append(cls)
    return classes


def declared_commands(handlers: Iterable[object]) -> list[CommandList]:
    """The menus the handler classes (or routes) declare: per scope, the commands in
    declaration order, then one list per language any of them is translated to (falling
    back to the default description, since Telegram shows a language's list instead of
    the default one). The first class to declare a trigger in a scope wins."""
    scopes: dict[str, tuple[Mapping[str, Any] | None, dict[str, BotCommand]]] = {}
    for cls in _handler_classes(handlers):
        for declared in commands_of(cls).values():
            if declared.hidden:
                continue
            key = json.dumps(declared.scope or {"type": "default"}, sort_keys=True)
            scopes.setdefault(key, (declared.scope, {}))[1].setdefault(declared.trigger,
                                                                        declared)
    lists = []
    for scope, by_trigger in scopes.values():
        languages = sorted({lang for c in by_trigger.values() for lang in c.languages})
        for lang in ["", *languages]:
            lists.append(CommandList(scope, lang, [
                {"command": c.trigger, "description": c.languages.get(lang, c.description)}
                for c in by_trigger.values()]))
    return lists


def menu_key(scope: Mapping[str, Any] | None, language: str) -> MenuKey:
    """Where a menu sits: ``scope`` (None: the default scope) and ``language``."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True), language


def _scope_of(key: MenuKey) -> Mapping[str, Any] | None:
    scope: dict[str, Any] = json.loads(key[0])
    return None if scope == {"type": "default"} else scope


def _current(client: Client, scope: Mapping[str, Any] | None, language: str) -> list[Any] | None:
    current = client.get_my_commands(scope=scope, language_code=language or None)
    return [{"command": c.get("command"), "description": c.get("description")}
            for c in current if isinstance(c, dict)] if isinstance(current, list) else None


def sync_commands(
    client: Client,
    handlers: Iterable[object],
    *,
    published: MutableSet[MenuKey] | None = None,
) -> list[CommandList]:
    """Publish the declared commands: ``setMyCommands`` only for the scopes and languages
    whose ``getMyCommands`` differs, then ``deleteMyCommands`` for menus no longer
    declared. Returns the lists it set and the ones it deleted (with no commands); API
    errors propagate.

    Telegram cannot list the menus a bot has, so leftovers are looked for in the
    well-known scopes (default, all private chats, all group chats, all chat
    administrators) in every language declared now or in ``published``, and in every
    place in ``published``: the menus this caller published before (updated here; the
    engine keeps one per ``Engine`` object, in memory). A menu for a chat-specific scope
    or a language declared by no handler, published by an earlier process, is not found.
    """
    known = published if published is not None else set()
    declared = declared_commands(handlers)
    changed = []
    for wanted in declared:
        known.add(menu_key(wanted.scope, wanted.language))
        if _current(client, wanted.scope, wanted.language) == wanted.commands:
            continue
        client.set_my_commands(wanted.commands, scope=wanted.scope,
                               language_code=wanted.language or None)
        changed.append(wanted)
        log.info("commands.synced", scope=(wanted.scope or {}).get("type", "default"),
                 language=wanted.language, commands=len(wanted.commands))
    keep = {menu_key(w.scope, w.language) for w in declared}
    languages = sorted({"", *(w.language for w in declared), *(lang for _, lang in known)})
    probes = {menu_key(scope, lang) for scope in _WELL_KNOWN_SCOPES for lang in languages}
    for key in sorted((probes | set(known)) - keep):
        scope, lang = _scope_of(key), key[1]
        if _current(client, scope, lang):
            client.delete_my_commands(scope=scope, language_code=lang or None)
            changed.append(CommandList(scope, lang, []))
            log.info("commands.deleted", scope=(scope or {}).get("type", "default"),
                     language=lang)
        known.discard(key)
    return changed


def prepare_commands(
    client: Client,
    handlers: Iterable[object],
    *,
    sync: bool,
    on_error: Callable[[BaseException], None] | None = None,
    published: MutableSet[MenuKey] | None = None,
) -> str | None:
    """At engine start: the bot's username, always (any handler may see ``/cmd@other_bot``:
    ``@command`` dispatch and :func:`command_of` must know it is another bot's), and the
    menu synced if ``sync`` and some handler declares commands. A failure is logged and
    told to ``on_error``, not fatal (the bot still answers; the menu waits for the next
    start; a wrong token then fails polling, see ``Status.FAILED``)."""
    username: str | None = None
    try:
        me = client.get_me()
        name = me.get("username") if isinstance(me, dict) else None
        username = name if isinstance(name, str) else None
        if sync and any(commands_of(cls) for cls in _handler_classes(handlers)):
            sync_commands(client, handlers, published=published)
    except Exception as exc:  # noqa: BLE001 - a menu is not worth failing start()
        log.warning("commands.sync_failed", error=f"{type(exc).__name__}: {exc}")
        if on_error is not None:
            on_error(exc)
    return username
