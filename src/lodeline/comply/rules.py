"""Rule sets as versioned data: YAML files whose rule conditions are CEL expressions over a lot's facts.

A rule set (docs/comply.md, *Rule sets*)::

    id: eu-battery-recycled-content        # stable identifier
    version: "1.0.0"                       # a change to any rule is a new version
    effective: 2026-12-05                  # the date this version applies from
    title: …
    rules:
      - id: li-2031                        # unique in the set
        title: …
        source: "Regulation (EU) 2023/1542, Art. 8(2)(c)"   # the clause the rule implements
        scope: {minerals: [lithium], stages: [materials, battery], materials: [...]}   # each optional
        condition: "recycled_share >= 0.06"   # CEL (cel-python); reads facts by name (lodeline.comply.facts)
        severity: high                     # high | medium | low
        requires: [other-rule]             # optional: decided only once these passed
        applies_from: 2031-08-18           # optional, informative: when the obligation bites

Loading rejects, naming the file, the rule id and the reason: a CEL syntax error, a fact that is not in the
schema, a ``requires`` naming an unknown rule or forming a cycle, a duplicate id, a missing or ill-typed field.

A verdict is ``pass`` (the condition is true), ``fail`` (false) or ``insufficient-data``: a fact the condition
reads is absent (None), the condition could not be evaluated on the facts (a missing map key, a division by zero,
a non-boolean result), or a required rule did not pass. Insufficient data is never a pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import celpy
from celpy import celtypes
from celpy.evaluation import TranspilerTree
from lark import Token, Tree

from lodeline.comply.facts import FACT_NAMES
from lodeline.errors import InvalidArgumentError
from lodeline.inputs import Bounds, InputRejected, parse_yaml

PASS, FAIL, INSUFFICIENT = "pass", "fail", "insufficient-data"
VERDICTS = (PASS, FAIL, INSUFFICIENT)
SEVERITIES = ("high", "medium", "low")
#: Leaf data prefix of an issued verdict: this + sha256 hex of the canonical verdict document.
VERDICT_LEAF_PREFIX = b"lodeline-verdict/v1:"
#: Bounds of a rule set file (small by nature).
RULESET_BOUNDS = Bounds(max_bytes=256 * 1024, max_depth=16, max_nodes=20_000)
_MAX_CONDITION = 2_000
_MACROS = {"all", "exists", "exists_one", "map", "filter"}
_SCOPE_KEYS = ("minerals", "stages", "materials")
_SCOPE_FACT = {"minerals": "mineral", "stages": "stage", "materials": "material"}


class RuleSetError(InvalidArgumentError):
    """A rule set that cannot be loaded: names the file, the rule id (when one is at fault) and the reason."""

    code = "ruleset-invalid"

    def __init__(self, source: str, reason: str, rule: str | None = None) -> None:
        where = f"{source}, rule {rule!r}" if rule else source
        super().__init__(f"{where}: {reason}", file=source, rule=rule, reason=reason)
        self.source, self.rule, self.reason = source, rule, reason


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    source: str
    condition: str
    severity: str
    scope: Mapping[str, tuple[str, ...]]
    requires: tuple[str, ...]
    reads: tuple[str, ...]  # the facts the condition reads (sorted)
    applies_from: str | None
    note: str | None
    program: Any = field(repr=False, compare=False)

    def in_scope(self, facts: Mapping[str, Any]) -> bool:
        return all(facts.get(_SCOPE_FACT[key]) in allowed for key, allowed in self.scope.items())

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "condition": self.condition,
            "severity": self.severity,
            "scope": {k: list(v) for k, v in self.scope.items()},
            "requires": list(self.requires),
            "reads": list(self.reads),
            "applies_from": self.applies_from,
            "note": self.note,
        }


@dataclass(frozen=True)
class RuleSet:
    id: str
    version: str
    effective: str
    title: str
    sha256: str  # of the file's bytes: which text of the version was applied
    rules: tuple[Rule, ...]  # in evaluation order (every rule after the rules it requires)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "effective": self.effective,
            "title": self.title,
            "sha256": self.sha256,
            "rules": [r.describe() for r in self.rules],
        }


# Conditions run through cel-python's CompiledRunner: each condition is transpiled to Python and compiled once at
# load, 5-10x faster per evaluation than the InterpretedRunner (which walks the parse tree every time). Two quirks of
# cel-python 0.5.0 are handled here:
# - celpy.CELParser keeps ONE class-level Lark parser, built with the tree class of the first Environment created in
#   the process; the transpiler needs TranspilerTree nodes, so a tree parsed as plain lark.Tree (any interpreted
#   Environment made first) fails with "'Tree' object has no attribute 'checked_exception'". The tree is therefore
#   rebuilt as TranspilerTree nodes (_transpiler_tree) whatever the parser made.
# - the compiled code runs with ``exec`` in the celpy.evaluation module's globals (it stores the activation and
#   the result there), so two evaluations must not overlap: _RUN_LOCK serialises them (API requests run in threads).
# A condition the transpiler cannot handle falls back to the InterpretedRunner (same CEL semantics, slower).
# - celpy.Environment() raises the PROCESS-wide recursion limit to 2500 as a side effect (its parser and transpiler
#   recurse per nesting level). The rest of the process keeps the default limit (the server refuses a JSON body
#   nested deeper than it as unparsable), so the limit is put back at once and raised only while a condition is
#   compiled (_CEL_RECURSION, under _RUN_LOCK); a condition nested too deeply even then is a RuleSetError.
_LIMIT = sys.getrecursionlimit()
_ENV = celpy.Environment(runner_class=celpy.CompiledRunner)
sys.setrecursionlimit(_LIMIT)
_CEL_RECURSION = 2500
_RUN_LOCK = threading.Lock()
# The transpiled runner logs every evaluation error at ERROR before re-raising it; an evaluation error is an
# ordinary outcome here (the verdict is insufficient-data with the error as reason), so it is not logged.
logging.getLogger("celpy.Transpiler").setLevel(logging.CRITICAL)


def _transpiler_tree(node: Any) -> Any:
    """A copy of a parse tree made of TranspilerTree nodes (tokens are shared)."""
    if not isinstance(node, Tree):
        return node
    meta = node.meta if getattr(node, "_meta", None) is not None else None
    return TranspilerTree(node.data, [_transpiler_tree(c) for c in node.children], meta)


def _program(ast: Tree) -> Any:
    """The compiled runner of a parsed condition, or the interpreted one if the transpiler rejects it."""
    tree = _transpiler_tree(ast)
    try:
        return celpy.CompiledRunner(_ENV, tree)
    except Exception:  # a transpiler gap: the interpreter covers the whole language
        return celpy.InterpretedRunner(_ENV, tree)


def _names(tree: Tree) -> tuple[set[str], set[str]]:
    """(identifiers read, identifiers bound by macros) of a parsed CEL expression."""
    read: set[str] = set()
    bound: set[str] = set()
    stack: list[Any] = [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, Tree):
            continue
        if node.data == "ident":
            read.add(str(node.children[0]))
        elif node.data == "member_dot_arg" and len(node.children) == 3:
            method, args = node.children[1], node.children[2]
            if (
                isinstance(method, Token)
                and str(method) in _MACROS
                and isinstance(args, Tree)
                and args.children
            ):
                idents = [t for t in args.children[0].iter_subtrees() if t.data == "ident"]
                if len(idents) == 1:
                    bound.add(str(idents[0].children[0]))
        stack.extend(node.children)
    return read, bound


def compile_condition(condition: str, source: str, rule: str) -> tuple[Any, tuple[str, ...]]:
    """The CEL program of ``condition`` and the facts it reads; RuleSetError on a syntax error or unknown fact."""
    if len(condition) > _MAX_CONDITION:
        raise RuleSetError(source, f"condition longer than {_MAX_CONDITION} characters", rule)
    with _RUN_LOCK:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, _CEL_RECURSION))
        try:
            ast = _ENV.compile(condition)
            read, bound = _names(ast)
            program = _program(ast)
        except RecursionError:
            raise RuleSetError(source, "condition nested too deeply", rule) from None
        except celpy.CELParseError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "cannot parse"
            raise RuleSetError(
                source, f"CEL syntax error in condition {condition!r}: {first}", rule
            ) from None
        finally:
            sys.setrecursionlimit(limit)
    clash = sorted(bound & FACT_NAMES)
    if clash:
        raise RuleSetError(source, f"a macro variable may not shadow a fact: {clash}", rule)
    unknown = sorted(read - bound - FACT_NAMES)
    if unknown:
        raise RuleSetError(
            source, f"unknown fact(s) {unknown} in condition (the facts are listed in docs/comply.md)", rule
        )
    return program, tuple(sorted(read - bound))


def _text(value: Any, source: str, what: str, rule: str | None, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if isinstance(value, (dt.date, int, float)) and not isinstance(value, bool):
        value = value.isoformat() if isinstance(value, dt.date) else str(value)
    if not isinstance(value, str) or not value.strip():
        raise RuleSetError(source, f"{what} must be a non-empty string", rule)
    return value.strip()


def _order(rules: dict[str, dict[str, Any]], source: str) -> list[str]:
    """Rule ids with each after the rules it requires; RuleSetError names a rule on a cycle."""
    done: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for start in rules:
        stack = [(start, iter(rules[start]["requires"]))]
        if state.get(start) == 2:
            continue
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                done.append(node)
                stack.pop()
                continue
            if state.get(nxt) == 1:
                names = [n for n, _ in stack]
                cycle = [*names[names.index(nxt) :], nxt]
                raise RuleSetError(source, f"requires forms a cycle: {' -> '.join(cycle)}", node)
            if state.get(nxt) is None:
                state[nxt] = 1
                stack.append((nxt, iter(rules[nxt]["requires"])))
    return done


def load_ruleset(raw: str | bytes, source: str) -> RuleSet:
    """Parse and check a rule set (YAML text of the file named ``source``); RuleSetError names what is wrong."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    try:
        doc = parse_yaml(data, RULESET_BOUNDS)
    except InputRejected as exc:
        raise RuleSetError(source, exc.reason) from None
    if not isinstance(doc, dict):
        raise RuleSetError(source, "a rule set is a mapping with id, version, effective, title and rules")
    extra = sorted(set(doc) - {"id", "version", "effective", "title", "description", "rules"})
    if extra:
        raise RuleSetError(source, f"unknown field(s) {extra}")
    rs_id = _text(doc.get("id"), source, "id", None)
    version = _text(doc.get("version"), source, "version", None)
    effective = doc.get("effective")
    if isinstance(effective, str):
        try:
            effective = dt.date.fromisoformat(effective)
        except ValueError:
            effective = None
    if not isinstance(effective, dt.date):
        raise RuleSetError(source, "effective must be a date (YYYY-MM-DD)")
    title = _text(doc.get("title"), source, "title", None)
    raw_rules = doc.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RuleSetError(source, "rules must be a non-empty list")
    specs: dict[str, dict[str, Any]] = {}
    for n, r in enumerate(raw_rules, start=1):
        if not isinstance(r, dict):
            raise RuleSetError(source, f"rule #{n} is not a mapping")
        rid = _text(r.get("id"), source, f"rule #{n} id", None)
        assert rid is not None
        if rid in specs:
            raise RuleSetError(source, "duplicate rule id", rid)
        extra = sorted(
            set(r)
            - {"id", "title", "source", "condition", "severity", "scope", "requires", "applies_from", "note"}
        )
        if extra:
            raise RuleSetError(source, f"unknown field(s) {extra}", rid)
        severity = _text(r.get("severity"), source, "severity", rid)
        if severity not in SEVERITIES:
            raise RuleSetError(source, f"severity must be one of {list(SEVERITIES)}, got {severity!r}", rid)
        scope_raw = r.get("scope") or {}
        if not isinstance(scope_raw, dict) or set(scope_raw) - set(_SCOPE_KEYS):
            raise RuleSetError(source, f"scope is a mapping with keys among {list(_SCOPE_KEYS)}", rid)
        scope = {}
        for key, values in scope_raw.items():
            if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
                raise RuleSetError(source, f"scope.{key} must be a non-empty list of strings", rid)
            scope[key] = tuple(values)
        requires = r.get("requires") or []
        if not isinstance(requires, list) or not all(isinstance(x, str) for x in requires):
            raise RuleSetError(source, "requires must be a list of rule ids", rid)
        condition = _text(r.get("condition"), source, "condition", rid)
        assert condition is not None
        specs[rid] = {
            "title": _text(r.get("title"), source, "title", rid),
            "source": _text(r.get("source"), source, "source (the clause the rule cites)", rid),
            "condition": condition,
            "severity": severity,
            "scope": scope,
            "requires": tuple(requires),
            "applies_from": _text(r.get("applies_from"), source, "applies_from", rid, optional=True),
            "note": _text(r.get("note"), source, "note", rid, optional=True),
        }
    for rid, spec in specs.items():
        unknown = [x for x in spec["requires"] if x not in specs]
        if unknown:
            raise RuleSetError(source, f"requires unknown rule(s) {unknown}", rid)
    order = _order(specs, source)
    rules = []
    for rid in order:
        spec = specs[rid]
        program, reads = compile_condition(spec["condition"], source, rid)
        rules.append(Rule(id=rid, reads=reads, program=program, **spec))
    return RuleSet(
        id=rs_id or "",
        version=version or "",
        effective=effective.isoformat(),
        title=title or "",
        sha256=hashlib.sha256(data).hexdigest(),
        rules=tuple(rules),
    )


