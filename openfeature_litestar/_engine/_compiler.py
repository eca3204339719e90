"""The targeting compiler: walks a JSON Logic tree and builds one closure per operator.

This module holds the tree walk, ``$ref`` resolution, the depth and size limits, problem
reporting, the :class:`RuleCompiler` a document's rules are compiled with and the
:func:`compile_targeting` shortcut for one rule. The operators themselves live in
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
* Not strict, what strict compiling would refuse but flagd evaluates (a wrong operand
  count, a literal of the wrong type, ...) compiles as flagd evaluates it and is kept as a
  warning with its path (:attr:`RuleCompiler.warnings`); what cannot compile at all (an
  unknown operator, a ``$ref`` to a missing evaluator) is still a :class:`DocumentError`.
* An operand that is absent (``{"==": [1]}``) reads as ``null``.
* ``var`` walks objects by key and arrays by index; a path that is neither a string nor
  a number gives ``null``.
* Constant sub-trees are folded at compile time; do not mutate what a rule returns.
* Each ``$evaluators`` entry is compiled once per document and shared by every rule
  that names it, so a document's compile cost follows its text, not its references.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from openfeature_litestar._errors import DocumentError, Problem

from ._fractional import DEFAULT_FRACTIONAL, FractionalVersion, fractional_version
from ._nodes import NULL, Node, constant, fold, nothing
from ._operators import OPERATORS

__all__ = [
    "MAX_DOCUMENT_NODES",
    "MAX_TARGETING_DEPTH",
    "MAX_TARGETING_NODES",
    "Rule",
    "RuleCompiler",
    "compile_targeting",
]


Rule = Callable[[Mapping[str, Any]], Any]
"""A compiled targeting rule: evaluation data in, JSON Logic result out; never raises."""

MAX_TARGETING_DEPTH: Final = 64
"""The deepest nesting of operators and arrays a rule may have, ``$ref`` expansion included."""

MAX_TARGETING_NODES: Final = 10_000
"""The most values (operators, arrays, literals) a rule may have after ``$ref`` expansion.

It bounds the work of one evaluation; the cost of compiling is bounded by
:data:`MAX_DOCUMENT_NODES`.
"""

MAX_DOCUMENT_NODES: Final = 1_000_000
"""The most values all of a document's rules may have together, by default.

Each ``$evaluators`` entry counts once however many rules name it, and each ``$ref``
counts one: the count follows the document's text, and so does the time and memory
compiling it takes.
"""


_MAX_EVALUATOR_PROBLEMS: Final = 20
"""How many of an evaluator's problems each rule naming it lists."""


class _Abort(Exception):  # noqa: N818 - internal control flow, never escapes
    """Stop compiling this rule: a limit was exceeded and going on could take unbounded work."""


class _Exhausted(Exception):  # noqa: N818 - internal control flow, never escapes
    """Stop compiling the document: its node budget is spent."""


@dataclass(frozen=True, slots=True)
class _Evaluator:
    """An ``$evaluators`` entry compiled once, with what each use of it must account for."""

    node: Node
    problems: tuple[Problem, ...]  # paths relative to where the entry is used
    warnings: tuple[Problem, ...]  # tolerated problems (lenient), paths as above
    size: int  # its nodes with its own references expanded
    height: int  # the levels it adds where it is used


