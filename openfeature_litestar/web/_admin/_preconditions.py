"""The admin API's conditional requests: the ``If-Match`` and ``If-None-Match`` headers.

A write names the revision it is based on (``If-Match: "12"``, the ``ETag`` of a read,
``"12-3f9a1c0d5e7b2a46"`` where the store keeps epochs), or asks to create a flag only if
it does not exist yet (``If-None-Match: *``).
"""

from __future__ import annotations

import re

from litestar.exceptions import ClientException

from openfeature_litestar._stores._writes import Expected

from ._errors import _PreconditionRequired

__all__ = ["parse_if_match", "parse_if_none_match", "required_revision"]

# What etag() writes: the revision (at most 18 digits, so it fits in int64), then the
# epoch where the store keeps one.
_REVISION_TAG = re.compile(r'"([0-9]{1,18})(?:-([0-9A-Za-z]{1,64}))?"')


def parse_if_match(value: str | None) -> Expected | None:
    """The revision (and epoch) an ``If-Match`` header names, or ``None`` without one.

    A tag without an epoch expects the store to keep none (``""``), so a tag from
    before a namespace was emptied never matches the revisions written after.

    Raises:
        ClientException: The header is not one strong entity tag of a revision.
    """
    if value is None:
        return None
    match = _REVISION_TAG.fullmatch(value.strip())
    if match is None:
        raise ClientException(
            detail='If-Match must be one revision ETag as the API returns it, such as "12"'
        )
    return Expected(int(match[1]), match[2] or "")


def parse_if_none_match(value: str | None) -> bool:
    """Whether ``If-None-Match: *`` (create only) was given.

    Raises:
        ClientException: The header is present with another value.
    """
    if value is None:
        return False
    if value.strip() != "*":
        raise ClientException(detail="If-None-Match is only accepted as '*' (create only)")
    return True


def required_revision(if_match: str | None, what: str) -> Expected:
    """The revision ``If-Match`` names, for a write (``what``) that cannot go without it.

    Raises:
        ClientException: The header is malformed.
        _PreconditionRequired: The header is missing (``428``).
    """
    revision = parse_if_match(if_match)
    if revision is None:
        raise _PreconditionRequired(
            detail=f'{what} needs If-Match: "<revision>" (the ETag of your last read)'
        )
    return revision
