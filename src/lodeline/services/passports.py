"""Digital product passports of registry lots: issue (gather, prove, sign, store), fetch, verify, and the lot's
UNTP traceability events. Called by the CLI, the API and the registry explorer alike.

The pure halves are in :mod:`lodeline.passport`; this module reads the store (``store/passports``,
``store/trace``, ``store/tracelog``), asks the checkpoint signer for a checkpoint covering the log
(``trace/signer``) and writes the issued passport with its log leaf in one transaction.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from lodeline.comply import rules as comply_rules
from lodeline.domain.countries import countries as country_table
from lodeline.errors import InvalidArgumentError, LodelineError, NotFoundError
from lodeline.inputs import InputRejected, parse_json
from lodeline.passport import credential, dte, evidence, proof, verify
from lodeline.services import comply
from lodeline.store import passports as db
from lodeline.store import trace as trace_db
from lodeline.store import tracelog
from lodeline.tlog import merkle
from lodeline.trace import checkpoint, directory, keys, registry_service, signer
from lodeline.trace.directory import iso_time
from lodeline.trace.identifiers import canonical_id

_GTIN_LOT = re.compile(r"/01/(\d{14})/10/([^/?#]+)")
VERDICTS = comply_rules.VERDICTS  # pass, fail, insufficient-data: the rule checker's own words


class PassportError(LodelineError):
    code = "passport"
    http_status = 422


class NotOwnLotError(LodelineError):
    code = "passport-not-own-lot"
    http_status = 403


def _lot_id(conn: Any, lot: str) -> tuple[str, dict[str, Any]]:
    lot_id = canonical_id(lot)
    found = trace_db.lots_by_id(conn, [lot_id])
    if not found:
        matches = trace_db.lot_ids_like(conn, lot)
        if len(matches) != 1:
            raise NotFoundError(f"unknown lot {lot!r}" + (f"; candidates: {matches}" if matches else ""))
        lot_id = matches[0]
        found = trace_db.lots_by_id(conn, [lot_id])
    return lot_id, found[lot_id]


def _check_verdicts(verdicts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for pos, v in enumerate(verdicts):
        if not isinstance(v, dict):
            raise InvalidArgumentError(f"verdicts[{pos}]: must be an object", field=f"verdicts[{pos}]")
        if not isinstance(v.get("rule"), str) or not v["rule"]:
            raise InvalidArgumentError(
                f"verdicts[{pos}].rule: a rule id is required", field=f"verdicts[{pos}].rule"
            )
        if v.get("verdict") not in VERDICTS:
            raise InvalidArgumentError(
                f"verdicts[{pos}].verdict: must be one of {', '.join(VERDICTS)}",
                field=f"verdicts[{pos}].verdict",
            )
        if (
            not isinstance(v.get("leaf_index"), int)
            or isinstance(v["leaf_index"], bool)
            or v["leaf_index"] < 0
        ):
            raise InvalidArgumentError(
                f"verdicts[{pos}].leaf_index: the verdict's log leaf index is required",
                field=f"verdicts[{pos}].leaf_index",
            )
        out.append({k: val for k, val in v.items() if isinstance(val, str | int | float | bool | type(None))})
    return out


def _directory_leaves(
    conn: Any, stop: int, wanted: set[tuple[str, Any]]
) -> dict[tuple[str, Any], tuple[int, bytes]]:
    """The last directory leaf before ``stop`` recording each wanted (table, key) — one scan."""
    found: dict[tuple[str, Any], tuple[int, bytes]] = {}
    for index, data in tracelog.leaves_starting_with(conn, b"{", stop):
        try:
            entry = directory.parse_leaf(index, data)
        except InvalidArgumentError:
            continue
        table = entry.table
        if table is not None and (table, entry.key) in wanted:
            found[(table, entry.key)] = (index, data)
    return found


#: perfect subtrees per read: fixed shapes (padded with keys that match nothing) so the compiled statement is
#: cached; SQLite caps a statement's expression depth at 1,000 terms, which the OR-ed node keys count against
LEAVES_PER_READ = 500
NODES_PER_READ = 200


def _subtree_hashes(conn: Any, subtrees: set[merkle.Subtree]) -> dict[merkle.Subtree, bytes]:
    leaves = sorted(s for s in subtrees if s[0] == 0)
    nodes = sorted(s for s in subtrees if s[0] > 0)
    found: dict[merkle.Subtree, bytes] = {}
    for items, per, pad in ((leaves, LEAVES_PER_READ, 0), (nodes, NODES_PER_READ, 64)):
        for start in range(0, len(items), per):
            chunk = items[start : start + per]
            padding = [(pad, -1 - j) for j in range(per - len(chunk))]  # no such leaf or node
            found.update(tracelog.fetch_subtrees_and_size(conn, chunk + padding)[0])
    missing = subtrees - found.keys()
    if missing:
        raise PassportError(f"the log is missing subtree {min(missing)}; run `lodeline trace audit`")
    return found


def _multiproof(conn: Any, indices: Sequence[int], size: int) -> dict[str, str]:
    """The multi-proof node table of many leaves in a tree of ``size`` (passport.evidence.multiproof_ranges):
    each node once, its perfect subtrees read a few hundred per statement."""
    ranges = evidence.multiproof_ranges(indices, size)
    subtrees = {s for lo, hi in ranges for s in merkle.range_subtrees(lo, hi)}
    found = _subtree_hashes(conn, subtrees)
    hashes = merkle.resolve_ranges(ranges, found.__getitem__)
    return {
        evidence.node_key(lo, hi): base64.b64encode(h).decode("ascii")
        for (lo, hi), h in zip(ranges, hashes, strict=True)
    }


def issue(
    engine: Engine,
    lot: str,
    *,
    participant: str,
    private_key: Ed25519PrivateKey,
    profile: str = "untp-dpp",
    verdicts: Sequence[dict[str, Any]] = (),
    rulesets: Sequence[str] = (),
    now: datetime | None = None,
    store: bool = True,
) -> dict[str, Any]:
    """Issue the passport of ``lot`` as ``participant`` (who must operate the facility that produced it), signed
    with ``private_key`` (which must be a registered, unrevoked key of theirs), and store it (``store``).
    The due-diligence declaration carries ``verdicts`` (records already logged) and the verdicts of checking the
    lot against each of ``rulesets`` now (``services.comply.check``). Returns the signed credential."""
    unsigned = draft(
        engine,
        lot,
        participant=participant,
        public_key=proof.public_bytes(private_key),
        profile=profile,
        verdicts=verdicts,
        rulesets=rulesets,
        now=now,
    )
    signed = proof.add_proof(unsigned, private_key, unsigned["validFrom"])
    if store:
        _store(engine, signed, participant)
    return signed


def _own_lot(conn: Any, lot: str, participant: str) -> tuple[str, Any, dict[str, Any]]:
    """The lot's id, its row and the facility directory, if ``participant`` operates the facility that made it."""
    lot_id, row = _lot_id(conn, lot)
    facilities = trace_db.facilities_all(conn)
    home = facilities.get(row["facility_id"])
    if home is None or home["operator_id"] != participant:
        raise NotOwnLotError(
            f"lot {lot_id} was produced at {row['facility_id']}, which {participant} does not operate",
            lot=lot_id,
        )
    return lot_id, row, facilities


