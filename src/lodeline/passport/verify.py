"""Offline verification of a passport (pure; what an outsider runs): every check is reported by name.

Checks, in order (each passes, fails with the reason, or is skipped when what it needs failed):

``structure``            the credential has the properties and types the UNTP DPP / VC 2.0 specs require
                         (:mod:`.structure`);
``credential-signature`` the eddsa-jcs-2022 proof verifies under the issuer's ``did:key``;
``checkpoint-signature`` the embedded checkpoint is signed by a registry verifier key given by the caller;
``inclusion-proofs``     the evidence leaves and the multi-proof nodes lead to the checkpoint's root (names a
                         missing or extra node);
``issuer-key``           a proven directory leaf records the signing key for the issuing participant, unrevoked;
``evidence``             every composition edge's event is a proven leaf holding an event hash ID, and every
                         facility's country comes from a proven directory leaf;
``shares``               the stated mass fractions by country and the recycled content equal those recomputed
                         from the proven edges (names the share);
``due-diligence``        every verdict claim rests on a proven leaf and states that verdict's value.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Any

from lodeline.domain.countries import countries as country_table
from lodeline.errors import LodelineError
from lodeline.passport import evidence as ev
from lodeline.passport import multikey
from lodeline.passport.credential import recycled_share
from lodeline.passport.proof import verify_proof
from lodeline.passport.structure import structure_problems
from lodeline.tlog import merkle
from lodeline.trace import checkpoint

CHECKS = (
    "structure",
    "credential-signature",
    "checkpoint-signature",
    "inclusion-proofs",
    "issuer-key",
    "evidence",
    "shares",
    "due-diligence",
)
#: two floats recomputed by the same formula from the same edges agree to this (relative) tolerance
TOLERANCE = 1e-12


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # pass | fail | skipped
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"check": self.name, "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class Verification:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.status == "pass" for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if c.status == "fail"]

    @property
    def skipped(self) -> list[str]:
        return [c.name for c in self.checks if c.status == "skipped"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.ok,
            "failed": self.failed,
            "skipped": self.skipped,
            "checks": [c.to_dict() for c in self.checks],
        }


#: the data of an event's log leaf: its EPCIS event hash ID (GS1 CBV 2.0 §8.9, RFC 6920 ni URI)
_EVENT_ID = b"ni:///sha-256;"


def _close(a: Any, b: float) -> bool:
    return (
        isinstance(a, int | float)
        and not isinstance(a, bool)
        and math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    )


def _b64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ev.EvidenceError("path entries must be base64 strings")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:  # binascii.Error, or a non-ASCII string
        raise ev.EvidenceError(f"not base64: {text[:20]!r}") from exc


def verify(credential: Any, verifiers: list[checkpoint.Verifier]) -> Verification:
    """Run every check on ``credential`` with the registry's verifier keys ``verifiers``. Never raises on any JSON
    value: the check that meets a value of a shape it cannot read fails, naming it; the checks after it are
    reported skipped."""
    out: list[Check] = []

    def add(name: str, ok: bool | None, detail: str) -> bool:
        out.append(Check(name, "skipped" if ok is None else ("pass" if ok else "fail"), detail))
        return bool(ok)

    try:
        _verify(credential, verifiers, add)
    except Exception as exc:  # a value of a shape no check expected: the check it reached fails
        done = {c.name for c in out}
        name = next(n for n in CHECKS if n not in done) if len(done) < len(CHECKS) else "structure"
        add(name, False, f"malformed passport: {type(exc).__name__}: {str(exc)[:200]}")
        for rest in CHECKS:
            if rest not in {c.name for c in out}:
                add(rest, None, f"not run: {name} met a malformed value")
    order = {n: i for i, n in enumerate(CHECKS)}
    return Verification(sorted(out, key=lambda c: order[c.name]))


def _verify(credential: Any, verifiers: list[checkpoint.Verifier], add: Any) -> None:
    problems = structure_problems(credential)
    add(
        "structure",
        not problems,
        "; ".join(problems[:5]) or "required properties, types and @context present",
    )
    if not isinstance(credential, dict):
        for name in CHECKS[1:]:
            add(name, None, "not a JSON object")
        return
    sig = verify_proof(credential)
    add("credential-signature", sig.ok, sig.reason)
    raw_subject = credential.get("credentialSubject")
    subject: dict[str, Any] = raw_subject if isinstance(raw_subject, dict) else {}
    evidence = subject.get("registryEvidence")
    if not isinstance(evidence, dict):
        for name in CHECKS[2:]:
            add(name, False, "credentialSubject.registryEvidence is missing")
        return
    # checkpoint
    cp: checkpoint.Checkpoint | None = None
    try:
        cp = checkpoint.open_checkpoint(str(evidence.get("checkpoint", "")), verifiers)
        add("checkpoint-signature", True, f"signed by {cp.origin}; tree size {cp.tree_size}")
    except LodelineError as exc:
        add("checkpoint-signature", False, exc.message)
    # inclusion proofs
    try:
        present = ev.leaves_by_index(evidence)
    except ev.EvidenceError:
        present = {}
    if cp is None:
        add("inclusion-proofs", None, "no verified checkpoint to check the proofs against")
    else:
        try:
            leaves = ev.leaves_by_index(evidence)
            if evidence.get("format") != ev.EVIDENCE_FORMAT:
                raise ev.EvidenceError(
                    f"registryEvidence.format: {evidence.get('format')!r}, this verifier reads {ev.EVIDENCE_FORMAT}"
                )
            _multiproof(leaves, evidence.get("nodes"), cp, add)
        except (ev.EvidenceError, TypeError) as exc:
            add("inclusion-proofs", False, str(exc))
    # The checks below bind the claims to the evidence's leaves; whether those leaves are in the log is
    # inclusion-proofs' finding, so one bad audit path fails that check alone.
    _issuer_key(credential, evidence, present, sig.public_key, add)
    facility_countries = _evidence(evidence, present, add)
    _shares(subject, evidence, facility_countries, add)
    _due_diligence(subject, evidence, present, add)


def _multiproof(
    leaves: dict[int, dict[str, Any]], raw_nodes: Any, cp: checkpoint.Checkpoint, add: Any
) -> dict[int, dict[str, Any]]:
    """Evidence format 2: all leaves against one node table; all are proven or none is."""
    if not isinstance(raw_nodes, dict):
        raise ev.EvidenceError("registryEvidence.nodes: must be an object of node hashes")
    nodes = {str(k): _b64(v) for k, v in raw_nodes.items()}
    hashes = {index: merkle.leaf_hash(ev.leaf_bytes(leaf)) for index, leaf in leaves.items()}
    root = ev.multiproof_root(hashes, nodes, cp.tree_size)
    if root != cp.root_hash:
        add(
            "inclusion-proofs",
            False,
            f"the {len(leaves)} leaves and {len(nodes)} proof nodes do not lead to the checkpoint's root "
            f"(a leaf or a node was changed)",
        )
        return {}
    add(
        "inclusion-proofs",
        True,
        f"{len(leaves)} leaves proven with {len(nodes)} nodes in a tree of size {cp.tree_size}",
    )
    return leaves


def _issuer_key(
    credential: dict[str, Any],
    evidence: dict[str, Any],
    proven: dict[int, dict[str, Any]],
    key: bytes | None,
    add: Any,
) -> None:
    index = evidence.get("issuerKey")
    if key is None:
        add("issuer-key", None, "no verifiable signing key")
        return
    if not isinstance(index, int) or index not in proven:
        add("issuer-key", False, "no directory leaf in the evidence records the signing key")
        return
    try:
        record = ev.directory_record(proven[index])
    except ev.EvidenceError as exc:
        add("issuer-key", False, str(exc))
        return
    raw_issuer = credential.get("issuer")
    issuer: dict[str, Any] = raw_issuer if isinstance(raw_issuer, dict) else {}
    others = [o.get("id") for o in issuer.get("otherIdentifier") or [] if isinstance(o, dict)]
    if record.get("public_key") != base64.b64encode(key).decode("ascii"):
        add("issuer-key", False, f"directory leaf {index} records a different public key")
    elif record.get("participant_id") not in others:
        add(
            "issuer-key",
            False,
            f"directory leaf {index} registers the key to {record.get('participant_id')!r}, "
            f"not to the issuer {others}",
        )
    elif issuer.get("id") != multikey.did_key(key):
        add("issuer-key", False, "issuer.id is not the did:key that signed")
    elif record.get("revoked_at"):
        add("issuer-key", False, f"the key was revoked at {record['revoked_at']} (directory leaf {index})")
    else:
        add("issuer-key", True, f"key registered to {record['participant_id']} (directory leaf {index})")


def _evidence(evidence: dict[str, Any], proven: dict[int, dict[str, Any]], add: Any) -> dict[str, str] | None:
    try:
        for pos, edge in enumerate(evidence.get("composition") or []):
            leaf = proven.get(edge.get("leaf"))
            if leaf is None:
                raise ev.EvidenceError(
                    f"composition[{pos}]: event leaf {edge.get('leaf')} is not in the evidence"
                )
            if not ev.leaf_bytes(leaf).startswith(_EVENT_ID):
                raise ev.EvidenceError(
                    f"composition[{pos}]: leaf {edge.get('leaf')} does not hold an EPCIS event hash ID"
                )
        countries: dict[str, str] = {}
        for facility, index in sorted((evidence.get("facilities") or {}).items()):
            if index not in proven:
                raise ev.EvidenceError(f"facility {facility}: directory leaf {index} is not in the evidence")
            record = ev.directory_record(proven[index])
            if record.get("id") != facility:
                raise ev.EvidenceError(
                    f"facility {facility}: directory leaf {index} records {record.get('id')}"
                )
            countries[facility] = str(record.get("country"))
    except (ev.EvidenceError, AttributeError, TypeError) as exc:
        add("evidence", False, str(exc))
        return None
    n = len(evidence.get("composition") or [])
    add(
        "evidence",
        True,
        f"{n} composition edges rest on logged events; {len(countries)} facilities from directory leaves",
    )
    return countries


def _shares(
    subject: dict[str, Any], evidence: dict[str, Any], countries: dict[str, str] | None, add: Any
) -> None:
    if countries is None:
        add("shares", None, "the evidence did not verify")
        return
    try:
        s = ev.shares(evidence, countries)
    except (ev.EvidenceError, LodelineError) as exc:
        add("shares", False, str(exc))
        return
    stated: dict[str, Any] = {}
    for m in subject.get("materialsProvenance") or []:
        if isinstance(m, dict):
            stated[str((m.get("originCountry") or {}).get("countryCode"))] = m.get("massFraction")
    wrong = []
    by_code = by_iso2(s)
    for code, share in by_code.items():
        if not _close(stated.get(code), share):
            wrong.append(
                f"massFraction of {code}: stated {stated.get(code)!r}, the logged events give {share!r}"
            )
    for code in stated.keys() - by_code.keys():
        wrong.append(f"massFraction of {code}: stated {stated[code]!r}, the logged events give none")
    recycled = (subject.get("circularityScorecard") or {}).get("recycledContent")
    if not _close(recycled, recycled_share(s)):
        wrong.append(f"recycledContent: stated {recycled!r}, the logged events give {recycled_share(s)!r}")
    battery = subject.get("batteryPass")
    if isinstance(battery, dict):
        rc = ((battery.get("circularity") or {}).get("recycledContent") or [{}])[0]
        for key, status in (("preConsumerShare", "pre-consumer"), ("postConsumerShare", "post-consumer")):
            want = s.by_recycled.get(status, 0.0) * 100.0
            if not _close(rc.get(key), want):
                wrong.append(f"batteryPass {key}: stated {rc.get(key)!r}, the logged events give {want!r}")
    add(
        "shares",
        not wrong,
        "; ".join(wrong) or f"{len(by_code)} country shares and recycled content recomputed",
    )


def by_iso2(s: ev.Shares) -> dict[str, float]:
    """Recomputed shares keyed as the credential keys them (ISO 3166 alpha-2, UNTP ``countryCode``)."""
    table = country_table()
    out: dict[str, float] = {}
    for iso3, share in s.by_country.items():
        code = table[iso3].iso2 if iso3 in table and table[iso3].iso2 else iso3
        out[code] = out.get(code, 0.0) + share
    return out


def _due_diligence(
    subject: dict[str, Any], evidence: dict[str, Any], proven: dict[int, dict[str, Any]], add: Any
) -> None:
    claims = {c.get("id", ""): c for c in subject.get("conformityClaim") or [] if isinstance(c, dict)}
    wrong = []
    for v in evidence.get("verdicts") or []:
        index, record = v.get("leaf"), v.get("record") or {}
        if index not in proven:
            wrong.append(f"verdict of {record.get('rule')!r}: leaf {index} is not in the evidence")
            continue
        claim = next((c for cid, c in claims.items() if cid.endswith(f"#verdict-{index}")), None)
        metric = ((claim or {}).get("declaredValue") or [{}])[0]
        # the verdict is the Metric's score (passports before 2026-12-05: its metricValue)
        stated = metric.get("score", metric.get("metricValue")) if isinstance(metric, dict) else None
        if stated != record.get("verdict"):
            wrong.append(
                f"verdict of {record.get('rule')!r}: claim states {stated!r}, the record {record.get('verdict')!r}"
            )
    n = len(evidence.get("verdicts") or [])
    add("due-diligence", not wrong, "; ".join(wrong) or f"{n} verdict(s) rest on proven leaves")
