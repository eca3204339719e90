"""Evaluation: one flag, or every flag, of a snapshot for one context, as a pure function.

:func:`resolve` is the whole of flag evaluation: find the flag, run its compiled rule,
check the value against the type the caller asked for, copy objects so no caller can
change the snapshot, and turn every failure into an OpenFeature error code with the
caller's default value. It does no I/O, takes no lock, awaits nothing and never raises.
:class:`~openfeature_litestar.FlagProvider` is a thin OpenFeature adapter over it; the
OFREP endpoints and the admin API's dry run call it directly, with no provider.

::

    from openfeature.flag_evaluation import FlagType
    from openfeature_litestar import Snapshot, load_document
    from openfeature_litestar.evaluation import resolve

    snapshot = Snapshot.from_document(load_document("examples/flags.yaml"))
    details = resolve(snapshot, "beta-banner", context, FlagType.BOOLEAN, False)

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, FlagType, Reason

from ._document import is_valid_flag_key
from ._engine import CompiledFlag, Resolution, evaluate_flag
from ._snapshot import Snapshot

if TYPE_CHECKING:
    from collections.abc import Callable

    from openfeature.evaluation_context import EvaluationContext

__all__ = ["resolve", "resolve_all"]

T = TypeVar("T")

_NO_DATA: Final[Mapping[str, Any]] = MappingProxyType({})
# Reading an enum member off its class costs about 0.1 µs on CPython 3.11 (a descriptor
# call); the hot path compares against these module constants instead.
_FLOAT: Final = FlagType.FLOAT
_OBJECT: Final = FlagType.OBJECT


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_int(value: Any) -> bool:
    # bool is an int subclass in Python; an integer flag must never return one.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_float(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_object(value: Any) -> bool:
    return isinstance(value, (Mapping, list))


def _is_any(_value: Any) -> bool:
    return True


# ``None`` stands for "any type": remote protocols (OFREP) ask without one.
_ACCEPTS: Final[Mapping[FlagType | None, Callable[[Any], bool]]] = {
    FlagType.BOOLEAN: _is_bool,
    FlagType.STRING: _is_str,
    FlagType.INTEGER: _is_int,
    FlagType.FLOAT: _is_float,
    FlagType.OBJECT: _is_object,
    None: _is_any,
}
# Only for error messages ("flag 'x' is not an integer flag").
_DESCRIPTION: Final[Mapping[FlagType | None, str]] = {
    FlagType.BOOLEAN: "a boolean",
    FlagType.STRING: "a string",
    FlagType.INTEGER: "an integer",
    FlagType.FLOAT: "a float",
    FlagType.OBJECT: "an object",
    None: "any value",
}


def _quoted(flag_key: object) -> str:
    """The flag key asked for, as error messages show it.

    Between single quotes as it is, not escaped with ``repr()``: a key that repeats a
    context value then reads as that value, which is what the audit hook cuts out of its
    records' messages. A key that no flag can have (not a printable string of at most
    256 characters, see :func:`~openfeature_litestar.is_valid_flag_key`) is shown as
    ``<invalid key>``: it could break a log line.
    """
    if isinstance(flag_key, str) and is_valid_flag_key(flag_key):
        return f"'{flag_key}'"
    return "<invalid key>"


def _targeting_data(flag: CompiledFlag, context: EvaluationContext | None) -> Mapping[str, Any]:
    # The rule only reads the data, so a rule that reads no injected value gets the
    # caller's attributes as they are; the others get a copy with what they read.
    if flag.plain_context:
        return context.attributes if context is not None else _NO_DATA
    reads = flag.reads
    data = dict(context.attributes) if context is not None else {}
    if "$flagd" in reads:
        data["$flagd"] = (
            {"flagKey": flag.key, "timestamp": int(time.time())}
            if "$flagd.timestamp" in reads
            else flag.flagd_constant
        )
    # "" is no targeting key, as the SDK's context merge and OFREP make it: one user
    # must not get another variant depending on the path the context took.
    if context is not None and context.targeting_key:
        data["targetingKey"] = context.targeting_key
    return data


def _typed_details(
    flag_key: str, resolution: Resolution, metadata: Mapping[str, Any], flag_type: FlagType | None
) -> FlagResolutionDetails[Any]:
    value = resolution.value
    if not _ACCEPTS[flag_type](value):
        message = (
            f"flag '{flag_key}' is not {_DESCRIPTION[flag_type]} flag: variant "
            f"'{resolution.variant}' is {type(value).__name__}"
        )
        return FlagResolutionDetails(
            None, error_code=ErrorCode.TYPE_MISMATCH, error_message=message, reason=Reason.ERROR
        )
    if flag_type is _FLOAT and isinstance(value, int):
        value = float(value)  # the SDK rejects an int from a float flag
    return FlagResolutionDetails(
        value, variant=resolution.variant, reason=resolution.reason, flag_metadata=metadata
    )


def resolve(
    source: Snapshot | Mapping[str, CompiledFlag],
    flag_key: str,
    context: EvaluationContext | None,
    flag_type: FlagType | None,
    default: T,
) -> FlagResolutionDetails[T]:
    """Evaluate one flag for one context; pure CPU, never raises.

    The semantics are flagd's: ``STATIC`` for a flag without targeting,
    ``TARGETING_MATCH`` when targeting picks a variant, ``DEFAULT`` when it picks none,
    ``DISABLED`` for a disabled flag; ``FLAG_NOT_FOUND``, ``TYPE_MISMATCH``,
    ``PARSE_ERROR`` and ``GENERAL`` errors. On every error the value is ``default``.

    Args:
        source: The snapshot to read, or its flags (flag key to compiled flag).
        flag_key: The flag to evaluate.
        context: The evaluation context, or ``None`` for an empty one.
        flag_type: The type the caller expects; a variant of another type is a
            ``TYPE_MISMATCH``. An integral float flag value comes back as ``float``, an
            integer flag never returns a ``bool``. ``None`` accepts any JSON value (for
            remote protocols such as OFREP).
        default: The caller's default, returned on every error.

    Returns:
        The OpenFeature resolution details, with the flag's metadata. An object value
        is a copy: changing it does not change the snapshot.

    .. versionadded:: 0.2.0
    """
    try:
        flags = source.flags if isinstance(source, Snapshot) else source
        flag = flags.get(flag_key)
        if flag is None:
            return FlagResolutionDetails(
                default,
                error_code=ErrorCode.FLAG_NOT_FOUND,
                error_message=f"flag {_quoted(flag_key)} not found",
                reason=Reason.ERROR,
            )
        data = _targeting_data(flag, context) if flag.rule is not None else _NO_DATA
        resolution = evaluate_flag(flag, data)
        if resolution.variant is None:
            return FlagResolutionDetails(
                default,
                error_code=resolution.error_code,
                error_message=resolution.error_message,
                reason=resolution.reason,
                flag_metadata=flag.metadata,
            )
        # A variant's outcome is shared by every evaluation that reaches it, so the
        # details for each requested type are built once and reused.
        details = resolution.cache.get(flag_type)
        if details is None:
            details = _typed_details(flag_key, resolution, flag.metadata, flag_type)
            resolution.cache[flag_type] = details
        if details.error_code is not None:  # a type mismatch: the caller's default
            return FlagResolutionDetails(
                default,
                error_code=details.error_code,
                error_message=details.error_message,
                reason=Reason.ERROR,
                flag_metadata=flag.metadata,
            )
        if flag_type is _OBJECT or (flag_type is None and _is_object(details.value)):
            # Never hand out the snapshot's own object: a caller may change theirs.
            return dataclasses.replace(details, value=copy.deepcopy(details.value))
        return details  # noqa: TRY300 - the fence below must cover every step
    except Exception as exc:  # the last fence: evaluation must never raise
        return FlagResolutionDetails(
            default,
            error_code=ErrorCode.GENERAL,
            # The type only: an exception's text can quote the evaluation context.
            error_message=f"evaluating {_quoted(flag_key)} failed: {type(exc).__name__}",
            reason=Reason.ERROR,
        )


def resolve_all(
    snapshot: Snapshot, context: EvaluationContext | None
) -> dict[str, FlagResolutionDetails[Any]]:
    """Evaluate every flag of ``snapshot`` for one context, whatever their types.

    Args:
        snapshot: The snapshot to read; every answer comes from it (its
            :attr:`~openfeature_litestar.Snapshot.revision` says which one).
        context: The evaluation context, or ``None`` for an empty one.

    Returns:
        Each flag's details, in document order, as :func:`resolve` with no type gives
        them (``None`` as the value on an error).

    .. versionadded:: 0.2.0
    """
    flags = snapshot.flags
    return {key: resolve(flags, key, context, None, None) for key in flags}