def declared_verdicts(
    engine: Engine, lot: str, *, participant: str, rulesets: Sequence[str]
) -> list[dict[str, Any]]:
    """Check ``participant``'s own ``lot`` against each rule set (``services.comply.check``: every verdict is
    recorded and logged) and return the verdict records the passport's due-diligence declaration carries."""
    with engine.connect() as conn:
        _own_lot(conn, lot, participant)
    return [record for rs in rulesets for record in comply.check(engine, lot, rs, checked_by=participant)]


def draft(
    engine: Engine,
    lot: str,
    *,
    participant: str,
    public_key: bytes,
    profile: str = "untp-dpp",
    verdicts: Sequence[dict[str, Any]] = (),
    rulesets: Sequence[str] = (),
    now: datetime | None = None,
) -> dict[str, Any]:
    """The unsigned passport of ``lot`` that ``participant`` signs with the key whose public half is
    ``public_key`` (the API's two-step issue: the server never holds a participant's private key)."""
    if profile not in credential.PROFILES:
        raise InvalidArgumentError(f"unknown profile {profile!r}; one of {', '.join(credential.PROFILES)}")
    checked = _check_verdicts(verdicts)
    if rulesets:
        checked += _check_verdicts(declared_verdicts(engine, lot, participant=participant, rulesets=rulesets))
    cp = registry_service.current_checkpoint(engine)
    public = public_key
    key_id = keys.key_id(base64.b64encode(public_key).decode("ascii"))
    with engine.connect() as conn:
        lot_id, row, facilities = _own_lot(conn, lot, participant)
        home = facilities[row["facility_id"]]
        participant_row = next((p for p in _participants(conn) if p["id"] == participant), None)
        if participant_row is None:
            raise NotFoundError(f"unknown participant {participant!r}")
        edges = db.upstream_edges_with_events(conn, lot_id)
        if not edges:
            raise NotFoundError(f"lot {lot_id} has no recorded production")
        missing = [e["event"] for e in edges if e["leaf"] is None]
        if missing:
            raise PassportError(f"event {missing[0]} has no log leaf (captured before the log?)", lot=lot_id)
        late = [e["leaf"] for e in edges if e["leaf"] >= cp.tree_size] + [
            v["leaf_index"] for v in checked if v["leaf_index"] >= cp.tree_size
        ]
        if late:
            raise PassportError(f"leaf {late[0]} is not covered by checkpoint {cp.checkpoint_id}")
        fac_ids = sorted({e["facility"] for e in edges})
        wanted = {("trace_facilities", f) for f in fac_ids} | {("trace_participant_keys", key_id)}
        found = _directory_leaves(conn, cp.tree_size, wanted)
        key_leaf = found.get(("trace_participant_keys", key_id))
        if key_leaf is None:
            raise PassportError(f"the signing key {key_id} is not in the registry's directory", key_id=key_id)
        key_record = json.loads(key_leaf[1])["record"]
        if key_record.get("participant_id") != participant or key_record.get("revoked_at"):
            raise PassportError(f"key {key_id} is not an unrevoked key of {participant}", key_id=key_id)
        leaf_data: dict[int, bytes] = {e["leaf"]: e["leaf_data"].encode("utf-8") for e in edges}
        leaf_data.update({index: data for index, data in found.values()})
        verdict_data = db.leaf_data_at(conn, [v["leaf_index"] for v in checked])
        for v in checked:
            if v["leaf_index"] not in verdict_data:
                raise NotFoundError(f"verdict of rule {v['rule']!r}: no log leaf {v['leaf_index']}")
        leaf_data.update(verdict_data)
        nodes = _multiproof(conn, sorted(leaf_data), cp.tree_size)
    ev_block: dict[str, Any] = {
        "format": evidence.EVIDENCE_FORMAT,
        "lot": lot_id,
        "checkpoint": cp.note,
        "composition": [
            {
                "lot": e["lot"],
                "facility": e["facility"],
                "sourceLot": e["source"],
                "metalKg": e["metal_kg"],
                "leaf": e["leaf"],  # its data is the event's hash ID
            }
            for e in edges
        ],
        "origins": {  # only the origins that are not plain primary metal
            e["lot"]: {"recycled": e["recycled"], "openingStock": e["opening"]}
            for e in edges
            if e["source"] is None and (e["recycled"] or e["opening"])
        },
        "facilities": {
            f: found[("trace_facilities", f)][0] for f in fac_ids if ("trace_facilities", f) in found
        },
        "issuerKey": key_leaf[0],
        "verdicts": [{"leaf": v["leaf_index"], "record": v} for v in checked],
        "leaves": [evidence.leaf_entry(i, leaf_data[i]) for i in sorted(leaf_data)],
        "nodes": nodes,
    }
    countries = {f: facilities[f]["country"] for f in fac_ids}
    shares = evidence.shares(ev_block, countries)
    issued = iso_time(now or datetime.now(UTC)).split(".")[0] + "Z"
    gtin_lot = _GTIN_LOT.search(lot_id)
    facts = credential.PassportFacts(
        passport_id=f"urn:uuid:{uuid.uuid4()}",
        profile=profile,
        issued_at=issued,
        lot=lot_id,
        gtin=gtin_lot.group(1) if gtin_lot else None,
        # GS1 AI 10 is at most 20 characters; a longer lot number is not resolvable through AI 10
        batch=gtin_lot.group(2) if gtin_lot and len(gtin_lot.group(2)) <= 20 else None,
        mineral=row["mineral"],
        material=row["material"],
        contained_metal_kg=row["produced_metal_kg"],
        issuer_id=participant,
        issuer_name=participant_row["name"],
        issuer_public_key=public,
        facility={"id": home["id"], "name": home["name"], "country": home["country"]},
        countries={c.iso3: (c.iso2, c.name) for c in country_table().values()},
        evidence=ev_block,
        verdicts=checked,
    )
    return credential.build(facts, shares)


