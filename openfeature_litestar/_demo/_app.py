"""The demo: a small shop whose page depends on feature flags for the signed-in user.

It ships in the package (``pip install openfeature-litestar[server]``); run it with::

    openfeature-litestar demo                 # http://127.0.0.1:8000

and open http://127.0.0.1:8000/?user=alice&plan=pro&country=DE. Half of the users get
the new checkout (flag ``checkout-rollout``, a 50/50 split on the user id); users on the
pro plan see a beta banner (flag ``beta-banner``); a table shows every flag of the store
for that user, with its value, variant and reason, and the revision served. The flags
live in an embedded SQLite database (``.openfeature-litestar/flags.db`` under the working
directory), seeded from this package's ``flags.yaml`` (the repository's
``examples/flags.yaml``) while it is empty. Change a flag from another terminal while the
app runs, and reload the page: the app reads the store's changes within a second::

    uv run openfeature-litestar disable checkout-rollout    # everyone: the old checkout
    uv run openfeature-litestar set-variant beta-banner on  # everyone: the banner

What it shows:

* :class:`~openfeature_litestar.web.OpenFeaturePlugin` serving a store named by URL.
  Handlers get the OpenFeature client by dependency injection and evaluate flags
  without passing a context: the plugin's middleware makes each request's context the
  OpenFeature transaction context.
* A demo sign-in (an ``AbstractAuthenticationMiddleware``) that puts a :class:`User` in
  ``scope["user"]``, and a context builder that wraps
  :class:`~openfeature_litestar.web.ContextBuilder` (the targeting key from the user's
  id) to add the user's plan and country as attributes.
* :class:`~openfeature_litestar.hooks.AuditHook` logging every evaluation, the targeting
  key hashed, at DEBUG on ``openfeature_litestar.audit`` (so that the terminal shows the
  server's own lines; set that logger to DEBUG to watch the records).

The sign-in trusts whatever the query string says: it is a stand-in for real
authentication, for trying the flags as different users.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.enums import MediaType
from litestar.logging import LoggingConfig
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.response import Redirect
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from openfeature_litestar import (
    HASH_KEY_ENV,
    ConfigurationError,
    FlagProvider,
    IdentifierHasher,
    MemoryStore,
    RevisionConflict,
    load_document,
    mask_url,
    store_from_url,
)
from openfeature_litestar._stores._url import DEFAULT_STORE_URL, resolve_store_url
from openfeature_litestar.hooks import AuditHook
from openfeature_litestar.web import (
    ContextBuilder,
    OpenFeatureClientDependency,
    OpenFeatureConfig,
    OpenFeaturePlugin,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from litestar.connection import ASGIConnection
    from openfeature.client import OpenFeatureClient
    from openfeature.provider import FeatureProvider

__all__ = [
    "BANNER_FLAG",
    "CHECKOUT_FLAG",
    "SEED_FILE",
    "FlagResult",
    "User",
    "build_context",
    "cli_options",
    "create_app",
    "seed_store",
]

logger = logging.getLogger(__name__)

CHECKOUT_FLAG = "checkout-rollout"
"""The boolean flag that picks the new checkout (``true``) or the old one."""

BANNER_FLAG = "beta-banner"
"""The boolean flag that shows the beta banner."""

SEED_FILE = Path(__file__).with_name("flags.yaml")
"""The document an empty namespace is seeded with (a copy of ``examples/flags.yaml``)."""

SEED_ACTOR = "demo-seed"
"""Who the audit trail says seeded the store."""

LOGIN_COOKIE = "demo_login"
"""The cookie that remembers the demo sign-in (``id:plan:country``)."""

SERVE_TIMEOUT = 10.0
"""Seconds start-up waits for the provider to serve the freshly seeded flags."""

_USER_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_PLAN = re.compile(r"[a-z]{1,16}")
_COUNTRY = re.compile(r"[A-Z]{2}")

SAMPLE_USERS = (
    ("alice", "pro", "DE"),
    ("bob", "free", "US"),
    ("carol", "pro", "FR"),
    ("dave", "free", "NL"),
    ("erin", "free", "DE"),
    ("frank", "pro", "US"),
)
"""Users the page links to, to try the flags as each of them."""


@dataclass(frozen=True)
class User:
    """A signed-in demo user: what an authentication middleware puts in ``scope["user"]``.

    Attributes:
        id: The user's id; the context builder makes it the targeting key.
        plan: The user's plan (``free`` or ``pro``).
        country: The user's country, an ISO 3166 alpha-2 code.
    """

    id: str
    plan: str = "free"
    country: str = "US"


def parse_user(user_id: str | None, plan: str | None, country: str | None) -> User | None:
    """The user named by sign-in values, or ``None`` for an anonymous visitor.

    Args:
        user_id: 1-32 letters, digits, ``_`` or ``-``; anything else means anonymous.
        plan: Lower-case letters; anything else means ``free``.
        country: Two letters; anything else means ``US``.

    Returns:
        The user, or ``None``.
    """
    if not user_id or _USER_ID.fullmatch(user_id) is None:
        return None
    plan = plan if plan and _PLAN.fullmatch(plan) else "free"
    country = (country or "").upper()
    return User(user_id, plan, country if _COUNTRY.fullmatch(country) else "US")


class DemoLoginMiddleware(AbstractAuthenticationMiddleware):
    """Sign in from the query string (``?user=alice&plan=pro``), remembered in a cookie.

    There is no password: anyone can be anyone. It stands in for the authentication a
    real application has; what matters here is that ``scope["user"]`` is set before the
    OpenFeature middleware builds the request's context.
    """

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        """Read the user from the query string, else from the sign-in cookie.

        Args:
            connection: The request.

        Returns:
            The user (``None`` when anonymous); ``auth`` says where it came from.
        """
        query = connection.query_params
        if "user" in query:
            user = parse_user(query.get("user"), query.get("plan"), query.get("country"))
            return AuthenticationResult(user=user, auth="query")
        user_id, _, rest = connection.cookies.get(LOGIN_COOKIE, "").partition(":")
        plan, _, country = rest.partition(":")
        return AuthenticationResult(user=parse_user(user_id, plan, country), auth="cookie")


_targeting = ContextBuilder(targeting_key="id", static={"app": "openfeature-litestar-demo"})


def build_context(connection: ASGIConnection[Any, Any, Any, Any]) -> EvaluationContext:
    """The request's evaluation context: the user's id, plan and country.

    :class:`~openfeature_litestar.web.ContextBuilder` takes only the targeting key from
    the user; wrapping it is the way to add attributes of the user. The plugin passes
    the result through its sanitizer before the SDK sees it.

    Args:
        connection: The request.

    Returns:
        The context; an anonymous visitor's has no targeting key.
    """
    context = _targeting(connection)
    user = connection.scope.get("user")
    if isinstance(user, User):
        attributes = {"plan": user.plan, "country": user.country}
        context = context.merge(EvaluationContext(attributes=attributes))
    return context


@dataclass(frozen=True)
class FlagResult:
    """One flag's answer for the request, as the page and the JSON endpoint show it.

    Attributes:
        value: The flag's value (for the page's two flags, ``False`` when it is missing
            or in error).
        variant: The variant served, if any.
        reason: Why (``TARGETING_MATCH``, ``DEFAULT``, ``DISABLED``, ...).
        error: The error code, if the evaluation failed (``FLAG_NOT_FOUND``, ...).
    """

    value: Any
    variant: str | None
    reason: str | None
    error: str | None


async def evaluate_flags(client: OpenFeatureClient) -> dict[str, FlagResult]:
    """Evaluate the page's flags for the current request.

    No context is passed: the plugin's middleware has made the request's context the
    transaction context, which every evaluation in the request merges in.

    Args:
        client: The OpenFeature client the plugin injects.

    Returns:
        Flag key to result.
    """
    results: dict[str, FlagResult] = {}
    for key in (CHECKOUT_FLAG, BANNER_FLAG):
        details = await client.get_boolean_details_async(key, default_value=False)
        error = details.error_code.value if details.error_code is not None else None
        results[key] = FlagResult(details.value, details.variant, details.reason, error)
    return results


def evaluate_every_flag(provider: FeatureProvider) -> tuple[int, dict[str, FlagResult]]:
    """Every flag of the store for the current request, and the revision served.

    What an OFREP bulk evaluation answers, from one snapshot: the provider's
    ``resolve_all_details`` with the request's context (the transaction context the
    plugin set, over the global one). It bypasses the client's hooks, so the audit log
    records only the page's own two evaluations.

    Args:
        provider: The plugin's provider.

    Returns:
        The revision, and flag key to result in document order (nothing for a provider
        that is not a :class:`~openfeature_litestar.FlagProvider`).
    """
    if not isinstance(provider, FlagProvider):
        return 0, {}
    context = api.get_evaluation_context().merge(api.get_transaction_context())
    revision, every = provider.resolve_all_details(context)
    results = {
        key: FlagResult(
            details.value,
            details.variant,
            details.reason,
            details.error_code.value if details.error_code is not None else None,
        )
        for key, details in every.items()
    }
    return revision, results


# -- handlers -------------------------------------------------------------------------------


@get("/", media_type=MediaType.HTML)
async def index(
    request: Request[User | None, str | None, State], feature_flags: OpenFeatureClientDependency
) -> Response[str]:
    """The shop page: who you are, your checkout, the banner, how to flip the flags."""
    flags = await evaluate_flags(feature_flags)
    revision, every = evaluate_every_flag(request.app.state["provider"])
    page = render_page(
        request.user,
        flags,
        cli_options=request.app.state.get("cli_options", ""),
        every_flag=every,
        revision=revision,
    )
    response = Response(page, media_type=MediaType.HTML)
    if request.auth == "query":
        _remember_login(response, request.user)
    return response


@get("/api/flags")
async def flags_api(
    request: Request[User | None, str | None, State], feature_flags: OpenFeatureClientDependency
) -> dict[str, Any]:
    """The signed-in user and their flag values, as JSON."""
    user = request.user
    flags = await evaluate_flags(feature_flags)
    revision, every = evaluate_every_flag(request.app.state["provider"])
    return {
        "user": None if user is None else asdict(user),
        "checkout": "new" if flags[CHECKOUT_FLAG].value else "old",
        "beta_banner": flags[BANNER_FLAG].value,
        "flags": {key: asdict(result) for key, result in flags.items()},
        "revision": revision,
        "every_flag": {key: asdict(result) for key, result in every.items()},
    }


@get("/logout")
async def logout() -> Redirect:
    """Forget the sign-in and go back to the page."""
    response = Redirect("/")
    response.delete_cookie(LOGIN_COOKIE)
    return response


def _remember_login(response: Response[str], user: User | None) -> None:
    if user is None:
        response.delete_cookie(LOGIN_COOKIE)
    else:
        value = f"{user.id}:{user.plan}:{user.country}"
        response.set_cookie(LOGIN_COOKIE, value, httponly=True, samesite="lax")


# -- the page -------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1f2328; }
.banner { background: #fff8c5; border: 1px solid #d4a72c; padding: .6rem 1rem; border-radius: 6px; }
.checkout { border: 2px solid; padding: 1rem; border-radius: 8px; margin: 1rem 0; }
.new { border-color: #1f883d; } .old { border-color: #8c959f; }
code, pre { background: #f6f8fa; border-radius: 4px; padding: .1rem .3rem; }
pre { padding: .6rem; overflow-x: auto; }
.why { color: #59636e; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #d1d9e0; }
"""


