"""Lua scripts on the default Redis cache: one round trip, atomic across web workers."""

from django.core.cache.backends.redis import RedisCache

_registered: dict[tuple[int, str], object] = {}


def run(backend: RedisCache, script: str, *, keys: list[str], args: list) -> list:
    """Run `script` with cache keys (made with the cache's prefix) and arguments."""
    client = backend._cache.get_client(keys[0], write=True)
    slot = (id(client.connection_pool), script)
    if slot not in _registered:
        _registered[slot] = client.register_script(script)
    # make_key, not make_and_validate_key: these keys are ours (scope + a hex digest),
    # and the memcached-safety scan costs more than it could ever catch here.
    return _registered[slot](keys=[backend.make_key(k) for k in keys], args=args, client=client)
