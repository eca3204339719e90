"""The package's public surface: what it exports, documents, and does not import."""

from __future__ import annotations
import __future__

import ast
import inspect
import itertools
import subprocess
import sys
import types
import typing

import pytest

import openfeature_litestar
from openfeature_litestar import _cli as cli
from openfeature_litestar import _masking as masking
from openfeature_litestar import _stores as stores
from openfeature_litestar import evaluation, hooks, testing, web
from openfeature_litestar._privacy import _hashing as hashing
from openfeature_litestar._privacy import _patterns as patterns
from openfeature_litestar._privacy import _sanitizer as sanitizer

LAZY = {"HttpStore", "RedisStore", "SQLAlchemyStore"}  # loaded on first use: drivers are extras

EXPECTED = {
    "FlagInsights",
    "Insights",
    "StaleFlag",
    "StaleReason",
    "StaleReport",
    "StaleThresholds",
    "TrackedEvent",
    "UnknownKey",
    "WindowCounts",
    "build_insights",
    "read_insights",
    "AuditEntry",
    "ConfigurationError",
    "FlagNotFound",
    "RedisStore",
    "HttpStore",
    "SQLAlchemyStore",
    "WritableFlagStore",
    "copy_namespace",
    "store_from_url",
    "AuditHook",
    "HookChain",
    "SanitizingHook",
    "TracingHook",
    "TrackingRecorder",
    "OTHER_EVENT_NAMES",
    "TRACKING_REASON",
    "IdentifierHasher",
    "Sanitizer",
    "hash_identifier",
    "mask_secrets",
    "mask_url",
    "HASH_KEY_ENV",
    "HASH_LENGTH",
    "MIN_KEY_BYTES",
    "Action",
    "REDACTED",
    "TRUNCATED",
    "TOO_DEEP",
    "DEFAULT_SENSITIVE_FIELDS",
    "DEFAULT_SENSITIVE_PATTERNS",
    "DocumentError",
    "FileStore",
    "FlagDefinition",
    "FlagDocument",
    "FlagProvider",
    "FlagStore",
    "MemoryStore",
    "MissingDependencyError",
    "OpenFeatureLitestarError",
    "Problem",
    "RevisionConflict",
    "Snapshot",
    "SnapshotSource",
    "StoreError",
    "StoredDocument",
    "document_from_data",
    "dump_document",
    "load_document",
    "parse_document",
    "MAX_DOCUMENT_BYTES",
    "MAX_DOCUMENT_NODES",
    "MAX_FLAGS",
    "MAX_FLAG_KEY_LENGTH",
    "MAX_NESTING_DEPTH",
    "MAX_TARGETING_DEPTH",
    "MAX_TARGETING_NODES",
    "DocumentFormat",
    "is_valid_flag_key",
    "CompiledFlag",
    "AuditAction",
    "FractionalVersion",
    "FRACTIONAL_VERSIONS",
    "OTHER_FLAG_KEYS",
    "UsageBatch",
    "UsageConfig",
    "UsageKey",
    "UsageRecord",
    "UsageSnapshot",
    "UsageStore",
    "PrometheusCollector",
    "ProviderMetrics",
    "instrument_provider",
}


def _own_docstring(value: object) -> str:
    """The docstring written for ``value`` itself: not inherited, not generated."""
    doc = vars(value).get("__doc__") if inspect.isclass(value) else getattr(value, "__doc__", None)
    doc = (doc or "").strip()
    name = getattr(value, "__name__", "")
    # dataclasses generate "Name(field, ...)" for a class that has no docstring.
    return "" if doc.startswith(f"{name}(") else doc


def _attribute_docstring(name: str, value: object) -> str:
    """The docstring under the assignment that defines ``value`` in one of our modules."""
    for module_name, module in sorted(sys.modules.items()):
        if (
            not module_name.startswith("openfeature_litestar.")
            or vars(module).get(name) is not value
        ):
            continue
        text = _docstring_after_assignment(module, name)
        if text:
            return text
    return ""


