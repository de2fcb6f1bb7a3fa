"""The in-memory state store: the default, for tests and bots whose state may die with
the process. Every seed's state stays in RAM, passivated or not."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from actorbot.state._base import StateRecord, StateStore, seed_key


class MemoryStore(StateStore):
    """State in a dict per seed (route -> record), so delete and move are O(routes)."""

    def __init__(self, *, expire_after: float | None = None) -> None:
        super().__init__(expire_after=expire_after)
        self._lock = threading.Lock()
        self._rows: dict[str, dict[str, StateRecord]] = {}

    def load(self, route: str, seed: str) -> StateRecord | None:
        with self._lock:
            routes = self._rows.get(seed)
            return None if routes is None else routes.get(route)

    def write(self, records: Sequence[StateRecord]) -> None:
        now = time.time()
        with self._lock:
            for record in records:
                routes = self._rows.get(record.seed)
                if record.data is None:
                    if routes is not None:
                        routes.pop(record.route, None)
                        if not routes:
                            del self._rows[record.seed]
                    continue
                if routes is None:
                    routes = self._rows[record.seed] = {}
                routes[record.route] = StateRecord(record.route, record.seed, record.data,
                                                   record.version, now)

    def delete(self, seed: Any, route: str | None = None) -> int:
        key = seed_key(seed)
        with self._lock:
            routes = self._rows.get(key)
            if routes is None:
                return 0
            if route is None:
                del self._rows[key]
                return len(routes)
            gone = routes.pop(route, None)
            if not routes:
                del self._rows[key]
            return 0 if gone is None else 1

    def move_keys(self, old_key: str, new_key: str) -> int:
        with self._lock:
            routes = self._rows.pop(old_key, None)
            if routes is None:
                return 0
            target = self._rows.setdefault(new_key, {})
            for route, record in routes.items():
                target[route] = record.with_seed(new_key)
            return len(routes)

    def records(self, route: str | None = None) -> Iterator[StateRecord]:
        with self._lock:
            rows = [r for routes in self._rows.values() for r in routes.values()
                    if route is None or r.route == route]
        return iter(rows)

    def expire(self, now: float | None = None) -> int:
        horizon = self.horizon(now)
        if horizon is None:
            return 0
        gone = 0
        with self._lock:
            for key in list(self._rows):
                routes = self._rows[key]
                for route in [r for r, rec in routes.items() if rec.touched < horizon]:
                    del routes[route]
                    gone += 1
                if not routes:
                    del self._rows[key]
        return gone

    def __repr__(self) -> str:
        return f"MemoryStore(seeds={len(self._rows)})"