def _why(key: str, result: FlagResult) -> str:
    parts = [f"flag <code>{html.escape(key)}</code>"]
    if result.variant is not None:
        parts.append(f"variant <code>{html.escape(result.variant)}</code>")
    if result.reason is not None:
        parts.append(f"reason {html.escape(result.reason)}")
    if result.error is not None:
        parts.append(f"<strong>error {html.escape(result.error)}</strong>")
    return f'<p class="why">{", ".join(parts)}</p>'


def _who(user: User | None) -> str:
    links = " · ".join(
        f'<a href="/?user={name}&amp;plan={plan}&amp;country={country}">'
        f"{name} ({plan}, {country})</a>"
        for name, plan, country in SAMPLE_USERS
    )
    if user is None:
        return f"<p>You are not signed in. Sign in as: {links}</p>"
    return (
        f"<p>Signed in as <strong>{html.escape(user.id)}</strong> (plan "
        f"<code>{html.escape(user.plan)}</code>, country <code>{html.escape(user.country)}</code>)"
        f' · <a href="/logout">sign out</a></p><p>Try another user: {links}</p>'
    )


def _json_link(user: User | None) -> str:
    query = "" if user is None else f"?user={user.id}&plan={user.plan}&country={user.country}"
    path = html.escape(f"/api/flags{query}")
    return f'<a href="{path}"><code>{path}</code></a>'