class Compiler:
    """One document's compilation: the limits, the evaluators, the problems of one rule.

    Operator builders get the compiler to report problems (:meth:`problem`,
    :meth:`quiet`) and, for raw operators, to compile the operands they have validated.
    The per-rule state (:attr:`problems` and the counters) is reset by :meth:`begin`; the
    compiled evaluators and the document's node count last for the whole document.
    """

    def __init__(
        self,
        evaluators: Mapping[str, Any],
        *,
        strict: bool,
        max_depth: int,
        max_nodes: int,
        max_document_nodes: int = MAX_DOCUMENT_NODES,
        fractional: FractionalVersion = DEFAULT_FRACTIONAL,
    ) -> None:
        self.evaluators = evaluators
        self.strict = strict
        self.fractional = fractional
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.max_document_nodes = max_document_nodes
        self.document_nodes = 0
        self.compiled: dict[str, _Evaluator] = {}
        self.refs: list[str] = []
        self.begin()

    def begin(self) -> None:
        """Start a new rule (or evaluator): no problems, nothing counted yet."""
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []  # tolerated when lenient: flagd evaluates them
        self.warned: set[str] = set()  # paths with a warning already
        self.reported: set[str] = set()  # evaluators whose problems this rule lists
        self.nodes = 0  # with the references expanded: what one evaluation walks
        self.height = 0

    # -- bookkeeping

    def problem(self, path: str, message: str) -> None:
        if self.refs:
            message = f"in $evaluators.{self.refs[-1]}: {message}"
        self.problems.append(Problem(path, message))

    def warn(self, path: str, message: str) -> None:
        """A problem tolerated (lenient): reported as a warning, at most one per path."""
        if path in self.warned:
            return
        self.warned.add(path)
        if self.refs:
            message = f"in $evaluators.{self.refs[-1]}: {message}"
        self.warnings.append(Problem(path, message))

    def lint(self, path: str, message: str) -> None:
        """Something flagd evaluates as written: an error when strict, else a warning."""
        if self.strict:
            self.problem(path, message)
        else:
            self.warn(path, message)

    def quiet(self, path: str, message: str) -> Node:
        """A problem flagd evaluates to null: an error when strict, else a warning and null."""
        self.lint(path, message)
        return NULL

    def count(self, path: str, nodes: int = 1) -> None:
        self.nodes += nodes
        if self.nodes > self.max_nodes:
            self.problem(path, f"the rule has more than {self.max_nodes} nodes")
            raise _Abort

    def count_in_document(self) -> None:
        self.document_nodes += 1
        if self.document_nodes > self.max_document_nodes:
            raise _Exhausted

    def reach(self, depth: int) -> bool:
        """Note that the rule reaches ``depth``; whether that is within the limit."""
        self.height = max(self.height, depth)
        return depth <= self.max_depth

    # -- tree walk

    def compile(self, tree: Any, path: str, depth: int) -> Node:
        self.count(path)
        self.count_in_document()
        if isinstance(tree, dict):
            return self.compile_object(tree, path, depth + 1)
        if isinstance(tree, list):
            return self.compile_array(tree, path, depth + 1)
        if tree is None or isinstance(tree, (str, bool, int, float)):
            return constant(tree)
        self.problem(path, f"{type(tree).__name__} is not a JSON value")
        return NULL

    def compile_array(self, items: list[Any], path: str, depth: int) -> Node:
        if not self.reach(depth):
            self.problem(path, f"the rule is nested deeper than {self.max_depth} levels")
            return NULL
        nodes = [self.compile(item, f"{path}.{i}", depth) for i, item in enumerate(items)]
        if all(node.const for node in nodes):
            return constant([node.value for node in nodes])
        fns = tuple(node.fn for node in nodes)
        return Node(lambda data: [fn(data) for fn in fns])

    def nearest_operators(self, op: str) -> str:
        """``"; did you mean 'x'?"`` for the operators nearest a misspelt one, else ``""``.

        The nearness is the standard library's :func:`difflib.get_close_matches`.
        """
        known = [
            name for name, spec in OPERATORS.items() if not (spec.lenient_only and self.strict)
        ]
        close = difflib.get_close_matches(op, known, n=3, cutoff=0.6)
        if not close:
            return ""
        return "; did you mean " + " or ".join(repr(name) for name in close) + "?"

    def compile_object(  # noqa: C901, PLR0911 - one early exit per kind of problem
        self, tree: dict[str, Any], path: str, depth: int
    ) -> Node:
        if not self.reach(depth):
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
            self.problem(path, f"unknown operator {op!r}{self.nearest_operators(op)}")
            return NULL
        if spec.lenient_only:
            self.warn(path, f"{op!r} is not in flagd's schema (flagd evaluates it)")
        wrong = spec.arity_problem(op, len(raw_args))
        if wrong is not None:
            if self.strict:
                self.problem(sub, wrong)
                return NULL
            self.warn(sub, wrong)  # evaluated as flagd does: absent operands read as null
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
        evaluator = self.compiled.get(name) or self.compile_evaluator(name)
        # Once per rule: a broken evaluator named twice at each of many levels would
        # otherwise multiply its problems as expansion used to multiply its nodes.
        first_use = name not in self.reported
        self.reported.add(name)
        if first_use:
            for warning in evaluator.warnings:
                self.warn(path + warning.path, warning.message)
        if evaluator.problems:
            if first_use:
                self.problems.extend(Problem(path + p.path, p.message) for p in evaluator.problems)
            return NULL
        # The reference stands for its target: it adds no level and no node of its own
        # to what an evaluation walks (compile() counted it as one).
        self.count(path, evaluator.size - 1)
        if not self.reach(depth - 1 + evaluator.height):
            self.problem(path, f"the rule is nested deeper than {self.max_depth} levels")
            return NULL
        return evaluator.node

    def compile_evaluator(self, name: str) -> _Evaluator:
        """Compile ``$evaluators[name]`` on its own, once for the whole document."""
        rule_state = (
            self.problems,
            self.warnings,
            self.warned,
            self.reported,
            self.nodes,
            self.height,
        )
        self.begin()
        self.refs.append(name)
        try:
            try:
                node = self.compile(self.evaluators[name], "", 0)
            except _Abort:
                node = NULL
            problems = self.problems[:_MAX_EVALUATOR_PROBLEMS]
            if len(self.problems) > len(problems):
                more = len(self.problems) - len(problems)
                problems.append(Problem("", f"in $evaluators.{name}: {more} more problems"))
            warnings = self.warnings[:_MAX_EVALUATOR_PROBLEMS]
            evaluator = _Evaluator(node, tuple(problems), tuple(warnings), self.nodes, self.height)
        finally:
            self.refs.pop()
            (
                self.problems,
                self.warnings,
                self.warned,
                self.reported,
                self.nodes,
                self.height,
            ) = rule_state
        self.compiled[name] = evaluator
        return evaluator

    def finish(self, node: Node) -> Rule:
        """The rule of a compiled tree: a constant, or a fenced closure."""
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


