"""What a reader sees in the built documentation: the version on every page, and the API.

The documentation is built once per session (the ``built_docs`` fixture, as CI builds
it); these tests read the HTML a reader gets.
"""

from __future__ import annotations

import html
import re
from importlib import metadata
from typing import TYPE_CHECKING

from .test_api_reference import pages_by_name, public_paths

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import BuiltDocs

# The anchor Sphinx gives an object's description: its full name.
_OBJECT_ANCHOR = re.compile(r'<dt class="sig sig-object py" id="(?P<name>[^"]+)"')


def test_every_page_names_the_version_it_documents(built_docs: Path) -> None:
    release = metadata.version("openfeature-litestar")
    pages = sorted(built_docs.rglob("*.html"))
    assert len(pages) > 20, "the build made fewer pages than the docs have"
    without = [
        str(page.relative_to(built_docs))
        for page in pages
        if f"Documentation for version {release}" not in page.read_text(encoding="utf-8")
    ]
    assert not without, f"pages that do not show version {release}: {without}"


def test_the_header_links_the_version_to_the_changelog(built_docs: Path) -> None:
    release = metadata.version("openfeature-litestar")
    index = (built_docs / "index.html").read_text(encoding="utf-8")
    assert re.search(rf'<a [^>]*href="changelog\.html"[^>]*>\s*v{re.escape(release)}\s*<', index)


def test_each_api_page_describes_the_names_it_documents(built_docs: Path) -> None:
    pages = pages_by_name()
    described: dict[str, set[str]] = {}
    for page in (built_docs / "api").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        described[page.stem] = {html.unescape(m["name"]) for m in _OBJECT_ANCHOR.finditer(text)}
    absent = sorted(
        name for name in public_paths() if name not in described.get(pages[name][0], set())
    )
    assert not absent, f"public names their API page does not describe: {absent}"


def test_no_api_signature_shows_a_factory_or_a_memory_address(built_docs: Path) -> None:
    unreadable = []
    for page in (built_docs / "api").glob("*.html"):
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
        unreadable += [
            f"{page.name}: {match}"
            for match in re.findall(r"\w+=(?:<factory>|<[^>]* at 0x[0-9a-f]+>)", text)
        ]
    assert not unreadable, f"defaults that do not read as values: {unreadable}"


def test_a_factory_default_reads_as_the_call_that_makes_it(built_docs: Path) -> None:
    web = html.unescape(
        re.sub(r"<[^>]+>", "", (built_docs / "api" / "web.html").read_text(encoding="utf-8"))
    )
    assert "sanitizer=Sanitizer()" in web
    assert "event_streams=EventStreamConfig()" in web
    insights = html.unescape(
        re.sub(r"<[^>]+>", "", (built_docs / "api" / "insights.html").read_text(encoding="utf-8"))
    )
    assert "unused_after=datetime.timedelta(days=7)" in insights


def test_a_reference_by_another_public_path_links_to_the_documented_name(built_docs: Path) -> None:
    # audit-and-privacy.rst names the hook as openfeature_litestar.hooks.AuditHook; it is
    # documented once, as openfeature_litestar.AuditHook.
    audit_page = (built_docs / "audit-and-privacy.html").read_text(encoding="utf-8")
    assert 'href="api/hooks.html#openfeature_litestar.AuditHook"' in audit_page


def test_the_write_methods_a_store_inherits_are_documented_on_it(built_docs: Path) -> None:
    stores = (built_docs / "api" / "stores.html").read_text(encoding="utf-8")
    for store in ("MemoryStore", "FileStore", "RedisStore", "SQLAlchemyStore"):
        for method in ("put_flag", "delete_flag", "replace_document"):
            assert f'id="openfeature_litestar.{store}.{method}"' in stores, (store, method)
    assert "DocumentWrites" not in stores, "a private base class is shown"


# What only a nitpicky build reports: a reference whose target no page documents.
_UNRESOLVED = "reference target not found"


def test_the_build_warns_of_nothing_but_references_to_other_projects(docs_build: BuiltDocs) -> None:
    # Types of the SDK, Litestar and the standard library are not documented here (the
    # build has no network for intersphinx); anything else is what -W fails on in CI.
    other = [line for line in docs_build.warnings if _UNRESOLVED not in line]
    assert not other, "\n".join(other)


def test_every_reference_to_one_of_our_names_resolves(docs_build: BuiltDocs) -> None:
    ours = re.compile(rf"{_UNRESOLVED}: ~?openfeature_litestar\b")
    broken = [line for line in docs_build.warnings if ours.search(line)]
    assert not broken, "\n".join(broken)
