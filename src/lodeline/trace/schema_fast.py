"""A compiled yes/no validator for the Draft-7 keywords the EPCIS 2.0 JSON Schema uses.

python-jsonschema walks the schema afresh for every instance (≈10 ms per EPCIS event), too slow for a registry
that captures thousands of events per second. This module compiles the schema once into nested closures that
only answer "valid or not". Capture runs it first; only an invalid document goes through jsonschema to get the
detailed, per-field error report. The tests check that both agree on the official examples, on mutated copies
and on generated chains. Unknown keywords raise at compile time rather than being silently ignored.

Three rewrites, each exact, carry most of the speed: an allOf of if/then on an event's "type" becomes one
lookup of that type (_dispatch); the object schemas an event definition combines with allOf are merged and
walked once, property names included (_merge_objects, _object); and verdicts on strings, which are immutable,
are remembered where the same values recur (property names, anyOf of a URI or a bare word).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

Check = Callable[[Any], bool]

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
}
_PYTYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "number": (int, float),
}
_IGNORED = {"$id", "$schema", "definitions", "title", "description", "$comment", "examples", "default"}


def _json_key(value: Any) -> Any:
    """A hashable key equal for JSON-equal values, as jsonschema compares them: 1 == 1.0 but 1 != true."""
    if isinstance(value, dict):
        return ("object", frozenset((k, _json_key(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("array", tuple(_json_key(v) for v in value))
    return (type(value) is bool, type(value) is str, value)


def unique_items(items: list[Any]) -> bool:
    """uniqueItems by hashing (linear): items equal as JSON values (1 == 1.0, 1 != true) count as repeats."""
    if all(type(item) is str for item in items):  # EPC lists
        return len(set(items)) == len(items)
    return len({_json_key(item) for item in items}) == len(items)


def _accept(v: Any) -> bool:
    return True


def _reject(v: Any) -> bool:
    return False


# Caches of verdicts on strings (property names, anyOf on string values) stop growing at this size, so a
# stream of made-up names cannot grow memory without bound; past it the check is simply recomputed.
_MEMO_SIZE = 4096


def _all(checks: list[Check]) -> Check:
    checks = [c for c in checks if c is not _accept]
    if not checks:
        return _accept
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda v: a(v) and b(v)

    def check(v: Any) -> bool:
        for c in checks:  # noqa: SIM110 - a plain loop is ~2x faster than all(genexpr) on this hot path
            if not c(v):
                return False
        return True

    return check


def _memo_strings(inner: Check) -> Check:
    """``inner`` with its verdicts on strings remembered: a string is immutable, so the verdict is too."""
    memo: dict[str, bool] = {}

    def check(v: Any) -> bool:
        if type(v) is not str:
            return inner(v)
        ok = memo.get(v)
        if ok is None:
            ok = inner(v)
            if len(memo) < _MEMO_SIZE:
                memo[v] = ok
        return ok

    return check


def _discriminator(cond: Any) -> tuple[str, set[str]] | None:
    """(P, values) when the truth of ``cond`` depends only on whether the instance is an object, whether it has
    property P, and which of ``values`` (strings) P holds: ``{"type": "object", "properties": {P: {"enum":
    [...]}}}``, with or without "type", a "type": "string" next to the enum, or the negation of such a schema.
    """
    if not isinstance(cond, dict):
        return None
    keys = set(cond) - _IGNORED
    if keys == {"not"}:
        return _discriminator(cond["not"])
    props = cond.get("properties")
    if keys - {"type"} != {"properties"} or cond.get("type", "object") != "object":
        return None
    if not isinstance(props, dict) or len(props) != 1:
        return None
    ((prop, sub),) = props.items()
    if not isinstance(sub, dict) or set(sub) - _IGNORED - {"type"} != {"enum"}:
        return None
    if sub.get("type", "string") != "string" or not all(isinstance(x, str) for x in sub["enum"]):
        return None
    return prop, set(sub["enum"])


_OBJECT_KEYS = {"type", "properties", "required", "additionalProperties", "propertyNames"}
_ARRAY_KEYS = {"type", "items", "minItems", "uniqueItems"}


class Compiler:
    def __init__(self, root: dict[str, Any], formats: dict[str, Callable[[str], bool]]) -> None:
        self.root = root
        self.formats = formats
        self.refs: dict[str, Check] = {}

    def node(self, pointer: str) -> Any:
        node: Any = self.root
        for part in pointer.lstrip("#/").split("/"):
            if part:
                node = node[unquote(part).replace("~1", "/").replace("~0", "~")]
        return node

    def ref(self, pointer: str) -> Check:
        if pointer not in self.refs:
            slot: list[Check] = []
            self.refs[pointer] = lambda v: slot[0](v)  # forward reference for recursive definitions
            slot.append(self.compile(self.node(pointer)))
            # Later references call the compiled check directly; only references made while compiling it
            # (recursive definitions) keep going through the slot.
            self.refs[pointer] = slot[0]
        return self.refs[pointer]

    def compile(self, schema: Any) -> Check:
        if schema is True or schema == {}:
            return _accept
        if schema is False or schema == {"not": {}}:
            return _reject
        keys = set(schema) - _IGNORED
        kind = schema.get("type")
        if kind == "object" and "patternProperties" not in schema:
            return self._object(schema)
        if kind == "string" and len(keys) == 2:
            # {"type": "string"} with one of format, enum or pattern (every URI, time and code of an event):
            # one closure, not two.
            if "format" in keys:
                fmt = self.formats.get(schema["format"])
                return (lambda v: type(v) is str) if fmt is None else (lambda v: type(v) is str and fmt(v))
            if "enum" in keys:
                allowed = frozenset(x for x in schema["enum"] if isinstance(x, str))
                return lambda v: type(v) is str and v in allowed
            if "pattern" in keys:
                search = re.compile(schema["pattern"]).search
                return lambda v: type(v) is str and search(v) is not None
        if kind == "string" and keys == {"type"}:
            return lambda v: type(v) is str
        if kind == "array" and keys <= _ARRAY_KEYS and not isinstance(schema.get("items"), list):
            return self._array(schema)
        return self._keywords(schema, ())

    def _keywords(self, schema: dict[str, Any], skip: tuple[str, ...] | set[str]) -> Check:
        checks: list[Check] = []
        for key, arg in schema.items():
            if key in _IGNORED or key == "then" or key in skip:
                continue
            maker = getattr(self, "_" + key.lstrip("$"), None)
            if maker is None:
                raise ValueError(f"schema keyword {key!r} is not supported by the fast validator")
            checks.append(maker(arg, schema))
        return _all(checks)

    def _object(self, schema: dict[str, Any]) -> Check:
        """type object + properties, required, additionalProperties and propertyNames fused into one closure
        and one walk over the instance: the EPCIS schema is mostly such objects, and one call per object
        instead of five is most of the validator's time. Any other keyword of the schema is checked after."""
        props = {k: self.compile(sub) for k, sub in schema.get("properties", {}).items()}
        names = tuple(schema.get("required", ()))
        extra = self.compile(schema.get("additionalProperties", True))
        allowed_name = self.compile(schema.get("propertyNames", True))
        rest = self._keywords(schema, _OBJECT_KEYS)
        pairs = tuple(props.items())

        if extra is _accept and allowed_name is _accept:

            def check(v: Any) -> bool:
                if type(v) is not dict:
                    return False
                for k in names:
                    if k not in v:
                        return False
                if len(pairs) < len(v):
                    # Walk the smaller side: an if-branch discriminator names one property of a dozen-key event.
                    for k, sub in pairs:
                        if k in v and not sub(v[k]):
                            return False
                else:
                    for k, x in v.items():
                        c = props.get(k)
                        if c is not None and not c(x):
                            return False
                return rest is _accept or rest(v)

            return check

        # Per property name, the check its value must pass: its "properties" schema, else additionalProperties,
        # or _reject when propertyNames refuses the name. Names repeat in every event and the answer is pure.
        value_checks: dict[str, Check] = {}

        def learn(k: Any) -> Check:
            c = props.get(k, extra) if allowed_name(k) else _reject
            if type(k) is str and len(value_checks) < _MEMO_SIZE:
                value_checks[k] = c
            return c

        def check_walk(v: Any) -> bool:
            if type(v) is not dict:
                return False
            for k in names:
                if k not in v:
                    return False
            for k, x in v.items():
                c = value_checks.get(k) or learn(k)
                if not c(x):
                    return False
            return rest is _accept or rest(v)

        return check_walk

    def _array(self, schema: dict[str, Any]) -> Check:
        """type array + items (one schema for all), minItems and uniqueItems in one closure."""
        sub = self.compile(schema.get("items", True))
        least = schema.get("minItems", 0)
        unique = schema.get("uniqueItems", False)

        def check(v: Any) -> bool:
            if type(v) is not list or len(v) < least:
                return False
            if sub is not _accept:
                for x in v:
                    if not sub(x):
                        return False
            return not unique or unique_items(v)

        return check

    def _ref(self, arg: str, _s: Any) -> Check:
        if not arg.startswith("#"):
            raise ValueError(f"remote $ref {arg!r} is not supported")
        return self.ref(arg)

    def _type(self, arg: Any, _s: Any) -> Check:
        names = arg if isinstance(arg, list) else [arg]
        if "integer" in names:
            tests = [_TYPES[t] for t in names]
            return lambda v: any(t(v) for t in tests)
        # type(v) is exact, so bool (a subclass of int) never passes as a number.
        pytypes = frozenset(t for n in names for t in _PYTYPES[n])
        return lambda v: type(v) in pytypes

    def _properties(self, arg: dict[str, Any], _s: Any) -> Check:
        props = {k: self.compile(sub) for k, sub in arg.items()}
        pairs = tuple(props.items())

        def check(v: Any) -> bool:
            if type(v) is not dict:
                return True
            # Walk the smaller side: an if-branch discriminator names one property of a dozen-key event.
            if len(pairs) < len(v):
                for k, sub in pairs:  # noqa: SIM110 - hot path, see _all
                    if k in v and not sub(v[k]):
                        return False
                return True
            for k, x in v.items():
                c = props.get(k)
                if c is not None and not c(x):
                    return False
            return True

        return check

    def _additionalProperties(self, arg: Any, s: dict[str, Any]) -> Check:
        known = set(s.get("properties", {}))
        if "patternProperties" in s:
            raise ValueError("patternProperties is not supported")
        sub = self.compile(arg)
        return lambda v: not isinstance(v, dict) or all(sub(x) for k, x in v.items() if k not in known)

    def _required(self, arg: list[str], _s: Any) -> Check:
        names = tuple(arg)

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for k in names:  # noqa: SIM110 - hot path, see _all
                if k not in v:
                    return False
            return True

        return check

    def _items(self, arg: Any, _s: Any) -> Check:
        if isinstance(arg, list):
            subs = [self.compile(a) for a in arg]
            return lambda v: not isinstance(v, list) or all(c(x) for c, x in zip(subs, v, strict=False))
        sub = self.compile(arg)

        def check(v: Any) -> bool:
            if type(v) is not list:
                return True
            for x in v:  # noqa: SIM110 - hot path, see _all
                if not sub(x):
                    return False
            return True

        return check

    def _minItems(self, arg: int, _s: Any) -> Check:
        return lambda v: not isinstance(v, list) or len(v) >= arg

    def _uniqueItems(self, arg: bool, _s: Any) -> Check:
        return (lambda v: not isinstance(v, list) or unique_items(v)) if arg else (lambda v: True)

    def _enum(self, arg: list[Any], _s: Any) -> Check:
        hashable = all(isinstance(a, str | int | float | bool) or a is None for a in arg)
        if hashable:
            allowed = frozenset((type(a) is bool, a) for a in arg)
            return lambda v: isinstance(v, dict | list) is False and (type(v) is bool, v) in allowed
        return lambda v: v in arg

    def _pattern(self, arg: str, _s: Any) -> Check:
        rx = re.compile(arg)
        return lambda v: not isinstance(v, str) or rx.search(v) is not None

    def _format(self, arg: str, _s: Any) -> Check:
        fmt = self.formats.get(arg)
        return _accept if fmt is None else (lambda v: type(v) is not str or fmt(v))

    def _propertyNames(self, arg: Any, _s: Any) -> Check:
        sub = _memo_strings(self.compile(arg))  # property names repeat in every event; the check is pure

        def check(v: Any) -> bool:
            if type(v) is not dict:
                return True
            for k in v:  # noqa: SIM110 - hot path, see _all
                if not sub(k):
                    return False
            return True

        return check

    def _allOf(self, arg: list[Any], _s: Any) -> Check:
        return self._dispatch(arg) or _all([self.compile(a) for a in self._merge_objects(arg)])

    def _dispatch(self, members: list[Any]) -> Check | None:
        """An allOf of if/then that all test the same property against string enums (how the EPCIS schema
        picks the definition of an event or document from its "type") as one lookup on that property's
        value instead of evaluating every "if".

        _discriminator proves each "if" depends only on: the instance not being an object, the property
        being absent, its value being one of the enums' strings, or anything else (a value no enum lists,
        string or not, fails every enum alike). So evaluating the compiled "if"s on one representative
        instance per case decides, once, which "then"/"else" apply to every instance of that case."""
        if not members or not all(
            isinstance(m, dict) and "if" in m and set(m) - _IGNORED <= {"if", "then", "else"} for m in members
        ):
            return None
        found = [_discriminator(m["if"]) for m in members]
        props = {f[0] for f in found if f is not None}
        if None in found or len(props) != 1:
            return None
        prop = props.pop()
        conds = [self.compile(m["if"]) for m in members]
        thens = [self.compile(m.get("then", True)) for m in members]
        elses = [self.compile(m.get("else", True)) for m in members]

        def applicable(representative: Any) -> Check:
            return _all([t if c(representative) else e for c, t, e in zip(conds, thens, elses, strict=True)])

        on_non_object = applicable(None)
        on_absent = applicable({})
        on_unlisted = applicable({prop: None})
        on_value = {s: applicable({prop: s}) for f in found if f is not None for s in f[1]}

        def check(v: Any) -> bool:
            if type(v) is not dict:
                return on_non_object(v)
            if prop not in v:
                return on_absent(v)
            x = v[prop]
            c = on_value.get(x) if type(x) is str else None
            return (c or on_unlisted)(v)

        return check

    def _merge_objects(self, members: list[Any]) -> list[Any]:
        """allOf members that are plain object schemas (type, properties, required, propertyNames; through
        $refs) merged into one schema, so the instance is walked once: without additionalProperties each
        keyword constrains each property independently, and the conjunction of the members is the schema
        with the union of "required", both members' schemas for a property they share, and both
        propertyNames."""

        def resolved(m: Any) -> Any:
            for _ in range(8):
                if not (isinstance(m, dict) and set(m) - _IGNORED == {"$ref"} and m["$ref"].startswith("#")):
                    break
                m = self.node(m["$ref"])
            return m

        plain = [
            r
            for r in map(resolved, members)
            if isinstance(r, dict)
            and r.get("type") == "object"
            and set(r) - _IGNORED <= _OBJECT_KEYS - {"additionalProperties"}
        ]
        if len(plain) < 2:
            return members
        properties: dict[str, list[Any]] = {}
        required: list[str] = []
        names: list[Any] = []
        for r in plain:
            for k, sub in r.get("properties", {}).items():
                properties.setdefault(k, []).append(sub)
            required += [k for k in r.get("required", ()) if k not in required]
            if "propertyNames" in r:
                names.append(r["propertyNames"])
        merged: dict[str, Any] = {
            "type": "object",
            "properties": {
                k: subs[0] if len(subs) == 1 else {"allOf": subs} for k, subs in properties.items()
            },
            "required": required,
        }
        if names:
            merged["propertyNames"] = names[0] if len(names) == 1 else {"allOf": names}
        return [merged] + [m for m in members if not any(resolved(m) is r for r in plain)]

    def _anyOf(self, arg: list[Any], _s: Any) -> Check:
        subs = [self.compile(a) for a in arg]

        def check(v: Any) -> bool:
            for c in subs:  # noqa: SIM110 - hot path, see _all
                if c(v):
                    return True
            return False

        # bizStep, disposition and the like are an anyOf of a URI and a list of bare words.
        return _memo_strings(check)

    def _oneOf(self, arg: list[Any], _s: Any) -> Check:
        subs = [self.compile(a) for a in arg]
        return lambda v: sum(1 for c in subs if c(v)) == 1

    def _not(self, arg: Any, _s: Any) -> Check:
        sub = self.compile(arg)
        return lambda v: not sub(v)

    def _if(self, arg: Any, s: dict[str, Any]) -> Check:
        cond = self.compile(arg)
        then = self.compile(s.get("then", True))
        other = self.compile(s.get("else", True))
        return lambda v: then(v) if cond(v) else other(v)

    def _else(self, arg: Any, s: dict[str, Any]) -> Check:
        # "else" is evaluated by _if; without an "if" it has no effect (Draft 7 §6.6.3).
        return lambda v: True


def compile_schema(schema: dict[str, Any], formats: dict[str, Callable[[str], bool]]) -> Check:
    """The yes/no check of ``schema``. ``formats`` maps a format name to its check, which is only ever given
    strings (a format says nothing about other types); a format without a check is not checked."""
    return Compiler(schema, formats).compile(schema)
