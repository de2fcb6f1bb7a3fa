"""Who may reach the bot's handlers, and whom they treat as admins.

The router consults an :class:`AccessList` for every update before any seed function
runs: an update from a banned user (or sent on behalf of a banned chat) is dropped and
logged as ``router.banned``. Handlers read ``self.is_admin`` for the sender of the update
they are handling. Both lists load from settings and change at run time from any thread.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Final

from actorbot import updates
from actorbot.errors import ConfigError

_SEPARATORS = re.compile(r"[\s,;]+")

#: The settings keys :meth:`AccessList.from_settings` and :meth:`AccessList.load` read.
BANNED_KEY: Final = "banned_users"
ADMINS_KEY: Final = "admin_users"


def parse_ids(value: Any, name: str = "ids") -> frozenset[int]:
    """User or chat ids from a setting: ints, digit strings, or one string separated by
    commas or spaces (an environment variable). ``None`` is empty."""
    if value is None:
        return frozenset()
    items: Iterable[Any]
    if isinstance(value, str):
        items = [part for part in _SEPARATORS.split(value) if part]
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [value]
    elif isinstance(value, Iterable):
        items = value
    else:
        raise TypeError(f"{name}: expected ids, not {type(value).__name__}")
    ids = set()
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            ids.add(item)
        elif isinstance(item, str) and item.strip().lstrip("-").isdigit():
            ids.add(int(item.strip()))
        else:
            raise ConfigError(f"{name}: not a user or chat id: {item!r}")
    return frozenset(ids)


class AccessList:
    """A ban list and an admin list of user (or chat) ids, safe to share between threads.

    Writers replace an immutable pair of sets under a lock; readers (the router, for every
    update) take no lock and see either the old pair or the new one, never half of a
    :meth:`load`.
    """

    __slots__ = ("_lock", "_sets")

    def __init__(self, *, banned: Iterable[int] = (), admins: Iterable[int] = ()) -> None:
        self._lock = threading.Lock()
        self._sets = (parse_ids(banned, "banned"), parse_ids(admins, "admins"))

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> AccessList:
        """Build from settings: ``{"banned_users": [..], "admin_users": "1, 2"}`` (see
        :data:`BANNED_KEY`, :data:`ADMINS_KEY`); a missing key is an empty list."""
        access = cls()
        access.load(settings)
        return access

    def load(self, settings: Mapping[str, Any]) -> None:
        """Replace both lists at once (settings reloaded at run time)."""
        pair = (parse_ids(settings.get(BANNED_KEY), BANNED_KEY),
                parse_ids(settings.get(ADMINS_KEY), ADMINS_KEY))
        with self._lock:
            self._sets = pair

    def __repr__(self) -> str:
        banned, admins = self._sets
        return f"AccessList(banned={len(banned)}, admins={len(admins)})"

    # -- run-time changes -----------------------------------------------------------------

    def ban(self, *ids: int) -> None:
        self._change(0, parse_ids(ids, "ban"), add=True)

    def unban(self, *ids: int) -> None:
        self._change(0, parse_ids(ids, "unban"), add=False)

    def add_admins(self, *ids: int) -> None:
        self._change(1, parse_ids(ids, "add_admins"), add=True)

    def remove_admins(self, *ids: int) -> None:
        self._change(1, parse_ids(ids, "remove_admins"), add=False)

    def _change(self, which: int, ids: frozenset[int], *, add: bool) -> None:
        with self._lock:
            sets = list(self._sets)
            sets[which] = sets[which] | ids if add else sets[which] - ids
            self._sets = (sets[0], sets[1])

    # -- reading --------------------------------------------------------------------------

    @property
    def banned(self) -> frozenset[int]:
        return self._sets[0]

    @property
    def admins(self) -> frozenset[int]:
        return self._sets[1]

    def is_banned(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self._sets[0]

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self._sets[1]

    def banned_sender(self, update: Any) -> int | None:
        """The banned id behind ``update`` (its user, or the chat it was sent on behalf
        of), or None. Cheap when nobody is banned: the router asks for every update."""
        banned = self._sets[0]
        if not banned:
            return None
        for found in (updates.user_id(update), updates.sender_id(update)):
            if found is not None and found in banned:
                return found
        return None

    def is_admin_update(self, update: Any) -> bool:
        """Whether ``update``'s user (``from.id``, never a chat acting anonymously) is an
        admin."""
        admins = self._sets[1]
        return bool(admins) and updates.user_id(update) in admins
