"""The Redis cache's increment: one atomic round trip, never a key without expiry."""

from __future__ import annotations

import uuid

import pytest
import redis

from core.redis_cache import OneTripIncrRedisCache
from tests.core.test_rate_limits import REDIS_URL, _redis_reachable

pytestmark = pytest.mark.skipif(
    not _redis_reachable(), reason=f"no Redis at {REDIS_URL}"
)


@pytest.fixture
def cache():
    prefix = uuid.uuid4().hex
    backend = OneTripIncrRedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
    yield backend
    server = redis.Redis.from_url(REDIS_URL)
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)


def test_an_existing_count_goes_up_in_one_command_and_keeps_its_expiry(
    cache, monkeypatch
):
    assert cache.add("count", 1, 60)
    cache.incr("count")  # loads the script on its first use
    sent = []
    execute = redis.Redis.execute_command

    def counted(client, *args, **options):
        sent.append(args[0])
        return execute(client, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    assert cache.incr("count") == 3
    assert cache.incr("count", 5) == 8
    monkeypatch.undo()

    assert sent == ["EVALSHA", "EVALSHA"]  # one round trip each, no EXISTS first
    key = cache.make_and_validate_key("count")
    assert 0 < redis.Redis.from_url(REDIS_URL).ttl(key) <= 60
    assert cache.get("count") == 8


def test_a_missing_count_is_an_error_and_is_not_created(cache):
    with pytest.raises(ValueError, match="not found"):
        cache.incr("gone")

    assert cache.get("gone") is None
    assert not redis.Redis.from_url(REDIS_URL).exists(
        cache.make_and_validate_key("gone")
    )


def test_commands_share_one_client_per_server(cache):
    cache.set("a", 1)
    cache.set("b", 2)

    assert cache._cache.get_client(write=True) is cache._cache.get_client()
    assert cache.get_many(["a", "b"]) == {"a": 1, "b": 2}