def _store(engine: Engine, signed: dict[str, Any], participant: str) -> int:
    subject = signed["credentialSubject"]
    product = subject["product"]
    profile = "battery-pass" if "batteryPass" in subject else "untp-dpp"
    return db.insert_passport(
        engine,
        {
            "id": signed["id"],
            "lot_id": subject["registryEvidence"]["lot"],
            "gtin": product.get("registeredId") if str(product.get("registeredId", "")).isdigit() else None,
            "batch": product.get("batchNumber"),
            "profile": profile,
            "issuer": participant,
            "issued_at": datetime.fromisoformat(str(signed["validFrom"]).replace("Z", "+00:00")),
            "document": json.dumps(signed, ensure_ascii=False, separators=(",", ":")),
        },
    )


def register(engine: Engine, signed: Any, participant: str) -> dict[str, Any]:
    """Store a passport ``participant`` signed elsewhere (from :func:`draft`): every check must pass against
    this registry's key, the issuer must be ``participant`` and the lot one it produced. Returns the report
    and the passport's id and log leaf."""
    report = verify_document(signed, verifiers(engine))
    if not report["valid"]:
        raise PassportError(
            f"the passport does not verify: failed {', '.join(report['failed'] + report['skipped'])}",
            checks=report["checks"],
        )
    issuer_ids = [o.get("id") for o in signed["issuer"].get("otherIdentifier") or [] if isinstance(o, dict)]
    if participant not in issuer_ids:
        raise NotOwnLotError(f"the passport is issued by {issuer_ids}, not by {participant}")
    lot_id = signed["credentialSubject"]["registryEvidence"]["lot"]
    with engine.connect() as conn:
        _, row = _lot_id(conn, lot_id)
        home = trace_db.facilities_all(conn).get(row["facility_id"])
    if home is None or home["operator_id"] != participant:
        raise NotOwnLotError(
            f"lot {lot_id} was not produced at a facility {participant} operates", lot=lot_id
        )
    if db.passport_by_id(engine, str(signed["id"])) is not None:
        raise PassportError(f"passport {signed['id']} is already stored")
    leaf = _store(engine, signed, participant)
    return {"id": signed["id"], "leaf_index": leaf, "verification": report}


