"""The Redis state store (``pip install 'actorbot[redis]'``): state that outlives the
process and can follow a seed to another process (the planned scale-out, §7).

One hash per seed (``{prefix}{seed key}``), one field per route: "forget me" is one
``DEL``, a chat migration one transaction, and ``expire_after`` is Redis's own ``EXPIRE``
on the hash, renewed by every write (so it counts per seed, not per route). A field is
``{version}:{touched}:{data}``. Writes are a ``MULTI`` pipeline per batch; they are not in
the journal's transaction, so effects on state are at-least-once (docs/state.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from actorbot.errors import StateStoreError
from actorbot.state._base import StateRecord, StateStore, seed_key


class RedisStore(StateStore):
    """State in Redis at ``url`` (or through a ready ``client``: a ``redis.Redis`` or a
    ``fakeredis.FakeRedis``, which must not decode responses)."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "actorbot:state:",
        client: Any = None,
        expire_after: float | None = None,
    ) -> None:
        super().__init__(expire_after=expire_after)
        if client is None:
            try:
                import redis  # noqa: PLC0415 - the optional extra
            except ImportError as exc:  # the optional extra
                raise ImportError("RedisStore needs redis-py: pip install 'actorbot[redis]'"
                                  ) from exc
            client = redis.Redis.from_url(url)
        self.client = client
        self.prefix = prefix
        self._errors: tuple[type[BaseException], ...] = _redis_errors()

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self.prefix!r})"

    def _key(self, seed: str) -> str:
        return self.prefix + seed

    def _call(self, work: Any) -> Any:
        try:
            return work()
        except self._errors as exc:
            raise StateStoreError(f"redis state store: {type(exc).__name__}: {exc}") from exc

    def load(self, route: str, seed: str) -> StateRecord | None:
        raw = self._call(lambda: self.client.hget(self._key(seed), route))
        return None if raw is None else _unpack(route, seed, raw)

    def write(self, records: Sequence[StateRecord]) -> None:
        now = time.time()
        ttl = None if self.expire_after is None else max(1, int(self.expire_after))

        def work() -> None:
            pipe = self.client.pipeline(transaction=True)
            for record in records:
                key = self._key(record.seed)
                if record.data is None:
                    pipe.hdel(key, record.route)
                    continue
                pipe.hset(key, record.route, _pack(record, now))
                if ttl is not None:
                    pipe.expire(key, ttl)
            pipe.execute()
        self._call(work)

    def delete(self, seed: Any, route: str | None = None) -> int:
        key = self._key(seed_key(seed))
        if route is None:
            count = self._call(lambda: self.client.hlen(key))
            self._call(lambda: self.client.delete(key))
            return int(count)
        return int(self._call(lambda: self.client.hdel(key, route)))

    def move_keys(self, old: str, new: str) -> int:
        old_key, new_key = self._key(old), self._key(new)
        moved = 0

        def work(pipe: Any) -> None:
            nonlocal moved
            fields = pipe.hgetall(old_key)
            pipe.multi()
            if fields:
                pipe.hset(new_key, mapping=fields)
                pipe.delete(old_key)
                if self.expire_after is not None:
                    pipe.expire(new_key, max(1, int(self.expire_after)))
            moved = len(fields)
        self._call(lambda: self.client.transaction(work, old_key, new_key))
        return moved

    def records(self, route: str | None = None) -> Iterator[StateRecord]:
        cut = len(self.prefix)
        for raw_key in self._call(lambda: list(self.client.scan_iter(
                match=_glob_escape(self.prefix) + "*", count=1000))):
            key = raw_key.decode() if isinstance(raw_key, bytes) else raw_key
            fields = self._call(lambda k=key: self.client.hgetall(k))
            for raw_route, raw in fields.items():
                name = raw_route.decode() if isinstance(raw_route, bytes) else raw_route
                if route is None or name == route:
                    yield _unpack(name, key[cut:], raw)

    def expire(self, now: float | None = None) -> int:
        """Nothing to sweep: Redis expires the hashes itself."""
        return 0

    def close(self) -> None:
        self._call(self.client.close)


def _pack(record: StateRecord, now: float) -> bytes:
    assert record.data is not None
    return f"{record.version}:{now!r}:".encode("ascii") + record.data


def _unpack(route: str, seed: str, raw: bytes) -> StateRecord:
    version, touched, data = raw.split(b":", 2)
    return StateRecord(route, seed, data, int(version), float(touched))


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _redis_errors() -> tuple[type[BaseException], ...]:
    try:
        import redis  # noqa: PLC0415 - the optional extra
    except ImportError:
        return (OSError,)
    return (redis.RedisError, OSError)