class RuleCompiler:
    """Compiles the targeting rules of one document, each of its evaluators once.

    Every ``{"$ref": name}`` in any rule shares the one compiled ``$evaluators[name]``,
    and the document's rules together may have at most ``max_document_nodes`` values
    (each evaluator counted once, each reference as one). Once that budget is spent,
    :attr:`exhausted` is set and every later :meth:`compile` fails at once, so that a
    document too large to compile is refused in a time that follows its size.
    """

    def __init__(
        self,
        evaluators: Mapping[str, Any] | None = None,
        *,
        strict: bool = True,
        max_depth: int = MAX_TARGETING_DEPTH,
        max_nodes: int = MAX_TARGETING_NODES,
        max_document_nodes: int = MAX_DOCUMENT_NODES,
        fractional: FractionalVersion = DEFAULT_FRACTIONAL,
    ) -> None:
        """Prepare to compile rules that may name ``evaluators``.

        Args:
            evaluators: The document's ``$evaluators``, which ``{"$ref": name}`` refers to.
            strict: See :func:`compile_targeting`.
            max_depth: The deepest nesting of operators and arrays one rule may have,
                references expanded.
            max_nodes: The most values one rule may have, references expanded.
            max_document_nodes: The most values all the rules compiled by this object
                may have together, each evaluator counted once.
            fractional: See :func:`compile_targeting`.

        Raises:
            ConfigurationError: ``fractional`` names no bucketing version.

        .. versionchanged:: 0.2.0
           The ``fractional`` option.
        """
        self._compiler = Compiler(
            evaluators or {},
            strict=strict,
            max_depth=max_depth,
            max_nodes=max_nodes,
            max_document_nodes=max_document_nodes,
            fractional=fractional_version(fractional),
        )
        self.exhausted: Problem | None = None
        """The problem of the document's node budget being spent, once it is."""
        self.warnings: tuple[Problem, ...] = ()
        """What the last :meth:`compile` tolerated (only when not strict), with paths.

        Each is something flagd evaluates as written (often to ``null``); strict
        compiling refuses them instead.

        .. versionadded:: 0.2.0
        """

    @property
    def document_nodes(self) -> int:
        """The values of the rules compiled so far, each evaluator counted once."""
        return self._compiler.document_nodes

    def compile(self, targeting: Any, path: str = "targeting") -> Rule:
        """Validate one targeting tree and compile it into a rule.

        Args:
            targeting: The targeting, as parsed from JSON; ``None`` and ``{}`` compile
                to a rule that returns ``None``.
            path: Where the targeting sits in the document, to prefix problem paths.

        Raises:
            DocumentError: Listing every problem of this rule, each with its path (the
                problems of an evaluator it names included), or the spent budget.
        """
        self.warnings = ()
        if self.exhausted is not None:
            raise DocumentError([self.exhausted])
        if targeting is None or targeting == {}:
            return nothing
        compiler = self._compiler
        compiler.begin()
        if not isinstance(targeting, dict):
            compiler.lint(path, "targeting is a JSON Logic rule: an object")
        try:
            node = compiler.compile(targeting, path, 0)
        except _Abort:
            node = NULL
        except _Exhausted:
            budget = compiler.max_document_nodes
            self.exhausted = Problem(
                path, f"the document's rules have more than {budget} nodes together"
            )
            raise DocumentError([self.exhausted]) from None
        except RecursionError:
            compiler.problem(path, "the rule is nested too deeply to compile")
            node = NULL
        self.warnings = tuple(compiler.warnings)
        if compiler.problems:
            raise DocumentError(compiler.problems)
        return compiler.finish(node)


