"""Sphinx configuration for the openfeature-litestar documentation.

Build with ``uv run --group docs sphinx-build -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import sys
from importlib import metadata
from typing import TYPE_CHECKING, Any

from sphinx.pycode import ModuleAnalyzer

if TYPE_CHECKING:
    from sphinx.application import Sphinx

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
# Each directive in api.rst says which members it documents.
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


def setup(app: Sphinx) -> None:
    """Register the docstring lookup for re-exported constants."""
    app.connect("autodoc-process-docstring", _public_constant_docstring)
