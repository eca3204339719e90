"""The admin API: read, write, promote and audit flags over HTTP, with revisions and guards.

Every write is validated (``422`` with every problem and its path), conditional on the
namespace's revision (``If-Match``; ``412`` when it is stale, so an update is never
lost) and recorded in the store's audit trail with the actor taken from the
authenticated user. Every response that reads or writes a namespace carries its
revision as the ``ETag`` (``"<revision>"``).

The router refuses to mount without guards; ``write_guards`` are added to the writing
routes only, so that one token (or role) may read and another may write.

The package, from the outside in: ``_router`` mounts the ``_handlers``, which
take their settings from ``_config``, speak the wire format of ``_schemas``,
check ``_preconditions``, share ``_state``, evaluate through ``_dry_run``
and leave every failure to ``_errors``.
"""

from __future__ import annotations

from ._config import ActorCallable, AdminConfig, default_actor
from ._router import admin_router

__all__ = ["ActorCallable", "AdminConfig", "admin_router", "default_actor"]
