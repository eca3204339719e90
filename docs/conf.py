"""Sphinx configuration for the openfeature-litestar documentation.

Build with ``uv run --group docs sphinx-build -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import re
import sys
from importlib import metadata
from typing import TYPE_CHECKING, Any

from sphinx.pycode import ModuleAnalyzer
from sphinx.util.inspect import object_description
from sphinx.util.nodes import make_refnode

if TYPE_CHECKING:
    from sphinx.addnodes import pending_xref
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

project = "openfeature-litestar"
author = "Seed 5ccf33cd maintainers"
copyright = "Seed 5ccf33cd maintainers; Apache-2.0"

try:
    release = metadata.version("openfeature-litestar")
except metadata.PackageNotFoundError:  # building from a tree where it is not installed
    release = "0.0.0"
version = ".".join(release.split(".")[:2])
# The footer of every page names the version the pages describe (the header shows it too,
# as the link to the changelog: ``html_theme_options`` below).
copyright = f"{copyright}. Documentation for version {release}"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    # Only for changelog.rst, which includes CHANGELOG.md (Markdown); every page is .rst.
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]
language = "en"

# Python code blocks are highlighted as Python; shell examples say ``console`` themselves.
highlight_language = "python3"
pygments_style = "sphinx"

# -- autodoc / napoleon -------------------------------------------------------------------
# Type hints go into the parameter descriptions, where they read better than in long
# signatures. Members are listed in source order, the order the modules explain them in.
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_member_order = "bysource"
# Each directive in api/*.rst says which members it documents.
autodoc_default_options = {
    "show-inheritance": True,
    # Pydantic's machinery, not part of our API.
    "exclude-members": "model_config, model_post_init, model_fields, model_computed_fields",
}
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_attr_annotations = True

# -- HTML ---------------------------------------------------------------------------------
html_theme = "shibuya"
html_title = "openfeature-litestar"
html_theme_options = {
    "accent_color": "teal",
    # The version, from the installed package's metadata, in the header of every page.
    "nav_links": [{"title": f"v{release}", "url": "changelog"}],
}
html_static_path: list[str] = []


# -- constants documented at their public path ----------------------------------------------
# A constant re-exported by the package has no docstring of its own (autodoc would show
# its type's); its docstring is the string written under its assignment in the private
# module that defines it, so that one text serves both.


def _docstring_where_defined(public_name: str, value: object) -> list[str] | None:
    package_name, _, attribute = public_name.rpartition(".")
    for module_name, module in sorted(sys.modules.items()):
        if not module_name.startswith(f"{package_name}."):
            continue
        if vars(module).get(attribute) is not value:
            continue
        lines = ModuleAnalyzer.for_module(module_name).find_attr_docs().get(("", attribute))
        if lines:
            return list(lines)
    return None


def _public_constant_docstring(  # noqa: PLR0917 - the signature Sphinx calls it with
    app: Sphinx,  # noqa: ARG001 - part of that signature
    what: str,
    name: str,
    obj: object,
    options: Any,  # noqa: ARG001 - part of that signature
    lines: list[str],
) -> None:
    if what != "data" or not name.startswith("openfeature_litestar."):
        return
    found = _docstring_where_defined(name, obj)
    if found is not None:
        lines[:] = found


# -- readable defaults -------------------------------------------------------------------------
# A dataclass or Pydantic field with a default factory shows as ``<factory>``, and a default
# written as a private constant (``DEFAULT_FRACTIONAL``) names something a reader cannot look
# up. Both are replaced by what the default is: the call that makes it (``Sanitizer()``),
# its value when that is short (``{}``, ``'v2'``), or the public constant it is
# (``DEFAULT_SENSITIVE_FIELDS``).

_PUBLIC_MODULES = (
    "openfeature_litestar",
    "openfeature_litestar.web",
    "openfeature_litestar.hooks",
    "openfeature_litestar.testing",
)
_SHORT_REPR = 60
_PRIVATE_CONSTANT = re.compile(r"^_?[A-Z][A-Z0-9_]*$")


@functools.cache
def _public_names() -> dict[str, object]:
    names: dict[str, object] = {}
    for module_name in _PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            names.setdefault(name, getattr(module, name))
    return names


@functools.cache
def _public_constants() -> dict[int, str]:
    # Only containers: a short string or number reads better as itself than as a name.
    return {
        id(value): name
        for name, value in _public_names().items()
        if name.isupper() and not isinstance(value, (str, int, float))
    }


def _readable_value(value: object) -> str | None:
    public = _public_constants().get(id(value))
    if public is not None:
        return public
    text = repr(value)
    if len(text) <= _SHORT_REPR and " at 0x" not in text:
        return text
    return None


def _readable_factory(factory: Any) -> str:
    if isinstance(factory, type) and factory.__module__ != "builtins":
        return f"{factory.__name__}()"
    made = _readable_value(factory())
    return made if made is not None else f"{factory.__qualname__}()"


def _field_factories(cls: type) -> dict[str, Any]:
    if dataclasses.is_dataclass(cls):
        return {
            field.name: field.default_factory
            for field in dataclasses.fields(cls)
            if field.default_factory is not dataclasses.MISSING
        }
    model_fields = getattr(cls, "model_fields", None)
    if isinstance(model_fields, dict):
        factories: dict[str, Any] = {}
        for name, info in model_fields.items():
            if info.default_factory is not None:
                factories[name] = factories[info.alias or name] = info.default_factory
        return factories
    return {}


def _defaults_of(obj: object) -> dict[str, object]:
    # The values themselves, from the function: autodoc_preserve_defaults has replaced the
    # defaults in ``inspect.signature`` by their source text.
    function: Any = obj.__init__ if isinstance(obj, type) else obj  # type: ignore[misc]
    function = inspect.unwrap(getattr(function, "__func__", function))
    code = getattr(function, "__code__", None)
    if code is None:
        return {}
    positional = code.co_varnames[: code.co_argcount]
    defaults = getattr(function, "__defaults__", None) or ()
    found: dict[str, object] = dict(
        zip(positional[len(positional) - len(defaults) :], defaults, strict=True)
    )
    found.update(getattr(function, "__kwdefaults__", None) or {})
    return found


def _readable_defaults(signature: str, obj: object) -> str:
    if isinstance(obj, type):
        for name, factory in _field_factories(obj).items():
            made = _readable_factory(factory)
            signature = signature.replace(f"{name}=<factory>", f"{name}={made}")
    for name, default in _defaults_of(obj).items():
        match = re.search(rf"(?<![\w.]){re.escape(name)}=(?P<default>[^,)]*)", signature)
        if match is None:
            continue
        written = match.group("default").strip()
        shown = _readable_value(default)
        if shown is None:
            continue
        # autodoc writes a default it could not keep as source with object_description
        # (sets sorted), so that is the text to look for.
        described = f"{name}={object_description(default)}"
        if shown != object_description(default) and described in signature:
            signature = signature.replace(described, f"{name}={shown}")
            continue
        is_private_name = _PRIVATE_CONSTANT.match(written) and written not in _public_names()
        if is_private_name or " at 0x" in written:
            signature = signature.replace(f"{name}={written}", f"{name}={shown}", 1)
    return signature


def _readable_signature(  # noqa: PLR0917 - the signature Sphinx calls it with
    app: Sphinx,  # noqa: ARG001 - part of that signature
    what: str,  # noqa: ARG001 - part of that signature
    name: str,
    obj: object,
    options: Any,  # noqa: ARG001 - part of that signature
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    if signature is None or not name.startswith("openfeature_litestar"):
        return None
    return _readable_defaults(signature, obj), return_annotation


# -- private bases and private paths ---------------------------------------------------------
# "Bases:" would name a private helper class (the stores' shared write logic), which a reader
# can neither import nor look up; its public methods are documented on each store instead
# (``:inherited-members:``).


def _is_private_class(base: object) -> bool:
    module = getattr(base, "__module__", "")
    if not module.startswith("openfeature_litestar."):
        return False
    public_ids = {id(value) for value in _public_names().values()}
    return id(base) not in public_ids


def _public_bases(
    app: Sphinx,  # noqa: ARG001 - part of that signature
    name: str,  # noqa: ARG001 - part of that signature
    obj: object,  # noqa: ARG001 - part of that signature
    options: Any,  # noqa: ARG001 - part of that signature
    bases: list[type],
) -> None:
    bases[:] = [base for base in bases if not _is_private_class(base)]


# A name is documented once, at the package's path (``openfeature_litestar.AuditHook``), but
# pages and docstrings also name it by another public path (``openfeature_litestar.hooks``
# re-exports the hooks) or by the private module it is defined in. Such a reference links to
# the documented object when dropping module parts from its path finds one.


def _documented_alias(app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: Any) -> Any:
    target: str = node.get("reftarget", "")
    in_our_module = str(node.get("py:module") or "").startswith("openfeature_litestar")
    if node.get("refdomain") != "py":
        return None
    if target.startswith("openfeature_litestar."):
        parts = target.removeprefix("openfeature_litestar.").split(".")
    elif in_our_module:  # a short name in one of our docstrings (``:class:`AuditHook```)
        parts = target.split(".")
    else:
        return None
    objects = env.get_domain("py").objects  # type: ignore[attr-defined]
    for start in range(len(parts)):
        candidate = ".".join(["openfeature_litestar", *parts[start:]])
        entry = objects.get(candidate)
        if entry is not None:
            return make_refnode(
                app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, candidate
            )
    return None


def setup(app: Sphinx) -> None:
    """Register the docstring lookup, readable defaults, public bases and alias references."""
    app.connect("autodoc-process-docstring", _public_constant_docstring)
    app.connect("autodoc-process-signature", _readable_signature)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("missing-reference", _documented_alias)
