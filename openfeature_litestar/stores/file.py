"""A store that reads one JSON or YAML file and watches it for edits."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from openfeature_litestar.document import load_document
from openfeature_litestar.errors import StoreError

from ._base import StoredDocument

if TYPE_CHECKING:
    import os
    from collections.abc import AsyncIterator

__all__ = ["FileStore"]

_FileVersion = tuple[int, int, int, int]


class FileStore:
    """A flag store backed by one flag-document file (JSON or YAML), watched for edits.

    The file is polled with :func:`os.stat` rather than watched with inotify: polling
    works the same on every OS and file system (network mounts, container volumes) and
    sees the symlink swap with which Kubernetes updates a mounted ConfigMap, at the cost
    of one ``stat`` per ``poll_interval`` on the background sync.

    Editors and deploy tools should replace the file atomically (write a temporary file,
    then rename it over); a file read while half-written fails validation and the
    provider keeps its last good snapshot until the next, complete version.

    Args:
        path: The document's path; ``.json`` is read as JSON, ``.yaml``/``.yml`` as YAML.
        poll_interval: Seconds between checks for a changed file.
        strict: Load strictly (the default) or as flagd does; see
            :func:`~openfeature_litestar.parse_document`.

    Raises:
        ValueError: ``poll_interval`` is not positive.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, poll_interval: float = 1.0, strict: bool = True
    ) -> None:
        """Create the store for the file at ``path`` (nothing is read yet)."""
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, not {poll_interval!r}")
        self.path = Path(path)
        self.poll_interval = poll_interval
        self.strict = strict
        self._revision = 0
        self._loaded_version: _FileVersion | None = None
        # Closing is per event loop: one provider's shutdown must not end the watch of
        # another provider that shares this store.
        self._closed_loops: set[asyncio.AbstractEventLoop] = set()

    async def load(self) -> StoredDocument:
        """Read and validate the file.

        The revision grows each time the file's content changes (by size, modification
        time or inode), starting at 1.

        Raises:
            DocumentError: The file is not a valid flag document.
            StoreError: The file cannot be read.
        """
        version = self._version()
        try:
            document = await asyncio.to_thread(load_document, self.path, strict=self.strict)
        except OSError as exc:
            raise StoreError(f"cannot read flag file {str(self.path)!r}: {exc.strerror}") from exc
        if version != self._loaded_version:
            self._revision += 1
            self._loaded_version = version
        return StoredDocument(document, self._revision)

    async def changes(self) -> AsyncIterator[None]:
        """Yield once when watching starts, then whenever the file changes.

        A change is a new size, modification time or inode. Watching again after
        :meth:`close` reopens the store.
        """
        loop = asyncio.get_running_loop()
        self._closed_loops.discard(loop)
        seen = self._version_or_none()
        yield None
        while loop not in self._closed_loops:
            await asyncio.sleep(self.poll_interval)
            current = self._version_or_none()
            if current != seen and loop not in self._closed_loops:
                seen = current
                yield None

    async def close(self) -> None:
        """Stop watching the file."""
        self._closed_loops.add(asyncio.get_running_loop())

    def _version(self) -> _FileVersion:
        try:
            stat = self.path.stat()
        except OSError as exc:
            raise StoreError(f"cannot read flag file {str(self.path)!r}: {exc.strerror}") from exc
        return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)

    def _version_or_none(self) -> _FileVersion | None:
        try:
            return self._version()
        except StoreError:
            return None

    def __repr__(self) -> str:
        """Show the path and the poll interval."""
        return f"FileStore({str(self.path)!r}, poll_interval={self.poll_interval})"
