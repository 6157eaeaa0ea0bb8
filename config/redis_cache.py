"""Django's Redis cache backend, reusing one `redis.Redis` client per connection pool.

Django's `RedisCacheClient.get_client()` builds a new `redis.Redis` on every
cache call; with redis-py 8 that constructor alone costs ~65 us of CPU (it
fills a case-insensitive table of ~170 response callbacks), as much as the
round trip it serves. The throttle of single-report intake pays it on every
request (bench/README.md). A client only wraps its pool, which redis-py makes
thread-safe and fork-safe, so one client per pool is enough.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
