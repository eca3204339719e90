"""The targeting compiler: walks a JSON Logic tree and builds one closure per operator.

This module holds the tree walk, ``$ref`` expansion, the depth and size limits, problem
reporting and the :func:`compile_targeting` entry point. The operators themselves live in
``_operators`` (one module per family), each declared once in ``_registry``; the walk
reads an operator's existence, arity, purity and operand style from that declaration.

A targeting tree is validated and compiled once; the resulting :data:`Rule` is a closure
over closures that reads the evaluation data directly and never walks JSON at run time.
The semantics are json-logic-js's (flagd's reference) plus flagd's ``fractional``,
``sem_ver``, ``starts_with`` and ``ends_with`` and our ``matches`` (RE2).

Choices worth knowing:

* Arithmetic runs in float64, as in JavaScript; an integral result within 2**53 comes
  back as ``int`` (``{"+": [1, 2]}`` is ``3``), any other result as ``float``.
* ``log`` is accepted only when ``strict=False`` (flagd knows it; its schema does not) and
  returns its argument without printing anything.
* An operand that is absent (``{"==": [1]}``) reads as ``null``.
* ``var`` walks objects by key and arrays by index; a path that is neither a string nor
  a number gives ``null``.
* Constant sub-trees are folded at compile time; do not mutate what a rule returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from openfeature_litestar._errors import DocumentError, Problem

from ._nodes import NULL, Node, constant, fold, nothing
from ._operators import OPERATORS

__all__ = ["MAX_TARGETING_DEPTH", "MAX_TARGETING_NODES", "Rule", "compile_targeting"]


Rule = Callable[[Mapping[str, Any]], Any]
"""A compiled targeting rule: evaluation data in, JSON Logic result out; never raises."""

MAX_TARGETING_DEPTH: Final = 64
"""The deepest nesting of operators and arrays a rule may have, ``$ref`` expansion included."""

MAX_TARGETING_NODES: Final = 10_000
"""The most values (operators, arrays, literals) a rule may have after ``$ref`` expansion."""


class _Abort(Exception):  # noqa: N818 - internal control flow, never escapes
    """Stop compiling: a limit was exceeded and going on could take unbounded work."""


class Compiler:
    """One compilation: the limits, the evaluators ``$ref`` may name, the problems found.

    Operator builders get the compiler to report problems (:meth:`problem`,
    :meth:`quiet`) and, for raw operators, to compile the operands they have validated.
    """

    def __init__(
        self,
        evaluators: Mapping[str, Any],
        *,
        strict: bool,
        max_depth: int,
        max_nodes: int,
    ) -> None:
        self.evaluators = evaluators
        self.strict = strict
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.nodes = 0
        self.problems: list[Problem] = []
        self.refs: list[str] = []

    # -- bookkeeping

    def problem(self, path: str, message: str) -> None:
        if self.refs:
            message = f"in $evaluators.{self.refs[-1]}: {message}"
        self.problems.append(Problem(path, message))

    def quiet(self, path: str, message: str) -> Node:
        """A problem flagd evaluates to null: an error when strict, else a null rule."""
        if self.strict:
            self.problem(path, message)
        return NULL

    def count(self, path: str) -> None:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            self.problem(path, f"the rule has more than {self.max_nodes} nodes")
            raise _Abort

    # -- tree walk

    def compile(self, tree: Any, path: str, depth: int) -> Node:
        self.count(path)
        if isinstance(tree, dict):
            return self.compile_object(tree, path, depth + 1)
        if isinstance(tree, list):
            return self.compile_array(tree, path, depth + 1)
        if tree is None or isinstance(tree, (str, bool, int, float)):
            return constant(tree)
        self.problem(path, f"{type(tree).__name__} is not a JSON value")
        return NULL

    def compile_array(self, items: list[Any], path: str, depth: int) -> Node:
        if depth > self.max_depth:
            self.problem(path, f"the rule is nested deeper than {self.max_depth} levels")
            return NULL
        nodes = [self.compile(item, f"{path}.{i}", depth) for i, item in enumerate(items)]
        if all(node.const for node in nodes):
            return constant([node.value for node in nodes])
        fns = tuple(node.fn for node in nodes)
        return Node(lambda data: [fn(data) for fn in fns])

    def compile_object(  # noqa: C901, PLR0911 - one early exit per kind of problem
        self, tree: dict[str, Any], path: str, depth: int
    ) -> Node:
        if depth > self.max_depth:
            self.problem(path, f"the rule is nested deeper than {self.max_depth} levels")
            return NULL
        if len(tree) != 1:
            if not tree:
                return self.quiet(path, "an empty object is not a rule")
            keys = ", ".join(repr(key) for key in tree)
            self.problem(path, f"a rule has exactly one operator, this object has {keys}")
            return NULL
        ((op, raw),) = tree.items()
        if op == "$ref":
            return self.compile_ref(raw, path, depth)
        sub = f"{path}.{op}"
        if isinstance(raw, list):
            raw_args = raw
            paths = [f"{sub}.{i}" for i in range(len(raw))]
        else:
            raw_args = [raw]
            paths = [sub]
        spec = OPERATORS.get(op)
        if spec is None or (spec.lenient_only and self.strict):
            self.problem(path, f"unknown operator {op!r}")
            return NULL
        if self.strict:
            wrong = spec.arity_problem(op, len(raw_args))
            if wrong is not None:
                self.problem(sub, wrong)
                return NULL
        if spec.raw:
            return spec.builder(self, raw_args, paths, sub, depth)
        args = [self.compile(arg, p, depth) for arg, p in zip(raw_args, paths, strict=True)]
        node = spec.builder(self, args, raw_args, sub, depth)
        if not node.const and spec.pure and all(arg.const for arg in args):
            node = fold(node)
        return node

    def compile_ref(self, name: Any, path: str, depth: int) -> Node:
        ref_path = f"{path}.$ref"
        if not isinstance(name, str):
            self.problem(ref_path, "$ref takes the name of an evaluator")
            return NULL
        if name in self.refs:
            chain = " -> ".join([*self.refs[self.refs.index(name) :], name])
            self.problem(ref_path, f"$ref cycle: {chain}")
            return NULL
        if name not in self.evaluators:
            self.problem(ref_path, f"$ref to missing evaluator {name!r}")
            return NULL
        # Every $ref is expanded and compiled again, per flag and per use. To compile each
        # evaluator once and share it, cache the node here keyed by name (the problems
        # and node count it adds would have to be replayed for each use).
        self.refs.append(name)
        try:
            # The reference is replaced by its target: it adds no level of its own.
            self.nodes -= 1
            return self.compile(self.evaluators[name], path, depth - 1)
        finally:
            self.refs.pop()


def compile_targeting(
    targeting: Any,
    *,
    evaluators: Mapping[str, Any] | None = None,
    path: str = "targeting",
    strict: bool = True,
    max_depth: int = MAX_TARGETING_DEPTH,
    max_nodes: int = MAX_TARGETING_NODES,
) -> Rule:
    """Validate a targeting tree and compile it into a rule.

    Args:
        targeting: The targeting, as parsed from JSON (a JSON Logic rule). ``None`` and
            ``{}`` compile to a rule that returns ``None``.
        evaluators: The document's ``$evaluators``, which ``{"$ref": name}`` refers to.
        path: Where the targeting sits in the document, to prefix problem paths.
        strict: Also reject what flagd would quietly evaluate to ``null``: wrong operand
            counts or literal types, malformed ``fractional`` buckets or weights,
            unknown ``sem_ver`` operators or versions, unknown ``$flagd`` properties. With
            ``False`` (flagd compatibility) those compile into rules that give ``None``.
        max_depth: The deepest nesting of operators and arrays allowed.
        max_nodes: The most values allowed after ``$ref`` expansion.

    Returns:
        A rule: called with the evaluation data (context attributes, ``targetingKey``
        and ``$flagd``), it returns the JSON Logic result and never raises.

    Raises:
        DocumentError: Listing every problem, each with its path. Unknown operators,
            objects with several keys, ``$ref`` to a missing evaluator, ``$ref`` cycles,
            patterns RE2 rejects and exceeded limits are errors even when not strict.
    """
    if targeting is None or targeting == {}:
        return nothing
    compiler = Compiler(evaluators or {}, strict=strict, max_depth=max_depth, max_nodes=max_nodes)
    if strict and not isinstance(targeting, dict):
        compiler.problem(path, "targeting is a JSON Logic rule: an object")
    try:
        node = compiler.compile(targeting, path, 0)
    except _Abort:
        node = NULL
    except RecursionError:
        compiler.problem(path, "the rule is nested too deeply to compile")
        node = NULL
    if compiler.problems:
        raise DocumentError(compiler.problems)
    if node.const:
        value = node.value
        return lambda _: value
    fn = node.fn

    def rule(data: Mapping[str, Any]) -> Any:
        try:
            return fn(data)
        except Exception:  # operators are total; this fence keeps the promise regardless
            return None

    return rule
