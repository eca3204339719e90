"""Masking of secrets: passwords and tokens hidden inside URLs and error messages.

:func:`mask_url` and :func:`mask_secrets` hide passwords and tokens inside URLs and
error messages before they are logged or raised. The stores, the logs and the command
line use them; they need nothing else of the privacy tools.
"""

from __future__ import annotations

from typing import Any, Final

import re2

__all__ = ["mask_secrets", "mask_url"]


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    return options


_MASK: Final = "***"
# What the URL-password pass writes first, so that the key=value pass that follows can
# tell a password it already masked from a secret that merely starts with "***"; each is
# turned into _MASK at the end. No text carries NUL bytes around this name.
_URL_MASK_MARK: Final = b"\x00openfeature-litestar-masked\x00"

# scheme://user:password@host: the password runs to the last '@' of the authority (as
# urllib and the database drivers read it); failing that (an unencoded '/', '?' or '#'
# in the password), to the next '@' unless what follows the ':' is a port. When in
# doubt, more is masked rather than less.
# A password may hold spaces and tabs (drivers accept them unencoded), never a line
# break: the classes below exclude only \r and \n where the user part excludes \s.
_URL_PASSWORD: Final = re2.compile(
    rb"([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@\[\]]*:)"
    rb"(?:[^\r\n/?#]*|[^\r\n@/?#]*[^\s@/?#0-9][^\r\n@]*)@",
    options=_re2_options(),
)
# user:password@host with no scheme, at the start of a string given to mask_url.
_BARE_PASSWORD: Final = re2.compile(rb"^([^\s:/?#@]*:)(?:[^\r\n/?#]*)@", options=_re2_options())
# password=..., "token": "...", Authorization: Bearer ..., sslpassword=... in a query.
_KEY_VALUE_SECRET: Final = re2.compile(
    rb"(?i)(\b[a-z0-9_\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key"
    rb"|authorization)[\"']?\s*[=:]\s*)"
    rb"(\"[^\"]*\"|'[^']*'|(?:(?:bearer|basic|token)\s+)?[^\s&;,\"'\)\]\}]+)",
    options=_re2_options(),
)


# password=... inside a URL's query: the value runs to the next '&' (or the end of the
# line), spaces and '#' included, since a store URL may carry them unencoded.
_QUERY_SECRET: Final = re2.compile(
    rb"(?i)([?&][a-z0-9_\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key)=)([^\r\n&]+)",
    options=_re2_options(),
)


def _mask_url_password(match: Any) -> bytes:
    return bytes(match.group(1)) + _URL_MASK_MARK + b"@"


def _mask_key_value(match: Any) -> bytes:
    head, value = bytes(match.group(1)), bytes(match.group(2))
    if value.startswith(_URL_MASK_MARK):
        return head + value  # a URL password, already masked
    quote = value[:1] if value[:1] in {b'"', b"'"} else b""
    return head + quote + _MASK.encode() + quote


def _masked(data: bytes) -> bytes:
    data = _URL_PASSWORD.sub(_mask_url_password, data)
    data = _QUERY_SECRET.sub(_mask_key_value, data)
    masked: bytes = _KEY_VALUE_SECRET.sub(_mask_key_value, data)
    return masked.replace(_URL_MASK_MARK, _MASK.encode())


def mask_secrets(text: str) -> str:
    """``text`` with every password and token it carries replaced by ``***``.

    Masks the password of every URL in the text (``scheme://user:password@host``, user
    kept) and every ``key=value`` or ``key: value`` whose key ends in ``password``,
    ``passwd``, ``pwd``, ``secret``, ``token``, ``api_key``/``apikey`` or is
    ``authorization`` (query parameters, JSON and Python reprs, ``Authorization: Bearer``
    headers). A password may hold spaces and tabs, as drivers accept them unencoded; a
    ``password=`` query value runs to the next ``&``. Meant for exception messages from
    drivers that embed a DSN before they are logged or re-raised. Runs in time linear in
    the text (RE2) and never raises.

    Args:
        text: Any text.

    Returns:
        The text with the secrets masked; text without secrets comes back unchanged.
    """
    try:
        data = text.encode("utf-8", "surrogatepass")
        return _masked(data).decode("utf-8", "surrogatepass")
    except Exception:  # a masking helper that raised would hide the error being reported
        return "<text withheld: it could not be checked for secrets>"


def mask_url(url: str) -> str:
    """``url`` with its password and password-like query parameters replaced by ``***``.

    ``"redis://user:s3cret@host:6379/0"`` becomes ``"redis://user:***@host:6379/0"``;
    ``"postgresql://host/db?sslpassword=x&password=y"`` becomes
    ``"postgresql://host/db?sslpassword=***&password=***"``. A string without a scheme
    (``user:pw@host``) is masked too. The string need not parse as a URL: masking works on
    the text (see :func:`mask_secrets`) and never raises.

    Args:
        url: A URL, or any string that may be one.

    Returns:
        The masked URL; a URL without secrets comes back unchanged.
    """
    try:
        data = url.encode("utf-8", "surrogatepass")
        if b"://" not in data:
            data = _BARE_PASSWORD.sub(_mask_url_password, data)
        return _masked(data).decode("utf-8", "surrogatepass")
    except Exception:  # as in mask_secrets
        return "<url withheld: it could not be checked for secrets>"
