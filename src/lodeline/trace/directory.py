"""The registry's directory as log leaves: encoding, decoding and the state they rebuild (pure, no I/O).

Every change to the directory — a participant registered, a key added or revoked, a company prefix bound, a
facility registered, a certification added — is appended to the registry's Merkle log as one **directory leaf**,
in the transaction that writes the table (:mod:`lodeline.trace.parties`). So the directory at any log position is
reproducible from the log alone, and ``lodeline trace audit`` can tell an edited table from a logged change.

**Encoding** (``lodeline-directory/v1``, see docs/trace-log.md): the leaf data is the RFC 8785 JSON Canonicalization
(JCS) of ::

    {"at": "<RFC 3339 UTC, microseconds, Z>", "op": "<op>", "record": {<the table row after the change>},
     "type": "lodeline-directory/v1"}

plus ``"snapshot": "<revision>"`` on the rows a migration recorded. ``record`` holds every column of the row
(:data:`COLUMNS`), timestamps as RFC 3339 UTC with microseconds, dates as ``YYYY-MM-DD``. Event leaves are the
bytes ``ni:///sha-256;…`` and never start with ``{``, so the first byte tells the two kinds apart. A directory leaf
must be exactly the canonical encoding of what it decodes to, so one record has one leaf.

**Ops.** Each op sets the whole row of its table (:data:`OPS`): applying the leaves in log order gives the
tables. ``snapshot`` (migration ``trace_0006``) is a header ``{"records": N, "revision": …}``: the directory is
reset and the next N leaves (each marked ``"snapshot": revision``) are the rows the tables held when it ran.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from lodeline.errors import InvalidArgumentError

LEAF_TYPE = "lodeline-directory/v1"
SNAPSHOT = "snapshot"

#: table -> its columns, key column first (the record of a leaf holds exactly these)
COLUMNS: dict[str, tuple[str, ...]] = {
    "trace_participants": ("id", "name", "role", "created_at"),
    "trace_participant_keys": (
        "key_id",
        "participant_id",
        "public_key",
        "valid_from",
        "revoked_at",
        "revocation_reason",
    ),
    "trace_company_prefixes": ("prefix", "participant_id", "added_at"),
    "trace_facilities": (
        "id",
        "name",
        "facility_type",
        "country",
        "latitude",
        "longitude",
        "operator_id",
        "custody_model",
    ),
    "trace_certifications": ("id", "facility_id", "scheme", "certificate", "valid_from", "valid_to"),
}
#: op -> the table whose row it sets
OPS: dict[str, str] = {
    "participant-registered": "trace_participants",
    "key-added": "trace_participant_keys",
    "key-revoked": "trace_participant_keys",
    "prefix-bound": "trace_company_prefixes",
    "facility-registered": "trace_facilities",
    "certification-added": "trace_certifications",
}
#: the op a snapshot records each table's rows under
SNAPSHOT_OPS: dict[str, str] = {
    "trace_participants": "participant-registered",
    "trace_participant_keys": "key-added",
    "trace_company_prefixes": "prefix-bound",
    "trace_facilities": "facility-registered",
    "trace_certifications": "certification-added",
}
#: how findings name a row of each table
NOUNS = {
    "trace_participants": "participant",
    "trace_participant_keys": "key",
    "trace_company_prefixes": "company prefix",
    "trace_facilities": "facility",
    "trace_certifications": "certification",
}


# --- RFC 8785 (JCS) ---------------------------------------------------------------------------------------------


def _number(x: float) -> str:
    """ECMAScript Number::toString of a finite double (RFC 8785 §3.2.2.3), from Python's shortest repr."""
    if not math.isfinite(x):
        raise InvalidArgumentError(f"JSON canonicalization: {x} is not a finite number")
    if x == 0:
        return "0"
    sign, text = ("-" if x < 0 else ""), repr(abs(x))
    mantissa, _, exp = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    e = int(exp) if exp else 0
    digits = (whole + frac).lstrip("0").rstrip("0")
    n = len(whole) + e if whole.strip("0") else e - (len(frac) - len(frac.lstrip("0")))
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    power = n - 1
    head = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{head}e{'+' if power > 0 else '-'}{abs(power)}"