def _shown_value(value: Any) -> str:
    return html.escape(json.dumps(value, ensure_ascii=False))


def _every_flag_table(every_flag: Mapping[str, FlagResult], revision: int) -> str:
    rows = "\n".join(
        f"<tr><td><code>{html.escape(key)}</code></td><td><code>{_shown_value(result.value)}"
        f"</code></td><td>{html.escape(result.variant or '')}</td>"
        f"<td>{html.escape(result.reason or '')}"
        f"{f' ({html.escape(result.error)})' if result.error else ''}</td></tr>"
        for key, result in every_flag.items()
    )
    return (
        f'<h2>Every flag, for you</h2><p class="why">Store revision {revision}, '
        f"{len(every_flag)} flags.</p>\n<table><thead><tr><th>Flag</th><th>Value</th>"
        f"<th>Variant</th><th>Reason</th></tr></thead><tbody>\n{rows}\n</tbody></table>"
    )


def render_page(
    user: User | None,
    flags: Mapping[str, FlagResult],
    *,
    cli_options: str,
    every_flag: Mapping[str, FlagResult] | None = None,
    revision: int = 0,
) -> str:
    """The shop page as HTML (no JavaScript).

    Args:
        user: The signed-in user, if any.
        flags: The request's flag results (from :func:`evaluate_flags`).
        cli_options: ``--store``/``--namespace`` options the shown commands need, if any.
        every_flag: Every flag's result for the request (from
            :func:`evaluate_every_flag`), shown as a table.
        revision: The store revision those results come from.

    Returns:
        The page.
    """
    checkout, banner = flags[CHECKOUT_FLAG], flags[BANNER_FLAG]
    banner_html = (
        '<p class="banner"><strong>Beta:</strong> pro plans get early access to new features.</p>'
        if banner.value
        else ""
    )
    kind = "new" if checkout.value else "old"
    title = "The new one-page checkout" if checkout.value else "The classic checkout"
    command = f"uv run openfeature-litestar{{}}{html.escape(cli_options)}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>openfeature-litestar demo shop</title>
