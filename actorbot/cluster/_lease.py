"""Leases in Redis: a key holding its owner's id with a TTL, changed only by Lua scripts
that check the owner first, so a process can renew or release only what it holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import redis

ACQUIRE: Final = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local previous = redis.call('GET', KEYS[2])
  redis.call('SET', KEYS[2], ARGV[1])
  if previous and previous ~= ARGV[1] then
    return 2
  end
  return 1
end
return 0
"""
"""KEYS: lease, last owner; ARGV: me, TTL (ms). 0: held by another; 1: taken (free, or
handed over); 2: taken over from an owner that never handed it over (it died)."""

RENEW: Final = """
local held = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    held[i] = 1
  else
    held[i] = 0
  end
end
return held
"""
"""KEYS: leases; ARGV: me, TTL (ms). One 1 (still mine, renewed) or 0 (lost) per key."""

RELEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
return 0
"""
"""KEYS: lease, last owner; ARGV: me. Handed over: the next owner's is no takeover."""

HEARTBEAT: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
return redis.call('ZCARD', KEYS[1])
"""
"""KEYS: the workers' set; ARGV: me, TTL (ms). Returns how many workers are alive."""


class Leases:
    """The scripts above, registered on one client."""

    def __init__(self, client: redis.Redis) -> None:
        self.acquire = client.register_script(ACQUIRE)
        self.renew = client.register_script(RENEW)
        self.release = client.register_script(RELEASE)
        self.heartbeat = client.register_script(HEARTBEAT)
