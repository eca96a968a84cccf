"""Django's Redis cache, with an increment that is one atomic round trip, and one
client per server.

Django's own `incr` asks EXISTS, then INCRBY: two round trips for every rate-limit
count (django-ratelimit adds, then increments), and a key that expires between the
two is created again by INCRBY with no expiry, so it is never removed. Here a Lua
script increments the key only if it exists, in one round trip.

Django also makes a new redis-py client for every command, which builds its table
of about 200 reply parsers each time: a third of the rate limit's own time. A
client is thread-safe (it takes a connection from its pool per command), so one per
server is kept.
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
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            # Two threads may both make one: either is as good.
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

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
