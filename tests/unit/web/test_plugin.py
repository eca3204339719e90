"""OpenFeaturePlugin: lifecycle, hooks, propagator, dependencies, two apps in one process."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from litestar import Litestar, get
from litestar.di import Provide
from litestar.testing import AsyncTestClient, TestClient
from openfeature import api, transaction_context
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext
from openfeature.hook import Hook, HookContext, HookHints
from openfeature.provider import ProviderStatus
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider
from openfeature.transaction_context import ContextVarsTransactionContextPropagator

from openfeature_litestar import (
    AuditHook,
    ConfigurationError,
    FileStore,
    FlagProvider,
    IdentifierHasher,
    MemoryStore,
)
from openfeature_litestar.web import (
    EvaluationContextDependency,
    OFREPConfig,
    OpenFeatureClientDependency,
    OpenFeatureConfig,
    OpenFeaturePlugin,
    bearer_token_guard,
)
from openfeature_litestar.web._admin import AdminConfig

if TYPE_CHECKING:
    from pathlib import Path

    from openfeature.flag_evaluation import FlagEvaluationDetails


@get("/whoami")
async def whoami(feature_flags: OpenFeatureClientDependency) -> str:
    return await feature_flags.get_string_value_async("whoami", "error")


class RecordingHook(Hook):
    """A real hook that records the flags it saw evaluated."""

    def __init__(self) -> None:
        self.flags: list[str] = []

    def after(
        self,
        hook_context: HookContext,
        details: FlagEvaluationDetails[Any],  # noqa: ARG002 - the SDK's signature
        hints: HookHints,  # noqa: ARG002 - the SDK's signature
    ) -> None:
        self.flags.append(hook_context.flag_key)


# -- configuration --------------------------------------------------------------------


def test_exactly_one_of_provider_and_store() -> None:
    with pytest.raises(ConfigurationError, match="exactly one"):
        OpenFeatureConfig()
    with pytest.raises(ConfigurationError, match="exactly one"):
        OpenFeatureConfig(provider=InMemoryProvider({}), store=MemoryStore())


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"client_dependency_key": ""}, "client_dependency_key must not be empty"),
        ({"scope_key": ""}, "scope_key must not be empty"),
        ({"context_dependency_key": "feature_flags"}, "give them different names"),
        ({"startup_timeout": 0}, "startup_timeout must be a positive number"),
        ({"domain": ""}, "domain must be a name or None"),
    ],
)
def test_settings_that_can_never_work(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        OpenFeatureConfig(store=MemoryStore(), **settings)


def test_a_store_url_is_turned_into_a_flag_provider(tmp_path: Path) -> None:
    plugin = OpenFeaturePlugin(OpenFeatureConfig(store=f"file:{tmp_path / 'flags.yaml'}"))
    assert isinstance(plugin.provider, FlagProvider)
    assert isinstance(plugin.provider.store, FileStore)


def test_a_bad_store_url_fails_when_the_plugin_is_made() -> None:
    with pytest.raises(ConfigurationError, match="nope"):
        OpenFeaturePlugin(OpenFeatureConfig(store="nope://host"))


def test_an_existing_dependency_is_never_replaced(domain: str) -> None:
    plugin = OpenFeaturePlugin(OpenFeatureConfig(store=MemoryStore(), domain=domain))
    with pytest.raises(ConfigurationError, match="'feature_flags'"):
        Litestar(
            [],
            dependencies={"feature_flags": Provide(lambda: 1, sync_to_thread=False)},
            plugins=[plugin],
        )


# -- lifecycle ------------------------------------------------------------------------


def test_startup_registers_and_initializes_shutdown_shuts_down(make_app: Any, domain: str) -> None:
    app, plugin = make_app([whoami])
    provider = plugin.provider
    assert isinstance(provider, FlagProvider)
    assert api.get_client(domain).provider is not provider
    with TestClient(app) as client:
        assert api.get_client(domain).provider is provider
        assert api.get_client(domain).get_provider_status() is ProviderStatus.READY
        assert provider.snapshot.revision == 1  # the first load happened
        assert client.get("/whoami", headers={"X-User": "user-2"}).text == "user-2"
        assert plugin.client().get_string_value("whoami", "error") == "anonymous"
    # Unbound, and its background sync stopped.
    assert api.get_client(domain).provider is not provider
    assert not provider.running


def test_an_application_can_start_again_after_shutdown(make_app: Any, domain: str) -> None:
    app, plugin = make_app([whoami])
    for _ in range(2):
        with TestClient(app) as client:
            assert api.get_client(domain).get_provider_status() is ProviderStatus.READY
            assert client.get("/whoami", headers={"X-User": "user-1"}).text == "user-1"
        assert isinstance(plugin.provider, FlagProvider)
        assert not plugin.provider.running


def test_the_default_domain(make_app: Any) -> None:
    app, plugin = make_app([whoami], domain=None)
    with TestClient(app) as client:
        assert api.get_client().provider is plugin.provider
        assert client.get("/whoami", headers={"X-User": "user-4"}).text == "user-4"
    assert api.get_client().provider is not plugin.provider


def test_hooks_are_added_on_startup_and_removed_on_shutdown(make_app: Any) -> None:
    hook, other = RecordingHook(), RecordingHook()
    api.add_hooks([other])
    app, _ = make_app([whoami], hooks=[hook])
    with TestClient(app) as client:
        assert api.get_hooks()[-1] is hook
        client.get("/whoami")
    assert hook.flags == ["whoami"]
    assert api.get_hooks() == [other]


def test_a_fatal_provider_error_fails_startup_and_cleans_up(domain: str) -> None:
    class Broken(InMemoryProvider):
        def initialize(self, evaluation_context: EvaluationContext) -> None:  # noqa: ARG002 - the SDK's signature
            from openfeature.exception import ProviderFatalError  # noqa: PLC0415

            raise ProviderFatalError("bad configuration: password=s3cret")

    hook = RecordingHook()
    provider = Broken({})
    config = OpenFeatureConfig(provider=provider, domain=domain, hooks=[hook])
    app = Litestar([whoami], plugins=[OpenFeaturePlugin(config)])
    # The test client's task group wraps what the lifespan raised.
    expected = pytest.RaisesExc(ConfigurationError, match=r"cannot start: bad configuration")
    with pytest.RaisesGroup(expected, flatten_subgroups=True) as raised, TestClient(app):
        pass
    assert "s3cret" not in str(raised.value.exceptions[0])
    assert hook not in api.get_hooks()
    assert api.get_client(domain).provider is not provider


def test_an_unreachable_store_does_not_stop_the_application(make_app: Any) -> None:
    # A store that is not there yet: the app starts, flags answer their defaults.
    store = FileStore(f"/nonexistent-{uuid.uuid4()}/flags.yaml")
    app, plugin = make_app([whoami], store=store, startup_timeout=5)
    with TestClient(app) as client:
        assert client.get("/whoami", headers={"X-User": "user-1"}).text == "error"
    assert isinstance(plugin.provider, FlagProvider)
    assert not plugin.provider.running


def test_any_openfeature_provider(make_app: Any, domain: str) -> None:
    provider = InMemoryProvider({"whoami": InMemoryFlag("on", {"on": "in-memory"})})
    app, plugin = make_app([whoami], provider=provider)
    assert plugin.provider is provider
    with TestClient(app) as client:
        assert client.get("/whoami").text == "in-memory"
    assert api.get_client(domain).provider is not provider


def test_two_apps_in_one_process_with_different_domains(make_app: Any) -> None:
    first_domain, second_domain = f"a-{uuid.uuid4()}", f"b-{uuid.uuid4()}"
    first_provider = InMemoryProvider({"whoami": InMemoryFlag("x", {"x": "first"})})
    second_provider = InMemoryProvider({"whoami": InMemoryFlag("x", {"x": "second"})})
    first, _ = make_app([whoami], provider=first_provider, domain=first_domain)
    second, _ = make_app([whoami], provider=second_provider, domain=second_domain)

    async def scenario() -> None:
        async with AsyncTestClient(second) as two:
            async with AsyncTestClient(first) as one:
                assert (await one.get("/whoami")).text == "first"
                assert (await two.get("/whoami")).text == "second"
            # The first app shut down; the second one's provider is untouched.
            assert api.get_client(first_domain).provider is not first_provider
            assert api.get_client(second_domain).provider is second_provider
            assert (await two.get("/whoami")).text == "second"

    asyncio.run(scenario())
    assert api.get_client(first_domain).provider is not first_provider
    assert api.get_client(second_domain).provider is not second_provider


# -- propagator -----------------------------------------------------------------------


def current_propagator() -> Any:
    return transaction_context._evaluation_transaction_context_propagator


def test_the_propagator_is_installed_when_none_is(make_app: Any) -> None:
    api.clear_hooks()
    transaction_context.clear_transaction_context_propagator()
    app, _ = make_app([whoami])
    with TestClient(app):
        assert isinstance(current_propagator(), ContextVarsTransactionContextPropagator)


def test_a_configured_propagator_is_never_replaced(make_app: Any) -> None:
    mine = ContextVarsTransactionContextPropagator()
    api.set_transaction_context_propagator(mine)
    app, _ = make_app([whoami])
    with TestClient(app) as client:
        assert current_propagator() is mine
        assert client.get("/whoami", headers={"X-User": "user-3"}).text == "user-3"


def test_set_propagator_false_installs_nothing(make_app: Any) -> None:
    transaction_context.clear_transaction_context_propagator()
    before = current_propagator()
    app, _ = make_app([whoami], set_propagator=False)
    with TestClient(app) as client:
        assert current_propagator() is before
        # Without a propagator the transaction context does not reach evaluations.
        assert client.get("/whoami", headers={"X-User": "user-3"}).text == "anonymous"


# -- dependency injection -------------------------------------------------------------


def test_the_client_and_the_context_are_injected(make_app: Any, domain: str) -> None:
    @get("/both")
    async def both(
        feature_flags: OpenFeatureClientDependency,
        evaluation_context: EvaluationContextDependency,
    ) -> dict[str, Any]:
        assert isinstance(feature_flags, OpenFeatureClient)
        assert isinstance(evaluation_context, EvaluationContext)
        return {
            "domain": feature_flags.domain,
            "targeting_key": evaluation_context.targeting_key,
            # The injected context used explicitly, without the transaction context.
            "flag": await feature_flags.get_string_value_async(
                "whoami", "error", evaluation_context
            ),
        }

    app, _ = make_app([both], set_propagator=False)
    with TestClient(app) as client:
        body = client.get("/both", headers={"X-User": "user-2"}).json()
    assert body == {"domain": domain, "targeting_key": "user-2", "flag": "user-2"}


def test_dependency_keys_are_configurable(make_app: Any) -> None:
    @get("/custom", sync_to_thread=False)
    def custom(
        flags: OpenFeatureClientDependency, ctx: EvaluationContextDependency
    ) -> dict[str, Any]:
        return {"flag": flags.get_string_value("whoami", "error"), "key": ctx.targeting_key}

    app, _ = make_app(
        [custom], client_dependency_key="flags", context_dependency_key="ctx", exclude="^/x"
    )
    with TestClient(app) as client:
        body = client.get("/custom", headers={"X-User": "user-0"}).json()
    assert body == {"flag": "user-0", "key": "user-0"}


def test_an_excluded_path_injects_an_empty_context(make_app: Any) -> None:
    @get("/skip")
    async def skip(evaluation_context: EvaluationContextDependency) -> str:
        return str(evaluation_context.targeting_key)

    app, _ = make_app([skip], exclude="^/skip")
    with TestClient(app) as client:
        assert client.get("/skip", headers={"X-User": "user-0"}).text == "None"


# -- OFREP and admin API wiring -------------------------------------------------------


OFREP_TOKEN = uuid.uuid4().hex


def test_ofrep_is_mounted_with_its_guards(make_app: Any) -> None:

    ofrep = OFREPConfig(guards=[bearer_token_guard(OFREP_TOKEN)])
    app, _ = make_app([whoami], ofrep=ofrep)
    url = "/ofrep/v1/evaluate/flags/whoami"
    body = {"context": {"targetingKey": "user-3"}}
    with TestClient(app) as client:
        assert client.post(url, json=body).status_code == 401
        answer = client.post(url, json=body, headers={"Authorization": f"Bearer {OFREP_TOKEN}"})
        # The context is the body's, not the authenticated user's.
        headers = {"Authorization": f"Bearer {OFREP_TOKEN}", "X-User": "user-1"}
        from_body = client.post(url, json=body, headers=headers)
        assert client.get("/whoami", headers={"X-User": "user-1"}).text == "user-1"
    assert answer.status_code == 200
    assert answer.json()["value"] == "user-3"
    assert from_body.json()["value"] == "user-3"


def test_ofrep_never_mounts_unguarded(make_app: Any) -> None:

    with pytest.raises(ConfigurationError, match="readable by anyone"):
        make_app([whoami], ofrep=OFREPConfig())


def test_ofrep_needs_a_flag_provider(make_app: Any) -> None:

    provider = InMemoryProvider({"x": InMemoryFlag("on", {"on": True})})
    with pytest.raises(ConfigurationError, match="not one"):
        make_app([whoami], provider=provider, ofrep=OFREPConfig(public=True))


def test_the_admin_api_is_mounted_on_the_plugins_store(make_app: Any, domain: str) -> None:
    from openfeature_litestar.web._admin import AdminConfig  # noqa: PLC0415

    store = MemoryStore({"flags": {}}, namespace=f"ns-{domain}")
    admin = AdminConfig(guards=[bearer_token_guard(OFREP_TOKEN)])
    app, _ = make_app([whoami], store=store, admin=admin)
    with TestClient(app) as client:
        assert client.get("/admin/v1/namespaces").status_code == 401
        response = client.get(
            "/admin/v1/namespaces", headers={"Authorization": f"Bearer {OFREP_TOKEN}"}
        )
    assert response.status_code == 200
    assert [entry["name"] for entry in response.json()["namespaces"]] == [f"ns-{domain}"]


def test_the_admin_api_needs_a_writable_store_or_its_own(make_app: Any) -> None:
    from openfeature_litestar.web._admin import AdminConfig  # noqa: PLC0415

    provider = InMemoryProvider({"x": InMemoryFlag("on", {"on": True})})
    admin = AdminConfig(guards=[bearer_token_guard(OFREP_TOKEN)])
    with pytest.raises(ConfigurationError, match="writable store"):
        make_app([whoami], provider=provider, admin=admin)
    own = AdminConfig(
        guards=admin.guards, stores={"other": MemoryStore({"flags": {}}, namespace="other")}
    )
    app, _ = make_app([whoami], provider=provider, admin=own)
    with TestClient(app) as client:
        response = client.get(
            "/admin/v1/namespaces", headers={"Authorization": f"Bearer {OFREP_TOKEN}"}
        )
    assert [entry["name"] for entry in response.json()["namespaces"]] == ["other"]


def test_the_admin_api_never_mounts_unguarded(make_app: Any) -> None:

    with pytest.raises(ConfigurationError):
        make_app([whoami], admin=AdminConfig())


def test_one_provider_shared_by_two_apps_keeps_serving_after_one_stops(make_app: Any) -> None:
    def document(answer: str) -> dict[str, Any]:
        variants = {"user-1": "user-1", "anonymous": "anonymous"}
        return {
            "flags": {
                "whoami": {"state": "ENABLED", "variants": variants, "defaultVariant": answer}
            }
        }

    store = MemoryStore(document("anonymous"))
    shared = FlagProvider(store)
    first_domain, second_domain = f"a-{uuid.uuid4()}", f"b-{uuid.uuid4()}"
    first, _ = make_app([whoami], provider=shared, domain=first_domain)
    second, _ = make_app([whoami], provider=shared, domain=second_domain)

    async def scenario() -> str:
        async with AsyncTestClient(second) as two:
            async with AsyncTestClient(first):
                pass
            # The first app's shutdown must not have stopped the shared provider's sync.
            store.replace(document("user-1"))
            deadline = time.monotonic() + 10
            while (answer := (await two.get("/whoami")).text) != "user-1":
                assert time.monotonic() < deadline, answer
                await asyncio.sleep(0.02)
            return answer

    assert asyncio.run(scenario()) == "user-1"
    assert shared.snapshot.revision == 2


class _SlowToStart(InMemoryProvider):
    """A provider whose initialize() takes a while, so that a start-up can be cancelled."""

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        time.sleep(0.5)
        super().initialize(evaluation_context)


def test_a_cancelled_lifespan_leaves_no_hooks_or_provider_behind(domain: str) -> None:
    hook = AuditHook(hasher=IdentifierHasher(ephemeral=True), sink=lambda _record: None)
    provider = _SlowToStart({"whoami": InMemoryFlag("x", {"x": "slow"})})
    plugin = OpenFeaturePlugin(OpenFeatureConfig(provider=provider, domain=domain, hooks=[hook]))

    async def scenario() -> None:
        # Cancelled while the provider starts (a server stopped during start-up).
        with anyio.move_on_after(0.1):
            async with plugin.lifespan(Litestar([])):
                await anyio.sleep(10)

    asyncio.run(scenario())
    assert hook not in api.get_hooks()
    assert api.get_client(domain).provider is not provider


def test_the_built_provider_buckets_with_the_configured_version() -> None:
    plugin = OpenFeaturePlugin(OpenFeatureConfig(store=MemoryStore(), fractional="v3"))
    assert isinstance(plugin.provider, FlagProvider)
    assert plugin.provider.fractional == "v3"
    assert OpenFeaturePlugin(OpenFeatureConfig(store=MemoryStore())).provider.fractional == "v2"  # type: ignore[attr-defined]


def test_an_unknown_or_misplaced_fractional_version_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"OpenFeatureConfig\.fractional must be one of"):
        OpenFeatureConfig(store=MemoryStore(), fractional="v9")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="give the provider its own"):
        OpenFeatureConfig(provider=InMemoryProvider({}), fractional="v3")
