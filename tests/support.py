"""Test support: the flag definitions, waits and data that many test modules share.

Import it as ``from tests.support import flag``: pytest puts the project root on
``sys.path`` (``pythonpath`` in pyproject.toml), so this works for the whole suite and
for a single file alike, under the configured ``importlib`` import mode.
"""

from __future__ import annotations

import enum
import io
import json
import queue
import socket
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

import pytest
from hypothesis import strategies as st
from openfeature import api
from openfeature.event import EventDetails, ProviderEvent

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from litestar import Litestar

__all__ = [
    "ABSENT",
    "BOOLEAN_VARIANTS",
    "HOSTILE_JSON_BODIES",
    "HOSTILE_TEXTS",
    "OPERATOR_DATA",
    "QUOTINGS",
    "Absent",
    "echo_flag",
    "flag",
    "free_port",
    "run_cli",
    "running",
    "wait_until",
    "written_forms",
]


class Absent(enum.Enum):
    """The type of :data:`ABSENT`: a field left out, as opposed to a field set to null."""

    ABSENT = enum.auto()


ABSENT: Final = Absent.ABSENT
"""Leaves a field out of a :func:`flag` definition (``None`` writes ``null``)."""

BOOLEAN_VARIANTS: Final[Mapping[str, bool]] = {"on": True, "off": False}
"""The variants of a boolean flag, as most tests write them."""

OPERATOR_DATA: Final[dict[str, Any]] = {
    "s": "abc",
    "n": 5,
    "f": 2.5,
    "zero": 0,
    "empty": "",
    "t": True,
    "null": None,
    "list": [1, 2, 3],
    "user": {"name": "ann", "tags": ["a", "b"], "age": "42"},
    "targetingKey": "u1",
    "$flagd": {"flagKey": "flag", "timestamp": 1_750_000_000},
}
"""The evaluation data the operator tests run their rules against (never mutate it)."""


SQL_TABLES: Final = ("audit", "flags", "namespaces", "schema", "usage", "usage_seq")
"""The tables a SQL store may create under its prefix (the usage ones when first needed)."""


def flag(
    default_variant: str | Absent | None = "on",
    *,
    variants: Mapping[str, Any] = BOOLEAN_VARIANTS,
    state: str = "ENABLED",
    targeting: Any = ABSENT,
    metadata: Mapping[str, Any] | Absent = ABSENT,
    **fields: Any,
) -> dict[str, Any]:
    """A flag definition as data, an enabled boolean flag unless told otherwise.

    Args:
        default_variant: The ``defaultVariant``; ``None`` writes ``null``, :data:`ABSENT`
            leaves the field out.
        variants: The ``variants`` (copied, so callers may share one mapping).
        state: The ``state``; any string, so tests can write invalid ones.
        targeting: The ``targeting`` rule; :data:`ABSENT` leaves it out.
        metadata: The flag's ``metadata``; :data:`ABSENT` leaves it out.
        fields: Further fields, written last (misspelt or unknown ones included).

    Returns:
        A new dict with ``state``, ``variants``, ``defaultVariant``, ``targeting`` and
        ``metadata`` in that order (those given), then ``fields``.
    """
    definition: dict[str, Any] = {"state": state, "variants": dict(variants)}
    if default_variant is not ABSENT:
        definition["defaultVariant"] = default_variant
    if targeting is not ABSENT:
        definition["targeting"] = targeting
    if metadata is not ABSENT:
        definition["metadata"] = metadata
    definition.update(fields)
    return definition


def echo_flag(value: str = "a", *others: str, **options: Any) -> dict[str, Any]:
    """A string flag whose variants are their own values, ``value`` the default one.

    The store tests use it: a changed ``value`` is a changed definition, easy to tell apart.

    Args:
        value: The default variant, and its value.
        others: Further variants after it, each its own value too.
        options: Any other keyword option of :func:`flag`.

    Returns:
        A new flag definition, as :func:`flag` builds it.
    """
    return flag(value, variants={name: name for name in (value, *others)}, **options)


