"""The Redis flag store (extra ``[redis]``): a namespace in a hash, a stream and a channel.

Without redis-py installed, importing this package raises
:class:`~openfeature_litestar.MissingDependencyError` naming the extra to install.
"""

from __future__ import annotations

from openfeature_litestar._errors import MissingDependencyError

try:
    import redis.asyncio  # noqa: F401 - only checks that the extra is installed
except ImportError:
    raise MissingDependencyError("redis", "redis") from None

from ._store import RedisStore

__all__ = ["RedisStore"]
