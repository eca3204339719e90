"""HookChain: several hooks as one registration, with the SDK's ordering and isolation."""

# ruff: noqa: FBT003 - the OpenFeature client takes the default value positionally
# ruff: noqa: ARG002 - the hooks here implement the SDK's whole method signatures

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode, InvalidContextError
from openfeature.flag_evaluation import FlagEvaluationDetails, FlagType
from openfeature.hook import Hook, HookContext

from openfeature_litestar.hooks import HookChain, SanitizingHook
from openfeature_litestar.hooks._audit import ERROR_TYPE, FLAG_KEY
from openfeature_litestar.testing import capture_audit

if TYPE_CHECKING:
    from openfeature.client import OpenFeatureClient
    from openfeature.flag_evaluation import FlagValueType
    from openfeature.hook import HookHints

    from openfeature_litestar import IdentifierHasher


class Recorder(Hook):
    """Notes every stage it sees in a shared journal, and what its hook_data holds."""

    def __init__(self, name: str, journal: list[str], *, returns: dict[str, Any] | None = None):
        self.name = name
        self.journal = journal
        self.returns = returns

    def before(self, hook_context: HookContext, hints: HookHints) -> EvaluationContext | None:
        self.journal.append(f"{self.name}.before")
        hook_context.hook_data["mine"] = self.name
        return None if self.returns is None else EvaluationContext(attributes=self.returns)

    def after(
        self,
        hook_context: HookContext,
        details: FlagEvaluationDetails[FlagValueType],
        hints: HookHints,
    ) -> None:
        self.journal.append(f"{self.name}.after:{hook_context.hook_data.get('mine')}")

    def error(self, hook_context: HookContext, exception: Exception, hints: HookHints) -> None:
        self.journal.append(f"{self.name}.error:{type(exception).__name__}")

    def finally_after(
        self,
        hook_context: HookContext,
        details: FlagEvaluationDetails[FlagValueType],
        hints: HookHints,
    ) -> None:
        self.journal.append(f"{self.name}.finally:{hook_context.hook_data.get('mine')}")


def test_stages_run_in_the_sdks_order_with_each_hooks_own_data(ours: OpenFeatureClient) -> None:
    journal: list[str] = []
    ours.add_hooks([HookChain(Recorder("a", journal), Recorder("b", journal))])
    assert ours.get_boolean_value("vip", False, EvaluationContext("u", {"email": "x@example.com"}))
    assert journal == [
        "a.before",
        "b.before",
        "b.after:b",
        "a.after:a",
        "b.finally:b",
        "a.finally:a",
    ]


def test_the_chain_journal_matches_separate_registration(ours: OpenFeatureClient) -> None:
    chained: list[str] = []
    separate: list[str] = []
    context = EvaluationContext("u", {"email": "x@example.com"})
    ours.add_hooks([HookChain(Recorder("a", chained), Recorder("b", chained))])
    ours.get_boolean_value("no-such-flag", False, context)
    ours.hooks = [Recorder("a", separate), Recorder("b", separate)]
    ours.get_boolean_value("no-such-flag", False, context)
    assert chained == separate
    assert "b.error:FlagNotFoundError" in chained


def test_returned_contexts_merge_in_order(ours: OpenFeatureClient) -> None:
    journal: list[str] = []
    chain = HookChain(
        Recorder("a", journal, returns={"is_admin": True, "plan": "free"}),
        Recorder("b", journal, returns={"plan": "pro"}),
    )
    assert ours.get_boolean_value("admin-panel", False, EvaluationContext("u", {})) is False
    ours.add_hooks([chain])
    assert ours.get_boolean_value("admin-panel", False, EvaluationContext("u", {})) is True


def test_a_raising_before_ends_the_evaluation_as_the_sdk_would(ours: OpenFeatureClient) -> None:
    ours.add_hooks([HookChain(SanitizingHook(max_attributes=1))])
    details = ours.get_boolean_details("vip", False, EvaluationContext("u", {"a": 1, "b": 2}))
    assert details.error_code == ErrorCode.INVALID_CONTEXT
    assert details.value is False


class Failing(Hook):
    def finally_after(
        self,
        hook_context: HookContext,
        details: FlagEvaluationDetails[FlagValueType],
        hints: HookHints,
    ) -> None:
        raise RuntimeError("secret-context-value")

    def error(self, hook_context: HookContext, exception: Exception, hints: HookHints) -> None:
        raise RuntimeError("secret-context-value")


def test_a_raising_finally_does_not_stop_the_others_and_is_logged_without_its_message(
    ours: OpenFeatureClient, caplog: pytest.LogCaptureFixture
) -> None:
    journal: list[str] = []
    ours.add_hooks([HookChain(Recorder("a", journal), Failing())])
    with caplog.at_level(logging.DEBUG):
        details = ours.get_boolean_details("no-such-flag", False, EvaluationContext("u", {}))
    assert details.error_code == ErrorCode.FLAG_NOT_FOUND
    assert journal == ["a.before", "a.error:FlagNotFoundError", "a.finally:a"]
    messages = [record.getMessage() for record in caplog.records]
    assert any("RuntimeError (Failing)" in message for message in messages)
    assert all("secret-context-value" not in message for message in messages)
    assert all(record.exc_info is None for record in caplog.records)


