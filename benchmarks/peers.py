"""The implementations measured: openfeature-litestar and its peers, set up for each case.

Every implementation is reduced to :class:`Bench` objects, one per case: a way to turn a
neutral :class:`~benchmarks.cases.Subject` into the implementation's own context type
(done before timing), a way to evaluate a sample for the correctness check, and a timing
loop written out for that implementation's own call, so that the only code between two
calls is a ``for`` over a pre-built list.

Peers that are not installed (they come with the ``bench`` dependency group, and
litestar-flags and openfeature-flagd-core need Python 3.11+) are reported as unavailable
instead of failing the run.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any, Final

import mmh3
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.hook import Hook
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider
from openfeature.provider.no_op_provider import NoOpProvider

from benchmarks.cases import (
    COUNTRIES,
    MIN_AGE,
    PLAN,
    ROLLOUT_FLAG,
    ROLLOUT_PERCENT,
    STATIC_FLAG,
    TARGETED_FLAG,
    Case,
    Subject,
    flagd_flags,
    flagd_v2_rollout,
    flagd_v3_rollout,
    litestar_flags_rollout,
    targeted_answer,
)

if TYPE_CHECKING:
    from openfeature.client import OpenFeatureClient
    from openfeature.provider import AbstractProvider

CLIENT: Final = "client"
DIRECT_SYNC: Final = "direct"
DIRECT_ASYNC: Final = "direct async"

OF_CONTEXT: Final = "openfeature"
LF_CONTEXT: Final = "litestar-flags"

# Targets from the issue: ours ÷ peer must be at most this, per case.
TARGETS: Final[dict[str, dict[str, float]]] = {
    "inmemory": {"a": 1.10, "b": 1.10, "c": 1.10},
    "flagd-core": {"a": 0.8, "b": 0.3, "c": 0.3},
    # With hooks the ratio is the other way round: ours with hooks ÷ ours without.
    "ours-audit-sanitizing": {"a": 1.5, "b": 1.5, "c": 1.5},
    "ours-audit-sanitizing-chained": {"a": 1.5, "b": 1.5, "c": 1.5},
}

TimeBatch = Callable[[Sequence[Any]], int]
EvaluateMany = Callable[[Sequence[Any]], list[object]]
RolloutAnswer = Callable[[str, str], bool]


@dataclass(frozen=True)
class Bench:
    """One implementation set up for one case.

    Attributes:
        peer: Stable id of the implementation (``"ours"``, ``"inmemory"``, ...).
        label: Name shown in the table.
        path: ``"client"`` (through the OpenFeature client), ``"direct"`` (a synchronous
            resolver called directly) or ``"direct async"`` (awaited in one event loop).
        ours: True for openfeature-litestar's own rows.
        context_kind: Which context type :attr:`to_context` builds; the harness converts
            each case's subjects once per kind and shares the list between benches.
        to_context: Turns a subject into the implementation's context.
        evaluate_many: Evaluates contexts for the correctness check; each result is the
            flag's value, or a string describing an error.
        time_batch: Calls the implementation once per context and returns the elapsed
            nanoseconds of that loop alone.
        expected: The plain Python answer for a subject.
        targets: Per case key, the largest acceptable ours ÷ this ratio (for an
            ``overhead`` bench: this ÷ ours).
        overhead: True for openfeature-litestar with hooks: its row is compared with
            ours without hooks on the same path (this ÷ ours), in a table of its own.
    """

    peer: str
    label: str
    path: str
    ours: bool
    context_kind: str
    to_context: Callable[[Subject], Any]
    evaluate_many: EvaluateMany
    time_batch: TimeBatch
    expected: Callable[[Subject], bool]
    targets: dict[str, float] = field(default_factory=dict)
    overhead: bool = False


@dataclass
class Setup:
    """Everything built for a run: the benches, what could not be built, and cleanup.

    Attributes:
        benches: Per case key, the benches in table order.
        unavailable: One line per implementation that could not be set up, with the reason.
        versions: Package name to installed version, for the table header.
        closers: Called once when the run is over.
        remarks: Called after the run (after the closers) for extra lines of notes.
    """

    benches: dict[str, list[Bench]] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)
    remarks: list[Callable[[], str]] = field(default_factory=list)
    loop: asyncio.AbstractEventLoop | None = None

    def event_loop(self) -> asyncio.AbstractEventLoop:
        """Return the run's one event loop, creating it on first use.

        Returns:
            The loop; :meth:`close` closes it after everything else.
        """
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
            self.closers.insert(0, self.loop.close)
        return self.loop

    def add(self, case: Case, bench: Bench) -> None:
        """Append ``bench`` to ``case``'s list.

        Args:
            case: The case the bench belongs to.
            bench: The bench.
        """
        self.benches.setdefault(case.key, []).append(bench)

    def close(self) -> None:
        """Run the cleanup callbacks, newest first."""
        for closer in reversed(self.closers):
            closer()
        self.closers.clear()


def expected_answer(case: Case, rollout: RolloutAnswer) -> Callable[[Subject], bool]:
    """Return the reference answer function for ``case``.

    Args:
        case: The case.
        rollout: The implementation's bucketing scheme, used for case (c).

    Returns:
        A function from subject to the boolean the flag must return.
    """
    if case.flag_key == STATIC_FLAG:
        return lambda _subject: True
    if case.flag_key == TARGETED_FLAG:
        return targeted_answer
    flag_key = case.flag_key
    return lambda subject: rollout(flag_key, subject.targeting_key)


def openfeature_context(subject: Subject) -> EvaluationContext:
    """Build the OpenFeature evaluation context for ``subject``.

    Args:
        subject: The input.

    Returns:
        An ``EvaluationContext`` with the user id as targeting key.
    """
    return EvaluationContext(targeting_key=subject.targeting_key, attributes=subject.attributes())


def _outcome(details: FlagResolutionDetails[Any] | Any) -> object:
    error_code = getattr(details, "error_code", None)
    if error_code is not None:
        return f"error {error_code}: {getattr(details, 'error_message', None)}"
    return details.value


def package_version(distribution: str) -> str | None:
    """Return the installed version of ``distribution``, or None when it is absent.

    Args:
        distribution: The distribution name on PyPI.

    Returns:
        The version string, or None.
    """
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


# --- Through the OpenFeature client -----------------------------------------------------


def _client_bench(
    *,
    peer: str,
    label: str,
    ours: bool,
    client: OpenFeatureClient,
    case: Case,
    rollout: RolloutAnswer,
    overhead: bool = False,
) -> Bench:
    flag_key = case.flag_key
    get_value = client.get_boolean_value
    get_details = client.get_boolean_details

    def evaluate_many(contexts: Sequence[Any]) -> list[object]:
        return [_outcome(get_details(flag_key, False, context)) for context in contexts]  # noqa: FBT003 - the SDK's signature

    def time_batch(contexts: Sequence[Any]) -> int:
        start = perf_counter_ns()
        for context in contexts:
            get_value(flag_key, False, context)  # noqa: FBT003 - the SDK's signature
        return perf_counter_ns() - start

    return Bench(
        peer=peer,
        label=label,
        path=CLIENT,
        ours=ours,
        context_kind=OF_CONTEXT,
        to_context=openfeature_context,
        evaluate_many=evaluate_many,
        time_batch=time_batch,
        expected=expected_answer(case, rollout),
        targets=TARGETS.get(peer, {}),
        overhead=overhead,
    )


def _register(setup: Setup, provider: AbstractProvider, domain: str) -> OpenFeatureClient:
    """Bind ``provider`` to ``domain``; on close, unbind it (the SDK then shuts it down)."""
    api.set_provider_and_wait(provider, domain=domain)
    setup.closers.append(lambda: api.set_provider_and_wait(NoOpProvider(), domain=domain))
    return api.get_client(domain)


# --- The SDK's InMemoryProvider: the floor ----------------------------------------------

_COUNTRY_SET: Final = frozenset(COUNTRIES)
_ROLLOUT_BUCKETS: Final = 100


def _targeted_evaluator(
    flag: InMemoryFlag[bool], context: EvaluationContext
) -> FlagResolutionDetails[bool]:
    attributes = context.attributes
    age = attributes.get("age")
    variant = (
        "on"
        if attributes.get("country") in _COUNTRY_SET
        and attributes.get("plan") == PLAN
        and isinstance(age, int)
        and age >= MIN_AGE
        else "off"
    )
    return FlagResolutionDetails(
        value=flag.variants[variant], variant=variant, reason=Reason.TARGETING_MATCH
    )


def _rollout_evaluator(
    flag: InMemoryFlag[bool], context: EvaluationContext
) -> FlagResolutionDetails[bool]:
    targeting_key = context.targeting_key
    variant = "off"
    if targeting_key:
        digest: int = mmh3.hash(ROLLOUT_FLAG + targeting_key, 0, signed=False)
        if (digest * _ROLLOUT_BUCKETS) >> 32 < ROLLOUT_PERCENT:
            variant = "on"
    return FlagResolutionDetails(
        value=flag.variants[variant], variant=variant, reason=Reason.TARGETING_MATCH
    )


def in_memory_provider() -> InMemoryProvider:
    """Build the SDK's ``InMemoryProvider`` with hand-written Python for the three flags.

    Returns:
        The provider; its targeting is plain Python (the fastest possible), and its
        rollout uses flagd's v2 bucketing, so it gives exactly our provider's answers.
    """
    variants = {"on": True, "off": False}
    return InMemoryProvider(
        {
            STATIC_FLAG: InMemoryFlag("on", dict(variants)),
            TARGETED_FLAG: InMemoryFlag(
                "off", dict(variants), context_evaluator=_targeted_evaluator
            ),
            ROLLOUT_FLAG: InMemoryFlag("off", dict(variants), context_evaluator=_rollout_evaluator),
        }
    )


def add_in_memory(setup: Setup, cases: Sequence[Case]) -> None:
    """Add the ``InMemoryProvider`` benches to ``setup``: through the client, and direct.

    The direct row has no target; it shows how much of the client path is the provider.

    Args:
        setup: Collects the benches.
        cases: The cases to set up.
    """
    provider = in_memory_provider()
    client = _register(setup, provider, "bench-inmemory")
    for case in cases:
        setup.add(
            case,
            _direct_bench(
                peer="inmemory-direct",
                label="SDK InMemoryProvider (floor)",
                ours=False,
                resolve=provider.resolve_boolean_details,
                case=case,
                expected=expected_answer(case, flagd_v2_rollout),
            ),
        )
        setup.add(
            case,
            _client_bench(
                peer="inmemory",
                label="SDK InMemoryProvider (floor)",
                ours=False,
                client=client,
                case=case,
                rollout=flagd_v2_rollout,
            ),
        )


# --- openfeature-litestar ---------------------------------------------------------------


def add_ours(setup: Setup, cases: Sequence[Case]) -> None:
    """Add openfeature-litestar's benches: through the client, direct, direct async.

    Args:
        setup: Collects the benches.
        cases: The cases to set up.

    Raises:
        ImportError: When openfeature-litestar's public API cannot be imported.
    """
    from openfeature_litestar import (  # noqa: PLC0415 - reported, not fatal, when missing
        FlagProvider,
        MemoryStore,
        document_from_data,
    )

    setup.versions["openfeature-litestar"] = package_version("openfeature-litestar") or "?"
    provider = FlagProvider(MemoryStore(document_from_data({"flags": flagd_flags()})))
    client = _register(setup, provider, "bench-ours")
    label = "openfeature-litestar"
    for case in cases:
        expected = expected_answer(case, flagd_v2_rollout)
        setup.add(
            case,
            _client_bench(
                peer="ours",
                label=label,
                ours=True,
                client=client,
                case=case,
                rollout=flagd_v2_rollout,
            ),
        )
        setup.add(
            case,
            _direct_bench(
                peer="ours",
                label=label,
                ours=True,
                resolve=provider.resolve_boolean_details,
                case=case,
                expected=expected,
            ),
        )
        setup.add(
            case,
            _direct_async_bench(
                peer="ours",
                label=label,
                ours=True,
                resolve=provider.resolve_boolean_details_async,
                case=case,
                expected=expected,
                loop=setup.event_loop(),
            ),
        )


def _direct_bench(
    *,
    peer: str,
    label: str,
    ours: bool,
    resolve: Callable[..., FlagResolutionDetails[bool]],
    case: Case,
    expected: Callable[[Subject], bool],
) -> Bench:
    flag_key = case.flag_key

    def evaluate_many(contexts: Sequence[Any]) -> list[object]:
        return [
            _outcome(resolve(flag_key=flag_key, default_value=False, evaluation_context=context))
            for context in contexts
        ]

    def time_batch(contexts: Sequence[Any]) -> int:
        start = perf_counter_ns()
        for context in contexts:
            resolve(flag_key=flag_key, default_value=False, evaluation_context=context)
        return perf_counter_ns() - start

    return Bench(
        peer=peer,
        label=label,
        path=DIRECT_SYNC,
        ours=ours,
        context_kind=OF_CONTEXT,
        to_context=openfeature_context,
        evaluate_many=evaluate_many,
        time_batch=time_batch,
        expected=expected,
        targets=TARGETS.get(peer, {}),
    )


def _direct_async_bench(
    *,
    peer: str,
    label: str,
    ours: bool,
    resolve: Callable[..., Any],
    case: Case,
    expected: Callable[[Subject], bool],
    loop: asyncio.AbstractEventLoop,
) -> Bench:
    flag_key = case.flag_key

    async def evaluate(contexts: Sequence[Any]) -> list[object]:
        return [
            _outcome(
                await resolve(flag_key=flag_key, default_value=False, evaluation_context=context)
            )
            for context in contexts
        ]

    async def timed(contexts: Sequence[Any]) -> int:
        start = perf_counter_ns()
        for context in contexts:
            await resolve(flag_key=flag_key, default_value=False, evaluation_context=context)
        return perf_counter_ns() - start

    return Bench(
        peer=peer,
        label=label,
        path=DIRECT_ASYNC,
        ours=ours,
        context_kind=OF_CONTEXT,
        to_context=openfeature_context,
        evaluate_many=lambda contexts: loop.run_until_complete(evaluate(contexts)),
        time_batch=lambda contexts: loop.run_until_complete(timed(contexts)),
        expected=expected,
        targets=TARGETS.get(peer, {}),
    )


# --- openfeature-litestar with its hooks ------------------------------------------------

_BENCH_HASH_KEY: Final = "benchmark-hashing-key-32-bytes!!"


def add_ours_with_hooks(setup: Setup, cases: Sequence[Case]) -> None:
    """Add openfeature-litestar through the client with its hooks, one client per set.

    The audit records go to a sink that discards them: the rows measure the hooks,
    not a logging handler (whose cost comes on top, on the hook's drain thread).

    Args:
        setup: Collects the benches.
        cases: The cases to set up.

    Raises:
        ImportError: When the hooks cannot be imported.
    """
    from openfeature_litestar import (  # noqa: PLC0415 - reported, not fatal, when missing
        FlagProvider,
        IdentifierHasher,
        MemoryStore,
        document_from_data,
    )
    from openfeature_litestar.hooks import AuditHook, HookChain, SanitizingHook  # noqa: PLC0415

    provider = FlagProvider(MemoryStore(document_from_data({"flags": flagd_flags()})))
    _register(setup, provider, HOOKS_DOMAIN)
    hasher = IdentifierHasher(_BENCH_HASH_KEY)
    audits: list[AuditHook] = []

    def audit(sample_rate: float) -> AuditHook:
        hook = AuditHook(hasher=hasher, sink=_discard, sample_rate=sample_rate)
        audits.append(hook)
        setup.closers.append(hook.close)
        return hook

    configurations: tuple[tuple[str, str, list[Hook]], ...] = (
        (FLOOR_PEER, "+ a no-op Hook (the SDK's floor)", [NoOpHook()]),
        ("ours-audit", "+ AuditHook (sample 1.0)", [audit(1.0)]),
        ("ours-audit-sampled", "+ AuditHook (sample 0.01)", [audit(0.01)]),
        (
            "ours-audit-sanitizing",
            "+ SanitizingHook + AuditHook (1.0)",
            [SanitizingHook(), audit(1.0)],
        ),
        (
            "ours-audit-sanitizing-chained",
            "+ HookChain(SanitizingHook, AuditHook (1.0))",
            [HookChain(SanitizingHook(), audit(1.0))],
        ),
    )

    def dropped() -> str:
        lost = sum(hook.dropped for hook in audits)
        made = sum(hook.emitted + hook.dropped for hook in audits)
        return f"Audit records dropped (queue full) while timing the hooks: {lost} of {made}."

    setup.remarks.append(dropped)
    for peer, label, hooks in configurations:
        client = api.get_client(HOOKS_DOMAIN)
        client.add_hooks(list(hooks))
        for case in cases:
            setup.add(
                case,
                _client_bench(
                    peer=peer,
                    label=label,
                    ours=False,
                    client=client,
                    case=case,
                    rollout=flagd_v2_rollout,
                    overhead=True,
                ),
            )


HOOKS_DOMAIN: Final = "bench-ours-hooks"
FLOOR_PEER: Final = "ours-noop-hook"
"""The hooks table's floor: the client with one hook that does nothing."""


class NoOpHook(Hook):
    """A hook that overrides nothing: what remains is the SDK's cost of any hook.

    For each registered hook, on each evaluation, the SDK builds a ``HookContext`` and
    runs four stages (asking the hook whether it supports the flag's type before each);
    no hook, however cheap, costs less than this one.
    """


def _discard(_record: object) -> None:
    return None


# --- openfeature-flagd-core -------------------------------------------------------------


def add_flagd_core(setup: Setup, cases: Sequence[Case]) -> None:
    """Add openfeature-flagd-core's ``FlagdCore`` benches (resolved directly).

    Args:
        setup: Collects the benches.
        cases: The cases to set up.

    Raises:
        ImportError: When openfeature-flagd-core is not installed.
    """
    from openfeature.contrib.tools.flagd.core import FlagdCore  # noqa: PLC0415 - optional peer

    setup.versions["openfeature-flagd-core"] = package_version("openfeature-flagd-core") or "?"
    core = FlagdCore()
    core.set_flags({"flags": flagd_flags()})
    for case in cases:
        flag_key = case.flag_key
        resolve = core.resolve_boolean_value

        def evaluate_many(
            contexts: Sequence[Any],
            flag_key: str = flag_key,
            resolve: Callable[..., Any] = resolve,
        ) -> list[object]:
            outcomes: list[object] = []
            for context in contexts:
                try:
                    outcomes.append(
                        _outcome(resolve(flag_key=flag_key, default_value=False, ctx=context))
                    )
                except Exception as error:  # noqa: PERF203 - FlagdCore raises its errors
                    outcomes.append(f"error {type(error).__name__}: {error}")
            return outcomes

        def time_batch(
            contexts: Sequence[Any],
            flag_key: str = flag_key,
            resolve: Callable[..., Any] = resolve,
        ) -> int:
            start = perf_counter_ns()
            for context in contexts:
                resolve(flag_key=flag_key, default_value=False, ctx=context)
            return perf_counter_ns() - start

        setup.add(
            case,
            Bench(
                peer="flagd-core",
                label="flagd-core FlagdCore",
                path=DIRECT_SYNC,
                ours=False,
                context_kind=OF_CONTEXT,
                to_context=openfeature_context,
                evaluate_many=evaluate_many,
                time_batch=time_batch,
                expected=expected_answer(case, flagd_v3_rollout),
                targets=TARGETS["flagd-core"],
            ),
        )


# --- litestar-flags ---------------------------------------------------------------------


def _litestar_flags_definitions() -> list[Any]:
    """Return litestar-flags' equivalents of the three flags, in its own rule model."""
    from litestar_flags import FeatureFlag, FlagRule  # noqa: PLC0415 - optional peer

    return [
        FeatureFlag(key=STATIC_FLAG, name="Static", default_enabled=True),
        FeatureFlag(
            key=TARGETED_FLAG,
            name="Targeted",
            default_enabled=False,
            rules=[
                FlagRule(
                    name="on",
                    conditions=[
                        {"attribute": "country", "operator": "in", "value": list(COUNTRIES)},
                        {"attribute": "plan", "operator": "eq", "value": PLAN},
                        {"attribute": "age", "operator": "gte", "value": MIN_AGE},
                    ],
                    serve_enabled=True,
                )
            ],
        ),
        FeatureFlag(
            key=ROLLOUT_FLAG,
            name="Rollout",
            default_enabled=False,
            rules=[
                FlagRule(
                    name="on",
                    conditions=[],
                    serve_enabled=True,
                    rollout_percentage=ROLLOUT_PERCENT,
                )
            ],
        ),
    ]


def litestar_flags_context(subject: Subject) -> Any:
    """Build litestar-flags' own evaluation context for ``subject``.

    ``country`` is a first-class field of its context; the rest are attributes.

    Args:
        subject: The input.

    Returns:
        A ``litestar_flags.EvaluationContext``.
    """
    from litestar_flags import EvaluationContext as LitestarContext  # noqa: PLC0415

    return LitestarContext(
        targeting_key=subject.targeting_key,
        country=subject.country,
        attributes={"plan": subject.plan, "age": subject.age},
    )


def add_litestar_flags(setup: Setup, cases: Sequence[Case]) -> None:
    """Add litestar-flags' benches: its async client, and its sync OpenFeature provider.

    The async client is awaited inside one running event loop. The sync provider
    (``LitestarFlagsProvider.resolve_boolean_details``) is measured twice: called from
    plain synchronous code, where it runs ``asyncio.run`` per call, and called from
    inside a running event loop (as a sync call from an async request handler does),
    where it starts a thread that runs ``asyncio.run``.

    Args:
        setup: Collects the benches.
        cases: The cases to set up.

    Raises:
        ImportError: When litestar-flags is not installed.
    """
    from litestar_flags import FeatureFlagClient  # noqa: PLC0415 - optional peer
    from litestar_flags.contrib.openfeature import LitestarFlagsProvider  # noqa: PLC0415
    from litestar_flags.storage import MemoryStorageBackend  # noqa: PLC0415

    setup.versions["litestar-flags"] = package_version("litestar-flags") or "?"
    loop = setup.event_loop()
    storage = MemoryStorageBackend()
    client = FeatureFlagClient(storage=storage)

    async def load() -> None:
        for flag in _litestar_flags_definitions():
            await storage.create_flag(flag)
        await client.preload_flags()

    loop.run_until_complete(load())
    sync_provider = LitestarFlagsProvider(client)
    for case in cases:
        expected = expected_answer(case, litestar_flags_rollout)
        setup.add(case, _litestar_flags_async_bench(client, case, expected, loop))
        resolve = sync_provider.resolve_boolean_details
        sync_bench = _direct_bench(
            peer="litestar-flags-sync",
            label="litestar-flags sync (asyncio.run/call)",
            ours=False,
            resolve=resolve,
            case=case,
            expected=expected,
        )
        setup.add(case, sync_bench)
        setup.add(
            case,
            _in_running_loop(sync_bench, "litestar-flags sync, in running loop", loop),
        )


def _litestar_flags_async_bench(
    client: Any, case: Case, expected: Callable[[Subject], bool], loop: asyncio.AbstractEventLoop
) -> Bench:
    flag_key = case.flag_key
    get_value = client.get_boolean_value
    get_details = client.get_boolean_details

    async def evaluate(contexts: Sequence[Any]) -> list[object]:
        return [_outcome(await get_details(flag_key, False, context)) for context in contexts]  # noqa: FBT003

    async def timed(contexts: Sequence[Any]) -> int:
        start = perf_counter_ns()
        for context in contexts:
            await get_value(flag_key, False, context)  # noqa: FBT003 - its signature
        return perf_counter_ns() - start

    return Bench(
        peer="litestar-flags-async",
        label="litestar-flags async client",
        path=DIRECT_ASYNC,
        ours=False,
        context_kind=LF_CONTEXT,
        to_context=litestar_flags_context,
        evaluate_many=lambda contexts: loop.run_until_complete(evaluate(contexts)),
        time_batch=lambda contexts: loop.run_until_complete(timed(contexts)),
        expected=expected,
    )


def _in_running_loop(bench: Bench, label: str, loop: asyncio.AbstractEventLoop) -> Bench:
    """Return ``bench`` run from inside a running event loop (the loop start not timed)."""

    async def evaluate(contexts: Sequence[Any]) -> list[object]:
        await asyncio.sleep(0)
        return bench.evaluate_many(contexts)

    async def timed(contexts: Sequence[Any]) -> int:
        await asyncio.sleep(0)
        return bench.time_batch(contexts)

    return Bench(
        peer=bench.peer + "-in-loop",
        label=label,
        path=bench.path,
        ours=bench.ours,
        context_kind=bench.context_kind,
        to_context=bench.to_context,
        evaluate_many=lambda contexts: loop.run_until_complete(evaluate(contexts)),
        time_batch=lambda contexts: loop.run_until_complete(timed(contexts)),
        expected=bench.expected,
        targets=bench.targets,
    )


# --- Everything -------------------------------------------------------------------------

Adder = Callable[[Setup, Sequence[Case]], None]

IMPLEMENTATIONS: Final[tuple[tuple[str, Adder], ...]] = (
    ("openfeature-litestar", add_ours),
    ("openfeature-litestar hooks", add_ours_with_hooks),
    ("SDK InMemoryProvider", add_in_memory),
    ("openfeature-flagd-core", add_flagd_core),
    ("litestar-flags", add_litestar_flags),
)


def build_setup(cases: Sequence[Case]) -> Setup:
    """Set up every implementation that can be imported, for ``cases``.

    Args:
        cases: The cases to set up.

    Returns:
        The setup; implementations that failed to import or build are listed in
        :attr:`Setup.unavailable` and skipped.
    """
    setup = Setup()
    setup.versions["openfeature-sdk"] = package_version("openfeature-sdk") or "?"
    for name, add in IMPLEMENTATIONS:
        sizes = {key: len(benches) for key, benches in setup.benches.items()}
        try:
            add(setup, cases)
        except Exception as error:
            # Keep no half-built implementation: drop whatever it added before failing.
            for key, benches in setup.benches.items():
                del benches[sizes.get(key, 0) :]
            setup.unavailable.append(f"{name}: {type(error).__name__}: {error}")
    return setup
