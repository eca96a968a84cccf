"""Django's Redis cache, with an increment that is one atomic round trip.

Django's own `incr` asks EXISTS, then INCRBY: two round trips for every rate-limit
count (django-ratelimit adds, then increments), and a key that expires between the
two is created again by INCRBY with no expiry, so it is never removed. Here a Lua
script increments the key only if it exists, in one round trip.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.commands.core import Script

_INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class _Client(RedisCacheClient):
    def incr(self, key: Any, delta: int) -> int:
        client = self.get_client(key, write=True)
        # EVALSHA, loading the script on the first NOSCRIPT answer.
        value = Script(client, _INCR_EXISTING)(keys=[key], args=[delta], client=client)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return int(value)


class OneTripIncrRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _Client