class BooleansOnly(Recorder):
    def supports_flag_value_type(self, flag_type: FlagType) -> bool:
        return flag_type == FlagType.BOOLEAN


def test_each_hook_gets_only_the_flag_types_it_supports(ours: OpenFeatureClient) -> None:
    journal: list[str] = []
    ours.add_hooks([HookChain(BooleansOnly("bool", journal), Recorder("all", journal))])
    ours.get_string_value("greeting", "?", EvaluationContext("u", {}))
    assert journal == ["all.before", "all.after:all", "all.finally:all"]


def test_our_two_hooks_chained(ours: OpenFeatureClient, hasher: IdentifierHasher) -> None:
    with capture_audit(register=False, hasher=hasher) as audit:
        ours.add_hooks([HookChain(SanitizingHook(), audit.hook)])
        assert ours.get_boolean_value(
            "vip", False, EvaluationContext("u", {"email": "a@example.com"})
        )
        ours.get_boolean_value("vip", False, EvaluationContext("u", {"bio": "x" * 5000}))
    records = audit.records
    assert [record[FLAG_KEY] for record in records] == ["vip", "vip"]
    assert records[1][ERROR_TYPE] == "invalid_context"


def test_only_hooks_are_accepted() -> None:
    with pytest.raises(TypeError, match="OpenFeature hooks"):
        HookChain(SanitizingHook(), "not a hook")  # type: ignore[arg-type]


def test_a_stage_no_hook_implements_is_not_walked() -> None:
    chain = HookChain(SanitizingHook(), Hook())
    assert [step[0] for step in chain._before] == [chain.hooks[0]]
    assert chain._after == ()
    assert chain._finally == ()


def test_validation_error_type_reaches_the_sdk() -> None:
    chain = HookChain(SanitizingHook(max_attributes=1))
    context = HookContext("f", FlagType.BOOLEAN, False, EvaluationContext("u", {"a": 1, "b": 2}))
    with pytest.raises(InvalidContextError):
        chain.before(context, {})
    assert context.hook_data == {}


def test_our_hooks_get_no_hook_data_of_their_own(hasher: IdentifierHasher) -> None:
    with capture_audit(register=False, hasher=hasher) as audit:
        chain = HookChain(SanitizingHook(), audit.hook)
        context = HookContext("f", FlagType.BOOLEAN, False, EvaluationContext("u", {"a": 1}))
        assert chain.before(context, {}) is None
        chain.finally_after(context, FlagEvaluationDetails("f", value=True), {})
        assert context.hook_data == {}
    assert len(audit.records) == 1


def test_a_lone_reader_of_hook_data_gets_the_sdks_dict(ours: OpenFeatureClient) -> None:
    journal: list[str] = []
    context = HookContext("f", FlagType.BOOLEAN, False, EvaluationContext("u", {}))
    HookChain(SanitizingHook(), Recorder("a", journal)).before(context, {})
    assert context.hook_data == {"mine": "a"}
    journal.clear()
    ours.add_hooks([HookChain(SanitizingHook(), Recorder("a", journal))])
    assert ours.get_boolean_value("vip", False, EvaluationContext("u", {"email": "x@example.com"}))
    assert journal == ["a.before", "a.after:a", "a.finally:a"]


def test_two_readers_of_hook_data_keep_theirs_apart() -> None:
    journal: list[str] = []
    chain = HookChain(Recorder("a", journal), SanitizingHook(), Recorder("b", journal))
    context = HookContext("f", FlagType.BOOLEAN, False, EvaluationContext("u", {}))
    chain.before(context, {})
    assert context.hook_data == {"hook_chain.0": {"mine": "a"}, "hook_chain.2": {"mine": "b"}}
    chain.finally_after(context, FlagEvaluationDetails("f", value=True), {})
    assert journal[2:] == ["b.finally:b", "a.finally:a"]
    assert context.hook_data["hook_chain.0"] == {"mine": "a"}


def test_a_method_replaced_on_the_instance_is_a_stage_of_its_own() -> None:
    journal: list[str] = []
    plain = Hook()

    def patched(*_: object) -> None:
        journal.append("patched")

    plain.before = patched  # type: ignore[method-assign,assignment]
    chain = HookChain(plain)
    chain.before(HookContext("f", FlagType.BOOLEAN, False, EvaluationContext("u", {})), {})
    assert journal == ["patched"]


def test_repr_lists_the_hooks() -> None:
    assert repr(HookChain(Hook())).startswith("HookChain(<openfeature.hook.Hook object")