def _docstring_after_assignment(module: types.ModuleType, name: str) -> str:
    # The convention Sphinx reads: a string literal right after ``NAME = ...`` or
    # ``NAME: T = ...`` at module level. Read with ast, so the test needs no Sphinx.
    source = inspect.getsource(module)
    body = ast.parse(source).body
    for statement, following in itertools.pairwise(body):
        targets = (
            [statement.target]
            if isinstance(statement, ast.AnnAssign)
            else statement.targets
            if isinstance(statement, ast.Assign)
            else []
        )
        if any(isinstance(target, ast.Name) and target.id == name for target in targets) and (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            return inspect.cleandoc(following.value.value)
    return ""


def _public_names(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, (types.ModuleType, __future__._Feature))
    }


def test_all_is_the_expected_set() -> None:
    assert set(openfeature_litestar.__all__) == EXPECTED
    assert len(openfeature_litestar.__all__) == len(EXPECTED)


def test_all_is_everything_the_package_exports() -> None:
    assert _public_names(openfeature_litestar) | LAZY == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_public_name_is_documented(name: str) -> None:
    value = getattr(openfeature_litestar, name)
    if not (inspect.isclass(value) or inspect.isfunction(value)) or typing.get_origin(value):
        # A constant or a type alias: documented by the string under its assignment.
        assert _attribute_docstring(name, value), f"{name} has no docstring"
        return
    assert _own_docstring(value), f"{name} has no docstring"
    assert value.__module__.startswith("openfeature_litestar.")


@pytest.mark.parametrize(
    "module",
    [
        openfeature_litestar,
        evaluation,
        testing,
        web,
        cli,
        hooks,
        masking,
        hashing,
        patterns,
        sanitizer,
        stores,
    ],
    ids=lambda m: m.__name__,
)
def test_modules_are_documented(module: types.ModuleType) -> None:
    assert (module.__doc__ or "").strip()
    for name in module.__all__:
        value = getattr(module, name)
        if typing.get_origin(value) is not None:
            continue  # a type alias (documented in the API reference); Python 3.10 calls it a class
        if inspect.isclass(value) or inspect.isfunction(value):
            assert _own_docstring(value), f"{name} has no docstring"
        else:
            assert _attribute_docstring(name, value), f"{name} has no docstring"


def _loaded_by_importing(modules: str, condition: str) -> list[str]:
    """The modules matching ``condition`` (on ``m``) after importing ``modules`` afresh."""
    code = f"import sys, {modules}\nprint(sorted(m for m in sys.modules if {condition}))\n"
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = ast.literal_eval(result.stdout.strip())
    return loaded


def test_importing_the_package_does_not_import_litestar() -> None:
    assert (
        _loaded_by_importing(
            "openfeature_litestar, openfeature_litestar.testing",
            "m == 'litestar' or m.startswith('litestar.')",
        )
        == []
    )


def test_importing_the_library_does_not_load_the_command_line() -> None:
    # The CLI is reached only from its entry point: the plugin must not pull in argparse.
    library = (
        "openfeature_litestar, openfeature_litestar.web, openfeature_litestar.hooks, "
        "openfeature_litestar.testing, openfeature_litestar.evaluation"
    )
    condition = "m == 'argparse' or m.startswith('openfeature_litestar._cli')"
    assert _loaded_by_importing(library, condition) == []


def test_importing_the_package_does_not_import_the_store_drivers() -> None:
    drivers = "('redis', 'sqlalchemy', 'asyncpg', 'aiosqlite')"
    assert _loaded_by_importing("openfeature_litestar", f"m.split('.')[0] in {drivers}") == []


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchStore'"):
        _ = openfeature_litestar.NoSuchStore


PUBLIC_MODULES = {
    "openfeature_litestar",
    "openfeature_litestar.evaluation",
    "openfeature_litestar.hooks",
    "openfeature_litestar.testing",
    "openfeature_litestar.web",
}


def test_every_other_module_is_private() -> None:
    # Walk the package on disk: a module not in PUBLIC_MODULES must have a "_" somewhere
    # in its dotted path below the package, so users can tell what is API at a glance.
    import pkgutil  # noqa: PLC0415 - only this test walks the package

    found = {
        info.name
        for info in pkgutil.walk_packages(openfeature_litestar.__path__, "openfeature_litestar.")
        if not any(part.startswith("_") for part in info.name.split(".")[1:])
    }
    assert found | {"openfeature_litestar"} == PUBLIC_MODULES