# ------------------------------------------------------------------------------------------------ evaluation
def canonical_json(value: Any) -> str:
    """The one serialisation of a verdict document: sorted keys, no spaces, UTF-8 text (floats as Python's
    shortest round-trip repr)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _memo_part(value: Any) -> str:
    """An exact text of a fact value for the memo key: its repr. Facts are JSON values (None, bool, int, float,
    str, lists and str-keyed dicts of them), whose repr is injective: 1, 1.0, True and '1' stay apart, and -0.0 is
    not 0.0. Equal dicts with keys in another order give another text, which costs a memo miss, never a wrong
    verdict. (repr is C code; canonical JSON was a third of the evaluation time.)"""
    return repr(value)


@dataclass
class Evaluator:
    """Evaluates a rule set over the facts of many lots. A verdict depends only on the values of the facts its
    rule reads, so it is memoised on them (exact: the CEL program is a pure function of its activation)."""

    ruleset: RuleSet
    cache: dict[tuple[str, tuple[str, ...]], tuple[str, str | None]] = field(default_factory=dict)

    def _decide(self, rule: Rule, facts: Mapping[str, Any], key: tuple[str, ...]) -> tuple[str, str | None]:
        absent = [name for name in rule.reads if facts.get(name) is None]
        if absent:
            return INSUFFICIENT, f"absent fact(s): {', '.join(absent)}"
        memo = self.cache.get((rule.id, key))
        if memo is not None:
            return memo
        activation = {name: celpy.json_to_cel(facts[name]) for name in rule.reads}
        try:
            with _RUN_LOCK:
                result = rule.program.evaluate(activation)
        except Exception as exc:  # cel-python raises several types for an undecidable expression
            answer: tuple[str, str | None] = (
                INSUFFICIENT,
                f"cannot evaluate on these facts: {str(exc)[:200]}",
            )
        else:
            if isinstance(result, celtypes.BoolType):
                answer = (PASS, None) if bool(result) else (FAIL, None)
            else:
                answer = (INSUFFICIENT, f"the condition gave {type(result).__name__}, not a boolean")
        self.cache[(rule.id, key)] = answer
        return answer

    def evaluate(self, facts: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The verdict of every rule in scope for this lot, in the rule set's order (out-of-scope rules are
        left out: they are not verdicts). Each names the rule, its citation, severity, the facts it read with
        their values and, when not a plain pass or fail, why."""
        out: list[dict[str, Any]] = []
        decided: dict[str, str] = {}
        encoded: dict[str, str] = {}  # fact name -> canonical JSON of its value (the memo key's parts)
        for rule in self.ruleset.rules:
            if not rule.in_scope(facts):
                continue
            read = {name: facts.get(name) for name in rule.reads}
            blocked = [r for r in rule.requires if decided.get(r) != PASS]
            if blocked:
                verdict: str = INSUFFICIENT
                reason: str | None = "required rule(s) not passed: " + ", ".join(
                    f"{r} ({decided.get(r, 'out of scope')})" for r in blocked
                )
            else:
                for name in rule.reads:
                    if name not in encoded:
                        encoded[name] = _memo_part(read[name])
                verdict, reason = self._decide(rule, facts, tuple(encoded[n] for n in rule.reads))
            decided[rule.id] = verdict
            out.append(
                {
                    "rule": rule.id,
                    "title": rule.title,
                    "source": rule.source,
                    "severity": rule.severity,
                    "condition": rule.condition,
                    "verdict": verdict,
                    "reason": reason,
                    "facts": read,
                }
            )
        return out


def verdict_document(
    ruleset: RuleSet, lot: str, verdict: Mapping[str, Any], checked_at: str
) -> dict[str, Any]:
    """The document a verdict is logged as (its sha256, after :func:`canonical_json`, is the leaf)."""
    return {
        "type": "lodeline-verdict/v1",
        "lot": lot,
        "ruleset": {
            "id": ruleset.id,
            "version": ruleset.version,
            "effective": ruleset.effective,
            "sha256": ruleset.sha256,
        },
        "rule": {k: verdict[k] for k in ("rule", "title", "source", "severity", "condition")},
        "verdict": verdict["verdict"],
        "reason": verdict["reason"],
        "facts": dict(verdict["facts"]),
        "checked_at": checked_at,
    }


def leaf_of(document_text: str) -> bytes:
    return VERDICT_LEAF_PREFIX + hashlib.sha256(document_text.encode("utf-8")).hexdigest().encode("ascii")


def scope_summary(rules: Iterable[Rule]) -> Sequence[str]:
    return sorted({m for r in rules for m in r.scope.get("minerals", ())})