<style>{_STYLE}</style></head>
<body>
{banner_html}
<h1>Demo shop</h1>
{_who(user)}
<div class="checkout {kind}" data-checkout="{kind}"><h2>{title}</h2>
{_why(CHECKOUT_FLAG, checkout)}</div>
{_why(BANNER_FLAG, banner)}
<h2>Flip a flag while this runs</h2>
<p>From another terminal, in the same directory:</p>
<pre>{command.format(" disable " + CHECKOUT_FLAG)}    # everyone gets the old checkout
{command.format(" enable " + CHECKOUT_FLAG)}     # back to the 50/50 rollout
{command.format(" set-variant " + BANNER_FLAG + " on")}  # the banner for everyone
{command.format(" set-variant " + BANNER_FLAG + " off")} # the banner for pro plans only
{command.format(" audit")}                       # who changed what</pre>
<p>The app checks the store for changes every second: reload this page to see yours.
Your flags as JSON: {_json_link(user)}.</p>
{_every_flag_table(every_flag or {}, revision)}
</body></html>
"""


# -- start-up -------------------------------------------------------------------------------


async def seed_store(
    url: str,
    *,
    namespace: str | None = None,
    seed_file: Path = SEED_FILE,
    provider: FeatureProvider | None = None,
) -> int | None:
    """Write ``seed_file`` into the store's namespace if it has never been written.

    Two processes starting together cannot both seed: the write expects revision 0, so
    the second one's is refused and it keeps the first one's.

    Args:
        url: The store's URL.
        namespace: The namespace (default: the URL's, else ``default``).
        seed_file: The document to seed with.
        provider: When it is a :class:`~openfeature_litestar.FlagProvider` of the same
            store, wait (at most :data:`SERVE_TIMEOUT` seconds) until it serves the
            seeded flags, so that the first page already shows them.

    Returns:
        The revision written, or ``None`` when the namespace was not empty.
    """
    store = store_from_url(url, namespace=namespace)
    try:
        stored = await store.load()
        where = f"namespace {store.namespace!r} of {mask_url(url)}"
        if stored.revision != 0:
            logger.info("serving %s at revision %d", where, stored.revision)
            return None
        try:
            revision = await store.replace_document(
                load_document(seed_file),
                actor=SEED_ACTOR,
                expected_revision=0,
                note=f"seeded from {seed_file.name}",
            )
        except RevisionConflict:
            logger.info("%s was seeded by another process", where)
            return None
        logger.info("seeded %s from %s (revision %d)", where, seed_file.name, revision)
    finally:
        await store.close()
    if isinstance(provider, FlagProvider):
        await _wait_until_served(provider, revision)
    return revision


async def _wait_until_served(provider: FlagProvider, revision: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SERVE_TIMEOUT
    while provider.snapshot.revision < revision:
        if loop.time() > deadline:
            logger.warning("the provider has not loaded revision %d yet; carrying on", revision)
            return
        await asyncio.sleep(0.05)


def _log_hashing(hasher: IdentifierHasher) -> None:
    if hasher.ephemeral:
        logger.warning(
            "audit log: targeting keys are hashed with a random key made for this process "
            "(IdentifierHasher(ephemeral=True)), so a user's pseudonym changes when the app "
            "restarts; fine for a demo. Set %s to a secret for stable pseudonyms.",
            HASH_KEY_ENV,
        )
    else:
        logger.info("audit log: targeting keys are hashed with the key in %s", HASH_KEY_ENV)


def cli_options(url: str, namespace: str | None) -> str:
    """The options a command-line command needs to reach the app's store.

    Args:
        url: The store's URL (its password is masked in the result).
        namespace: The namespace, if not the URL's or the default.

    Returns:
        ``""`` for the default store, else `` --store URL`` (and `` --namespace NAME``).
    """
    options = "" if url == DEFAULT_STORE_URL else f" --store {mask_url(url)}"
    return options + (f" --namespace {namespace}" if namespace else "")


def create_app(store: str | None = None, *, namespace: str | None = None) -> Litestar:
    """Build the demo application.

    Args:
        store: The store's URL; default: the environment variable
            ``OPENFEATURE_LITESTAR_STORE``, else the embedded SQLite database
            ``.openfeature-litestar/flags.db`` (what the CLI's store commands use too).
        namespace: The namespace; default: the URL's, else ``default``.

    Returns:
        The application (nothing is connected until it starts).

    Raises:
        ConfigurationError: The URL is invalid, or names an in-memory store, which the
            command line could not write to.
    """
    url = resolve_store_url(store)
    flag_store = store_from_url(url, namespace=namespace)
    if isinstance(flag_store, MemoryStore):
        raise ConfigurationError(
            "the demo needs a store another process can write (sqlite, file, redis or "
            "postgresql), so that the command line can flip its flags"
        )
    hasher = IdentifierHasher(ephemeral=True)
    # At DEBUG: a line per evaluation would bury the server's own lines in the terminal.
    audit = AuditHook(hasher=hasher, level=logging.DEBUG)
    plugin = OpenFeaturePlugin(
        OpenFeatureConfig(store=flag_store, hooks=[audit], context_builder=build_context)
    )

    async def seed() -> None:
        await seed_store(url, namespace=namespace, provider=plugin.provider)

    def announce() -> None:
        _log_hashing(hasher)

    async def flush_audit_log() -> None:
        # Shutdown hooks run after the plugin has removed the hook: write what is queued.
        await anyio.to_thread.run_sync(audit.close)

    startup: list[Callable[[], Any]] = [announce, seed]
    return Litestar(
        route_handlers=[index, flags_api, logout],
        middleware=[DemoLoginMiddleware],
        plugins=[plugin],
        on_startup=startup,
        on_shutdown=[flush_audit_log],
        state=State({"cli_options": cli_options(url, namespace), "provider": plugin.provider}),
        logging_config=LoggingConfig(loggers={"openfeature_litestar": {"level": "INFO"}}),
    )