def compile_targeting(
    targeting: Any,
    *,
    evaluators: Mapping[str, Any] | None = None,
    path: str = "targeting",
    strict: bool = True,
    max_depth: int = MAX_TARGETING_DEPTH,
    max_nodes: int = MAX_TARGETING_NODES,
    fractional: FractionalVersion = DEFAULT_FRACTIONAL,
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
            ``False`` (flagd compatibility) those compile into rules that evaluate as
            flagd's (often to ``None``), and :attr:`RuleCompiler.warnings` lists them.
        max_depth: The deepest nesting of operators and arrays allowed.
        max_nodes: The most values allowed after ``$ref`` expansion.
        fractional: The ``fractional`` bucketing version the rule buckets with:
            ``"v2"`` (flagd's current), ``"v1"`` or ``"v3"`` (see
            :data:`~openfeature_litestar.FractionalVersion`). It is bound into the
            compiled rule, which never branches on it.

    Returns:
        A rule: called with the evaluation data (context attributes, ``targetingKey``
        and ``$flagd``), it returns the JSON Logic result and never raises.

    Raises:
        DocumentError: Listing every problem, each with its path. Unknown operators,
            objects with several keys, ``$ref`` to a missing evaluator, ``$ref`` cycles,
            patterns RE2 rejects and exceeded limits are errors even when not strict.
        ConfigurationError: ``fractional`` names no bucketing version.
    """
    compiler = RuleCompiler(
        evaluators, strict=strict, max_depth=max_depth, max_nodes=max_nodes, fractional=fractional
    )
    return compiler.compile(targeting, path)