def _participants(conn: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(trace_db.participants))]


def verifiers(engine: Engine | None, vkeys: Sequence[str] = ()) -> list[checkpoint.Verifier]:
    """The checkpoint verifier keys: the given vkeys, else this registry's own key."""
    if vkeys:
        return [checkpoint.parse_vkey(v) for v in vkeys]
    if engine is None:
        raise InvalidArgumentError("a registry verifier key (--vkey) is needed to verify offline")
    return [checkpoint.parse_vkey(signer.verifier_key(engine))]


def verify_document(document: Any, keys_: list[checkpoint.Verifier]) -> dict[str, Any]:
    """Every check on a passport (see :mod:`lodeline.passport.verify`), as a JSON-able report."""
    return verify.verify(document, keys_).to_dict()


def parse_document(text: str | bytes, where: str = "passport") -> Any:
    try:  # bounded: a file nested past the recursion limit or with a 5000-digit number is refused, not a crash
        return parse_json(text)
    except InputRejected as exc:
        raise InvalidArgumentError(
            f"{where}: not JSON ({exc.reason.removeprefix('not valid JSON: ')})"
        ) from None


def fetch(engine: Engine, passport_id: str) -> dict[str, Any]:
    row = db.passport_by_id(engine, passport_id)
    if row is None:
        raise NotFoundError(f"no passport {passport_id!r}")
    return dict(json.loads(row["document"]))


def fetch_by_gtin(engine: Engine, gtin: str, batch: str) -> dict[str, Any]:
    rows = db.passports_by_gtin(engine, gtin, batch)
    if not rows:
        raise NotFoundError(f"no passport for GTIN {gtin} lot {batch}")
    return dict(json.loads(rows[0]["document"]))


def of_lot(engine: Engine, lot: str) -> list[dict[str, Any]]:
    """The passports issued for a lot (newest first): id, profile, issuer, issued_at, leaf_index."""
    with engine.connect() as conn:
        lot_id, _ = _lot_id(conn, lot)
    return [
        {k: r[k] for k in ("id", "lot_id", "profile", "issuer", "issued_at", "leaf_index")}
        for r in db.passports_of_lot(engine, lot_id)
    ]


def events(
    engine: Engine, lot: str, now: datetime | None = None, *, upstream: bool = False
) -> dict[str, Any]:
    """The lot's EPCIS events as an (unsigned) UNTP Digital Traceability Event credential; ``upstream``: also the
    events of every lot upstream of it (the events its passport's shares rest on, with their custody moves)."""
    with engine.connect() as conn:
        lot_id, _ = _lot_id(conn, lot)
        lots = [lot_id]
        if upstream:
            lots += [e["source"] for e in db.upstream_edges_with_events(conn, lot_id) if e["source"]]
        rows = db.events_of_lots(conn, lots)
        origin = signer.store_origin(conn)
    return dte.dte_credential(
        lot_id,
        [(json.loads(body), hash_id, leaf) for hash_id, leaf, body in rows],
        f"https://{origin}" if "://" not in origin else origin,
        iso_time(now or datetime.now(UTC)).split(".")[0] + "Z",
    )
