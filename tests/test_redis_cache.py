"""config/redis_cache.py: one redis.Redis client per pool, the cache otherwise Django's."""

from django.core.cache import caches

from config.redis_cache import RedisCache


def test_the_cache_reuses_one_client_and_still_works():
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    first = cache._cache.get_client("a", write=True)
    assert cache._cache.get_client("b", write=True) is first
    cache.set("tremor-test-key", {"n": 1}, 30)
    assert cache.get("tremor-test-key") == {"n": 1}
    assert cache.add("tremor-test-key", 2, 30) is False
    cache.delete("tremor-test-key")
    assert cache.get("tremor-test-key") is None
