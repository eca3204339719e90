"""The admin API's conditional requests: the ``If-Match`` and ``If-None-Match`` headers.

A write names the revision it is based on (``If-Match: "12"``, the ``ETag`` of a read),
or asks to create a flag only if it does not exist yet (``If-None-Match: *``).
"""

from __future__ import annotations

from litestar.exceptions import ClientException

from ._errors import _PreconditionRequired

__all__ = ["parse_if_match", "parse_if_none_match", "required_revision"]


def parse_if_match(value: str | None) -> int | None:
    """The revision an ``If-Match`` header names, or ``None`` without the header.

    Raises:
        ClientException: The header is not one strong entity tag of a revision.
    """
    if value is None:
        return None
    text = value.strip()
    digits = text[1:-1] if len(text) > 2 and text[0] == text[-1] == '"' else ""  # noqa: PLR2004 - the two quotes
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:  # noqa: PLR2004 - fits in int64
        raise ClientException(
            detail='If-Match must be one revision ETag as the API returns it, such as "12"'
        )
    return int(digits)


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


def required_revision(if_match: str | None, what: str) -> int:
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