def _jcs(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, bool):
        out.append("null" if value is None else ("true" if value else "false"))
    elif isinstance(value, int):
        if abs(value) > 2**53:
            raise InvalidArgumentError(f"JSON canonicalization: integer {value} is beyond IEEE 754 precision")
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Mapping):
        out.append("{")
        for i, key in enumerate(sorted(value, key=lambda k: str(k).encode("utf-16-be"))):
            if not isinstance(key, str):
                raise InvalidArgumentError(f"JSON canonicalization: object key {key!r} is not a string")
            out.append(("," if i else "") + json.dumps(key, ensure_ascii=False) + ":")
            _jcs(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _jcs(item, out)
        out.append("]")
    else:
        raise InvalidArgumentError(f"JSON canonicalization: {type(value).__name__} is not a JSON value")


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 JSON Canonicalization Scheme (JCS) bytes of ``value``."""
    out: list[str] = []
    _jcs(value, out)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: not a Unicode string
        raise InvalidArgumentError(f"JSON canonicalization: {exc.reason}") from exc


# --- records ----------------------------------------------------------------------------------------------------


def iso_time(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds and ``Z`` (a naive time, as SQLite returns it, is UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def record_of(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A table row as a leaf records it: exactly the table's columns, times and dates as text."""
    return {column: _plain(row.get(column)) for column in COLUMNS[table]}


def leaf_data(op: str, record: Mapping[str, Any], at: datetime, *, snapshot: str | None = None) -> bytes:
    """The directory leaf for ``op`` setting ``record`` (a row of the op's table, see :func:`record_of`)."""
    if op == SNAPSHOT:
        body = dict(record)
    else:
        if op not in OPS:
            raise InvalidArgumentError(f"unknown directory op {op!r}")
        body = record_of(OPS[op], record)
    doc: dict[str, Any] = {"at": iso_time(at), "op": op, "record": body, "type": LEAF_TYPE}
    if snapshot is not None:
        doc["snapshot"] = snapshot
    return canonical_json(doc)


def is_directory_leaf(data: bytes) -> bool:
    """Whether leaf data is a directory leaf (an object) rather than an event hash ID: its first byte."""
    return data[:1] == b"{"


@dataclass(frozen=True)
class Entry:
    """One decoded directory leaf."""

    index: int
    op: str
    record: dict[str, Any]
    at: str
    snapshot: str | None = None

    @property
    def table(self) -> str | None:
        return OPS.get(self.op)

    @property
    def key(self) -> Any:
        table = self.table
        return None if table is None else self.record[COLUMNS[table][0]]


def parse_leaf(index: int, data: bytes) -> Entry:
    """Decode and check one directory leaf (InvalidArgumentError naming what is wrong)."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidArgumentError(f"leaf {index}: not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("type") != LEAF_TYPE:
        raise InvalidArgumentError(f"leaf {index}: not a {LEAF_TYPE} leaf")
    if set(doc) - {"at", "op", "record", "type", "snapshot"}:
        raise InvalidArgumentError(
            f"leaf {index}: unknown members {sorted(set(doc) - {'at', 'op', 'record', 'type', 'snapshot'})}"
        )
    op, record, at, snap = doc.get("op"), doc.get("record"), doc.get("at"), doc.get("snapshot")
    if not isinstance(record, dict) or not isinstance(at, str) or not isinstance(snap, str | None):
        raise InvalidArgumentError(f"leaf {index}: record must be an object, at and snapshot text")
    if op == SNAPSHOT:
        if set(record) != {"records", "revision"} or not isinstance(record["records"], int):
            raise InvalidArgumentError(
                f"leaf {index}: a snapshot header holds records (a count) and revision"
            )
    elif op in OPS:
        columns = COLUMNS[OPS[op]]
        if set(record) != set(columns):
            raise InvalidArgumentError(f"leaf {index}: a {op} record holds exactly {', '.join(columns)}")
        if record[columns[0]] in (None, ""):
            raise InvalidArgumentError(f"leaf {index}: the {op} record has no {columns[0]}")
    else:
        raise InvalidArgumentError(f"leaf {index}: unknown op {op!r}")
    if canonical_json(doc) != data:
        raise InvalidArgumentError(f"leaf {index}: not in canonical form (RFC 8785)")
    return Entry(index, str(op), record, at, snap)


# --- state ------------------------------------------------------------------------------------------------------


def _time(text: Any) -> datetime | None:
    return None if text is None else datetime.fromisoformat(str(text).replace("Z", "+00:00"))


@dataclass
class Directory:
    """The directory rebuilt from leaves: every table's rows by key, and the views capture's code reads."""

    rows: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=lambda: {t: {} for t in COLUMNS})
    #: facility id -> its row with ``certifications`` (what capture reads, :mod:`lodeline.trace.capture_core`)
    facilities: dict[str, dict[str, Any]] = field(default_factory=dict)
    _keys_by_participant: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    _certs_by_facility: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=dict)
    _prefixes: list[tuple[str, str, datetime]] | None = None

    def apply(self, entry: Entry) -> None:
        self._prefixes = None
        if entry.op == SNAPSHOT:
            self.reset()
            return
        table = OPS[entry.op]
        key, record = entry.key, dict(entry.record)
        self.rows[table][key] = record
        if table == "trace_facilities":
            self.facilities[key] = {**record, "certifications": self._certifications_of(key)}
        elif table == "trace_certifications":
            for fid, mine in self._certs_by_facility.items():
                if mine.pop(key, None) is not None and fid in self.facilities:
                    self.facilities[fid]["certifications"] = self._certifications_of(fid)
            fid = record["facility_id"]
            self._certs_by_facility.setdefault(fid, {})[key] = record
            if fid in self.facilities:
                self.facilities[fid]["certifications"] = self._certifications_of(fid)
        elif table == "trace_participant_keys":
            for mine in self._keys_by_participant.values():
                mine.pop(key, None)
            self._keys_by_participant.setdefault(record["participant_id"], {})[key] = record

    def _certifications_of(self, fid: str) -> list[dict[str, Any]]:
        mine = self._certs_by_facility.get(fid, {}).values()
        return sorted(mine, key=lambda c: (c["valid_from"], str(c["id"])))

    def reset(self) -> None:
        for rows in self.rows.values():
            rows.clear()
        self.facilities.clear()
        self._keys_by_participant.clear()
        self._certs_by_facility.clear()
        self._prefixes = None

    def has_participant(self, pid: str) -> bool:
        return pid in self.rows["trace_participants"]

    def keys_of(self, pid: str) -> list[dict[str, Any]]:
        """The participant's keys as :func:`lodeline.store.trace_parties.keys_of` returns them (times parsed)."""
        mine = sorted(
            self._keys_by_participant.get(pid, {}).values(), key=lambda k: (k["valid_from"], k["key_id"])
        )
        return [
            k | {"valid_from": _time(k["valid_from"]), "revoked_at": _time(k["revoked_at"])} for k in mine
        ]

    def prefixes(self) -> list[tuple[str, str, datetime]]:
        """(prefix, participant, bound at) of every bound company prefix."""
        if self._prefixes is None:
            self._prefixes = [
                (p, row["participant_id"], _time(row["added_at"]) or datetime.min.replace(tzinfo=UTC))
                for p, row in self.rows["trace_company_prefixes"].items()
            ]
        return self._prefixes


def state_of(tables: Mapping[str, Iterable[Mapping[str, Any]]]) -> Directory:
    """The directory the given table rows make (what the tables hold now)."""
    state = Directory()
    for table in COLUMNS:
        op = SNAPSHOT_OPS[table]
        for row in tables.get(table, []):
            record = record_of(table, row)
            state.apply(Entry(-1, op, record, ""))
    return state


def snapshot_leaves(state: Directory, at: datetime, revision: str) -> list[bytes]:
    """A snapshot of ``state`` as leaves, in a fixed order: the header, then each table (participants, keys,
    prefixes, facilities, certifications) by key."""
    out: list[bytes] = []
    for table in COLUMNS:
        op = SNAPSHOT_OPS[table]
        for key in sorted(state.rows[table], key=lambda k: (str(type(k)), k)):
            out.append(leaf_data(op, state.rows[table][key], at, snapshot=revision))
    return [leaf_data(SNAPSHOT, {"records": len(out), "revision": revision}, at), *out]


@dataclass(frozen=True)
class Difference:
    kind: str  # directory-mismatch | directory-extra | directory-missing
    table: str
    key: Any
    column: str | None
    table_value: Any
    log_value: Any
    message: str


def differences(tables: Directory, logged: Directory) -> list[Difference]:
    """Every difference between the directory the tables hold and the one the log rebuilds, named."""
    out: list[Difference] = []
    for table, columns in COLUMNS.items():
        have, want = tables.rows[table], logged.rows[table]
        noun = NOUNS[table]
        for key in sorted(have.keys() | want.keys(), key=lambda k: (str(type(k)), k)):
            row, logged_row = have.get(key), want.get(key)
            if logged_row is None:
                msg = f"{noun} {key}: in {table}, but no directory leaf of the log records it"
                out.append(Difference("directory-extra", table, key, None, row, None, msg))
            elif row is None:
                msg = f"{noun} {key}: the log records it ({logged_row}), but {table} has no such row"
                out.append(Difference("directory-missing", table, key, None, None, logged_row, msg))
            else:
                for column in columns[1:]:
                    a, b = row[column], logged_row[column]
                    if a != b:
                        msg = f"{noun} {key} {column}: table {a!r}, log {b!r}"
                        out.append(Difference("directory-mismatch", table, key, column, a, b, msg))
    return out
