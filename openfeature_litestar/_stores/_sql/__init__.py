"""The SQL flag store: PostgreSQL via asyncpg, SQLite via aiosqlite (extra ``[sqlalchemy]``).

Without SQLAlchemy installed, importing this module raises
:class:`~openfeature_litestar.MissingDependencyError` naming the extra to install.
"""

from __future__ import annotations

from openfeature_litestar._errors import MissingDependencyError

try:
    import sqlalchemy.ext.asyncio  # noqa: F401 - only checks that the extra is installed
except ImportError:
    raise MissingDependencyError("sqlalchemy", "sqlalchemy") from None

from ._schema import MAX_TABLE_PREFIX_LENGTH, SCHEMA_VERSION
from ._store import SQLAlchemyStore

__all__ = ["MAX_TABLE_PREFIX_LENGTH", "SCHEMA_VERSION", "SQLAlchemyStore"]