def wait_until(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    interval: float,
    message: str = "the condition did not become true in time",
) -> None:
    """Poll ``predicate`` every ``interval`` seconds; fail the test if ``timeout`` passes first.

    For conditions a background thread or process makes true, such as a sync picking up
    a change.

    Args:
        predicate: What to wait for.
        timeout: How many seconds to wait at most.
        interval: How many seconds to sleep between two calls.
        message: The failure message; the timeout is added to it.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{message} (waited {timeout} s)")
        time.sleep(interval)


def run_cli(*argv: str) -> tuple[int, str]:
    """Run the ``openfeature-litestar`` command in this process.

    Args:
        argv: The arguments, without the program name.

    Returns:
        The exit status and what the command printed to standard output (standard error
        is left to pytest's ``capsys``).
    """
    from openfeature_litestar._cli import main  # noqa: PLC0415 - only the CLI tests need it

    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


_JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text()

HOSTILE_JSON_BODIES: Final = (
    st.binary(max_size=200)
    | st.recursive(
        _JSON_LEAVES, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)
    ).map(lambda value: json.dumps({"context": value}).encode())
    # valid JSON with a string whose bytes are then broken at a random place
    | st.tuples(st.text(min_size=1), st.binary(min_size=1, max_size=4)).map(
        lambda pair: (
            b'{"context": {"a": "' + pair[0].encode("utf-8", "surrogatepass") + pair[1] + b'"}}'
        )
    )
)
"""Request bodies for fuzzing an endpoint: arbitrary bytes, any JSON under ``context``,
and JSON whose string bytes are not UTF-8."""


HOSTILE_TEXTS: Final = (
    "CORP\\jsmith",
    "o'brien-7",
    'say "cheese"',
    'it\'s "both"',
    "line\nbreak",
    "tab\tbed",
    "nul\x00byte",
    "esc\x1b[31mred",
    "del\x7f-and-\u200bzero-width",
    "José Núñez",
    "例え太郎",
    "rocket 🚀 user",
    "C:\\Users\\José\t'例え'\n\"🚀\"\x00\x1b\\",
)
"""Identifiers that escaping quoters (``repr()``, JSON, ...) write differently: a
backslash, single and double quotes, control and invisible characters, non-ASCII text
and emoji, and all of them at once."""


def written_forms(text: str) -> set[str]:
    """Every way a message may write ``text`` inside a quoted string, without the quotes.

    As it is; as ``repr()`` and ``ascii()`` write it alone and inside a longer text that
    holds both kinds of quote (where the single quote is escaped); as JSON, ASCII-only and
    not; as the ``unicode_escape`` codec writes it; as the ``repr()`` of its UTF-8 bytes.
    A leak test looks for each of them.
    """
    both = text + "\"'"  # the quotes in the other order than the hook's own helper
    encoded = text.encode("utf-8", "surrogatepass")
    return {
        text,
        repr(text)[1:-1],
        repr(both)[1:-4],
        ascii(text)[1:-1],
        ascii(both)[1:-4],
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
        text.encode("unicode_escape").decode("ascii"),
        repr(encoded)[2:-1],
        repr(encoded + b"\"'")[2:-4],
    }


QUOTINGS: Final[Mapping[str, Callable[[str], str]]] = {
    "as it is": "'{}'".format,
    "repr": repr,
    "ascii": ascii,
    "inside a repr": lambda text: repr(f'user {text} isn\'t "known"'),
    "KeyError": lambda text: str(KeyError(text)),  # a KeyError's str() is the key's repr()
    "a list": lambda text: str([text, "other"]),
    "json": json.dumps,
    "json, not ascii": lambda text: json.dumps(text, ensure_ascii=False),
    "a json document": lambda text: json.dumps({"user": text, "note": "it's"}),
    "unicode_escape": lambda text: text.encode("unicode_escape").decode("ascii"),
    "bytes": lambda text: repr(text.encode("utf-8", "surrogatepass")),
}
"""Ways an error message may quote a context value, by name: a provider's, a hook's or an
exception's message, escaped or not."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running(app: Litestar) -> Iterator[str]:
    """Serve ``app`` with uvicorn (as ``serve`` runs it) on a free port; stop it after."""
    import uvicorn  # noqa: PLC0415 - only the tests that serve need it

    from openfeature_litestar.web._server import uvicorn_server  # noqa: PLC0415

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn_server(config)  # as `serve` runs it: streams end on shutdown
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "uvicorn did not start"
        assert time.monotonic() < deadline, "uvicorn did not start in 20 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        assert not thread.is_alive(), "uvicorn did not stop with event streams open"


def provider_events(domain: str) -> queue.Queue[tuple[ProviderEvent, EventDetails]]:
    """The STALE, READY, CONFIGURATION_CHANGED and ERROR events of ``domain``'s client."""
    seen: queue.Queue[tuple[ProviderEvent, EventDetails]] = queue.Queue()
    client = api.get_client(domain)
    for event in (
        ProviderEvent.PROVIDER_STALE,
        ProviderEvent.PROVIDER_READY,
        ProviderEvent.PROVIDER_CONFIGURATION_CHANGED,
        ProviderEvent.PROVIDER_ERROR,
    ):

        def handler(details: EventDetails, event: ProviderEvent = event) -> None:
            seen.put((event, details))

        client.add_handler(event, handler)
    return seen
