"""Namespace and prefix names: what every store accepts."""

from __future__ import annotations

import pytest

from openfeature_litestar._stores._names import MAX_NAME_LENGTH, check_namespace, check_prefix


@pytest.mark.parametrize(
    "name", ["default", "prod", "team-a.staging_2", "A", "x" * MAX_NAME_LENGTH]
)
def test_valid_namespaces_come_back_unchanged(name: str) -> None:
    assert check_namespace(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "x" * (MAX_NAME_LENGTH + 1), "a:b", "a b", "a/b", "a*", "prod\n", "é", "a;drop"],
)
def test_invalid_namespaces_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="invalid namespace"):
        check_namespace(name)


@pytest.mark.parametrize(
    "prefix", ["", "openfeature:", "openfeature_", "app.flags-v2:", "p" * MAX_NAME_LENGTH]
)
def test_valid_prefixes_come_back_unchanged(prefix: str) -> None:
    assert check_prefix(prefix) == prefix


@pytest.mark.parametrize(
    "prefix", ["p" * (MAX_NAME_LENGTH + 1), "a b", "a*", "a?", "x[1]", "a\n", "name;", "ü"]
)
def test_invalid_prefixes_are_rejected(prefix: str) -> None:
    with pytest.raises(ValueError, match="invalid prefix"):
        check_prefix(prefix)
