"""Every public name is documented on exactly one API reference page, under its public path.

The public names are the ``__all__`` of :mod:`openfeature_litestar` and of its public
submodules. A name a submodule re-exports from the package itself (``hooks.AuditHook`` is
``openfeature_litestar.AuditHook``) is documented once, at the package's path. The pages
are read twice: their directives (so that a name documented twice is caught whatever
Sphinx makes of it) and the built inventory (so that what is documented is really there).
"""

from __future__ import annotations

import importlib
import re
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

import pytest

from .conftest import DOCS

if TYPE_CHECKING:
    from pathlib import Path

PACKAGE = "openfeature_litestar"
PUBLIC_MODULES = (
    PACKAGE,
    f"{PACKAGE}.evaluation",
    f"{PACKAGE}.hooks",
    f"{PACKAGE}.testing",
    f"{PACKAGE}.web",
)
API_PAGES = DOCS / "api"

_MODULE_DIRECTIVE = re.compile(
    r"^\.\. (?:automodule|py:currentmodule|py:module):: +(?P<module>\S+)"
)
_NAME_DIRECTIVE = re.compile(
    r"^\.\. auto(?:class|function|data|exception|attribute|decorator):: +(?P<name>[\w.]+)"
)
_MEMBERS_OPTION = re.compile(r"^ +:members:(?P<members>.*)$")


def public_paths() -> set[str]:
    """Each public name at the one path it is documented under."""
    package = importlib.import_module(PACKAGE)
    paths: set[str] = set()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            from_package = name in package.__all__ and getattr(package, name) is value
            paths.add(f"{PACKAGE}.{name}" if from_package else f"{module_name}.{name}")
    return paths


def _members_of(module_name: str, option: str) -> list[str]:
    listed = [member.strip() for member in option.split(",") if member.strip()]
    return listed or list(importlib.import_module(module_name).__all__)


def documented_on(page: Path) -> list[str]:
    """The full names a page's autodoc directives document, in order (repeats kept)."""
    names: list[str] = []
    module = ""
    lines = page.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if found := _MODULE_DIRECTIVE.match(line):
            module = found["module"]
            following = lines[number + 1] if number + 1 < len(lines) else ""
            if line.startswith(".. automodule::") and (members := _MEMBERS_OPTION.match(following)):
                names += [f"{module}.{name}" for name in _members_of(module, members["members"])]
        elif found := _NAME_DIRECTIVE.match(line):
            name = found["name"]
            names.append(name if name.startswith(f"{PACKAGE}.") else f"{module}.{name}")
    return names


def pages_by_name() -> dict[str, list[str]]:
    """Each documented full name and the API pages that document it."""
    pages: dict[str, list[str]] = defaultdict(list)
    for page in sorted(API_PAGES.glob("*.rst")):
        for name, count in Counter(documented_on(page)).items():
            pages[name] += [page.stem] * count
    return pages


def test_the_directives_are_read_as_full_names() -> None:
    # The parser's own check: the errors page documents the root of the hierarchy under
    # the package's path, and the testing page documents the whole module.
    assert f"{PACKAGE}.OpenFeatureLitestarError" in documented_on(API_PAGES / "errors.rst")
    testing = importlib.import_module(f"{PACKAGE}.testing")
    assert {f"{PACKAGE}.testing.{name}" for name in testing.__all__} <= set(
        documented_on(API_PAGES / "testing.rst")
    )


def test_every_public_name_is_documented_on_exactly_one_page() -> None:
    pages = pages_by_name()
    missing = sorted(public_paths() - pages.keys())
    repeated = {name: where for name, where in pages.items() if len(where) > 1}
    assert not missing, f"public names no API page documents: {missing}"
    assert not repeated, f"public names documented more than once: {repeated}"


def test_the_pages_document_only_public_names() -> None:
    not_public = sorted(pages_by_name().keys() - public_paths())
    assert not not_public, f"API pages document names that are not public: {not_public}"


def test_every_public_name_is_in_the_built_inventory_on_its_page(built_docs: Path) -> None:
    inventory_module = pytest.importorskip("sphinx.util.inventory")
    with (built_docs / "objects.inv").open("rb") as stream:
        inventory = inventory_module.InventoryFile.load(stream, "", lambda _base, uri: uri)
    locations = {
        name: entry.uri.split("#", 1)[0]
        for kind, entries in inventory.items()
        if kind.startswith("py:")
        for name, entry in entries.items()
    }
    pages = pages_by_name()
    wrong = {
        name: locations.get(name)
        for name in public_paths()
        if locations.get(name) != f"api/{pages[name][0]}.html"
    }
    assert not wrong, f"public names missing from the inventory or on another page: {wrong}"
