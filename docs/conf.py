"""Sphinx configuration for the openfeature-litestar documentation.

Build with ``uv run --group docs sphinx-build -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

from importlib import metadata

project = "openfeature-litestar"
author = "Seed 5ccf33cd maintainers"
copyright = "Seed 5ccf33cd maintainers; Apache-2.0"

try:
    release = metadata.version("openfeature-litestar")
except metadata.PackageNotFoundError:  # building from a tree where it is not installed
    release = "0.0.0"
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
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
}
html_static_path: list[str] = []
