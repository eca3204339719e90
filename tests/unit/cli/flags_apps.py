"""Litestar applications for the ``litestar flags`` tests (``--app tests.unit.cli.flags_apps:...``).

Each is a factory, so that every ``litestar`` invocation builds its application afresh
with the store files in the folder ``FLAGS_APP_DIR`` names (the test's ``tmp_path``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from litestar import Litestar
from openfeature.provider.in_memory_provider import InMemoryProvider

from openfeature_litestar import FileStore, FlagProvider, StoredDocument
from openfeature_litestar.web import AdminConfig, OpenFeatureConfig, OpenFeaturePlugin
from openfeature_litestar.web import bearer_token_guard as token_guard

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

APP_DIR_ENV = "FLAGS_APP_DIR"


def _folder() -> Path:
    return Path(os.environ[APP_DIR_ENV])


def _app(config: OpenFeatureConfig) -> Litestar:
    return Litestar([], plugins=[OpenFeaturePlugin(config)])


def url_app() -> Litestar:
    """The store as a URL: ``file:<dir>/flags.json``."""
    return _app(OpenFeatureConfig(store=f"file:{_folder() / 'flags.json'}"))


def object_app() -> Litestar:
    """The store as an object, in namespace ``prod``."""
    return _app(OpenFeatureConfig(store=FileStore(_folder() / "flags.json", namespace="prod")))


def admin_app() -> Litestar:
    """The provider reads ``flags.json`` (prod); the admin API also writes ``staging.json``."""
    admin = AdminConfig(
        guards=[token_guard(["t0ken"])],
        stores={
            "prod": FileStore(_folder() / "flags.json", namespace="prod"),
            "staging": FileStore(_folder() / "staging.json", namespace="staging"),
        },
    )
    store = FileStore(_folder() / "flags.json", namespace="prod")
    return _app(OpenFeatureConfig(store=store, admin=admin))


class ReadOnlyStore:
    """A store that can only be read: a :class:`FileStore`'s reads, none of its writes."""

    def __init__(self, path: Path) -> None:
        """Read the document at ``path``."""
        self._file = FileStore(path)

    async def load(self) -> StoredDocument:
        """The file's document."""
        return await self._file.load()

    def changes(self) -> AsyncIterator[None]:
        """The file's changes."""
        return self._file.changes()

    async def close(self) -> None:
        """Close the file store."""
        await self._file.close()

    def __repr__(self) -> str:
        """Name the store."""
        return "ReadOnlyStore()"


def read_only_app() -> Litestar:
    """A provider on a store that cannot be written."""
    provider = FlagProvider(ReadOnlyStore(_folder() / "flags.json"))
    return _app(OpenFeatureConfig(provider=provider))


def foreign_provider_app() -> Litestar:
    """A provider that reads no store of ours."""
    return _app(OpenFeatureConfig(provider=InMemoryProvider({})))


def no_plugin_app() -> Litestar:
    """An application without the plugin."""
    return Litestar([])
