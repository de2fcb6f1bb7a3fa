"""One contract for every state store: memory, SQLite, Redis (fakeredis and a real
redis-server started for the session, see tests/redisd.py)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import redis

from actorbot.errors import ConfigError, StateStoreError
from actorbot.state import MemoryStore, RedisStore, SqliteStore, StateRecord, StateStore
from tests.redisd import RedisServer

_prefixes = itertools.count()


@pytest.fixture(params=["memory", "sqlite", "fakeredis", "redis"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make(kind: str, tmp_path: Path, request: pytest.FixtureRequest,
         **options: Any) -> StateStore:
    if kind == "memory":
        return MemoryStore(**options)
    if kind == "sqlite":
        return SqliteStore(tmp_path / "state.db", **options)
    prefix = f"test{next(_prefixes)}:"
    if kind == "fakeredis":
        return RedisStore(client=fakeredis.FakeRedis(), prefix=prefix, **options)
    server: RedisServer = request.getfixturevalue("redis_server")
    return RedisStore(server.url, prefix=prefix, **options)


@pytest.fixture
def store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[StateStore]:
    made = make(kind, tmp_path, request)
    made.open()
    yield made
    made.close()


def row(route: str, seed: Any, data: bytes | None, version: int = 1) -> StateRecord:
    return StateRecord(route, repr(seed), data, version)


def test_load_what_was_written(store: StateStore) -> None:
    assert store.load("r", "1") is None
    store.write([row("r", 1, b'{"n":1}', 3)])
    got = store.load("r", "1")
    assert got is not None
    assert (got.route, got.seed, got.data, got.version) == ("r", "1", b'{"n":1}', 3)
    assert abs(got.touched - time.time()) < 60


def test_writes_apply_in_order_and_none_deletes(store: StateStore) -> None:
    store.write([row("r", 1, b"1"), row("r", 1, b"2"), row("r", 2, b"x"), row("r", 2, None)])
    loaded = store.load("r", "1")
    assert loaded is not None
    assert loaded.data == b"2"
    assert store.load("r", "2") is None


def test_routes_are_separate_rows(store: StateStore) -> None:
    store.write([row("a", 7, b"A"), row("b", 7, b"B")])
    a, b = store.load("a", "7"), store.load("b", "7")
    assert a is not None
    assert a.data == b"A"
    assert b is not None
    assert b.data == b"B"


def test_binary_and_large_data_round_trip(store: StateStore) -> None:
    data = bytes(range(256)) * 4000  # 1 MB, every byte value, colons included
    store.write([row("r", "seed:with:colons", data)])
    got = store.load("r", repr("seed:with:colons"))
    assert got is not None
    assert got.data == data


def test_delete_by_seed_forgets_every_route_or_one(store: StateStore) -> None:
    store.write([row("a", 5, b"1"), row("b", 5, b"2"), row("a", 6, b"3")])
    assert store.delete(5, route="b") == 1
    assert store.load("b", "5") is None
    assert store.delete(5) == 1
    assert store.load("a", "5") is None
    assert store.load("a", "6") is not None
    assert store.delete(404) == 0


def test_move_gives_the_state_to_the_new_chat(store: StateStore) -> None:
    store.write([row("a", -100, b"old-a"), row("b", -100, b"old-b"),
                 row("a", -200, b"stale"), row("c", -200, b"keep")])
    assert store.move(-100, -200) == 2
    assert store.load("a", "-100") is None
    moved = {r: store.load(r, "-200") for r in "abc"}
    assert {r: m.data if m else None for r, m in moved.items()} == {
        "a": b"old-a", "b": b"old-b", "c": b"keep"}
    assert store.move(-100, -300) == 0


def test_records_list_everything_or_one_route(store: StateStore) -> None:
    store.write([row("a", i, str(i).encode()) for i in range(50)] + [row("b", 1, b"b")])
    assert sorted(int(r.seed) for r in store.records("a")) == list(range(50))
    assert {(r.route, r.seed) for r in store.records()} >= {("b", "1"), ("a", "49")}
    assert len(list(store.records())) == 51


@pytest.mark.parametrize("sweeping", ["memory", "sqlite"])  # Redis expires by itself: below
def test_expiry_forgets_rows_not_written_for_a_while(
    sweeping: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = make(sweeping, tmp_path, request, expire_after=3600)
    store.open()
    store.write([row("r", 1, b"a"), row("r", 2, b"b")])
    assert store.expire(now=time.time() + 1800) == 0  # written half an hour "ago"
    assert store.load("r", "1") is not None
    assert store.expire(now=time.time() + 7200) == 2
    assert store.load("r", "1") is None
    store.close()


def test_redis_sets_a_ttl_per_seed(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    client = fakeredis.FakeRedis()
    store = RedisStore(client=client, prefix="ttl:", expire_after=86400 * 30)
    store.write([row("r", 1, b"x")])
    assert 0 < client.ttl("ttl:1") <= 86400 * 30


def test_expire_after_must_be_positive() -> None:
    with pytest.raises(ConfigError):
        MemoryStore(expire_after=0)


def test_sqlite_store_works_closed_for_admin_tools(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "s.db").write([row("r", 1, b"x")])
    admin = SqliteStore(tmp_path / "s.db")
    assert [r.data for r in admin.records()] == [b"x"]
    assert admin.delete(1) == 1


def test_unreachable_redis_is_a_state_store_error() -> None:
    store = RedisStore(client=redis.Redis(port=1, socket_connect_timeout=0.2))
    with pytest.raises(StateStoreError):
        store.load("r", "1")
    with pytest.raises(StateStoreError):
        store.write([row("r", 1, b"x")])
