"""Passports of the lithium example chain: issue → verify passes; the stated shares equal the registry's origin
report; tampering with a share, a proof, the checkpoint or the signature fails naming the check; both backends."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from sqlalchemy import Engine

from lodeline.errors import LodelineError
from lodeline.passport import proof as di
from lodeline.passport.structure import structure_problems
from lodeline.services import passports as service
from lodeline.trace.chain_setup import demo_key
from lodeline.trace.origin import origin_report
from passport_helpers import lithium_registry, log_verdicts  # tests/passport_helpers.py

CATHODE_MAKER = "ulsan-cathode"


def _issue(engine: Engine, private: dict, profile: str = "untp-dpp", verdicts: list | None = None) -> dict:
    return service.issue(
        engine,
        "CAM-U1",
        participant=CATHODE_MAKER,
        private_key=private[CATHODE_MAKER],
        profile=profile,
        verdicts=verdicts or [],
    )


def _failed(engine: Engine, doc: Any) -> list[str]:
    return service.verify_document(doc, service.verifiers(engine))["failed"]


def test_issue_verify_round_trip_and_shares_match_origin_report(engine: Engine) -> None:
    """The materials provenance states the registry's origin shares by country (AUS ≈ 0.847, DEU ≈ 0.153 of the
    cathode's lithium, hand-computed in test_trace_chains) and the post-consumer recycled share."""
    private = lithium_registry(engine)
    verdicts = log_verdicts(
        engine,
        [
            {"rule": "oecd-annex-ii/conflict-area", "verdict": "pass", "ruleset": "oecd-annex-ii"},
            {"rule": "us-forced-labour/tvpra", "verdict": "insufficient-data", "ruleset": "us-forced-labour"},
        ],
    )
    doc = _issue(engine, private, verdicts=verdicts)
    report = service.verify_document(doc, service.verifiers(engine))
    assert report["valid"], report
    assert structure_problems(doc) == []
    rep = origin_report(engine, "CAM-U1")
    stated = {
        m["originCountry"]["countryCode"]: m["massFraction"]
        for m in doc["credentialSubject"]["materialsProvenance"]
    }
    expected = {{"AUS": "AU", "DEU": "DE"}[r["country"]]: r["share"] for r in rep["by_country"]}
    assert stated == pytest.approx(expected, rel=1e-12)
    recycled = {r["status"]: r["share"] for r in rep["recycled"]}["post-consumer"]
    assert doc["credentialSubject"]["circularityScorecard"]["recycledContent"] == pytest.approx(
        recycled, rel=1e-12
    )
    claims = {c["id"].rsplit("#", 1)[-1]: c for c in doc["credentialSubject"]["conformityClaim"]}
    # insufficient data is never a pass
    assert claims[f"verdict-{verdicts[1]['leaf_index']}"]["conformance"] is False
    assert claims[f"verdict-{verdicts[0]['leaf_index']}"]["conformance"] is True
    # stored, fetchable by id and through the GS1 Digital Link keys
    assert service.fetch(engine, doc["id"]) == doc
    ids = [p["id"] for p in service.of_lot(engine, "CAM-U1")]
    assert ids == [doc["id"]]


def _resign(doc: dict, key: Any) -> dict:
    return di.add_proof(doc, key, doc["proof"]["created"])


def _flip(text: str, at: int) -> str:
    ch = text[at]
    alt = "A" if ch != "A" else "B"
    if ch.isdigit():
        alt = "1" if ch != "1" else "2"
    return text[:at] + alt + text[at + 1 :]


def test_tampering_fails_naming_the_check(engine: Engine) -> None:
    private = lithium_registry(engine)
    doc = _issue(engine, private)
    key = private[CATHODE_MAKER]
    subject = "credentialSubject"

    share = copy.deepcopy(doc)
    m = share[subject]["materialsProvenance"][0]
    m["massFraction"] = float(_flip(repr(m["massFraction"]), 2))
    assert set(_failed(engine, share)) == {"credential-signature", "shares"}
    assert _failed(engine, _resign(share, key)) == ["shares"]  # even re-signed by the issuer

    nodes = doc[subject]["registryEvidence"]["nodes"]
    for node in (min(nodes), max(nodes)):  # a byte of a proof node (each node is carried once)
        prf = copy.deepcopy(doc)
        prf[subject]["registryEvidence"]["nodes"][node] = _flip(nodes[node], 5)
        assert set(_failed(engine, prf)) == {"credential-signature", "inclusion-proofs"}
        assert _failed(engine, _resign(prf, key)) == ["inclusion-proofs"]
    # a leaf's data, a node left out, a node added: the proof fails
    data = copy.deepcopy(doc)
    leaf = data[subject]["registryEvidence"]["leaves"][3]
    leaf["data"] = _flip(leaf["data"], len(leaf["data"]) // 2)
    assert "inclusion-proofs" in _failed(engine, _resign(data, key))
    short = copy.deepcopy(doc)
    del short[subject]["registryEvidence"]["nodes"][min(nodes)]
    report = service.verify_document(_resign(short, key), service.verifiers(engine))
    detail = {c["check"]: c["detail"] for c in report["checks"]}["inclusion-proofs"]
    assert report["failed"][0] == "inclusion-proofs" and f"node {min(nodes)} is missing" in detail
    old = copy.deepcopy(doc)
    old[subject]["registryEvidence"]["format"] = "lodeline-passport-evidence/1"
    report = service.verify_document(_resign(old, key), service.verifiers(engine))
    assert report["failed"][0] == "inclusion-proofs"
    assert "this verifier reads lodeline-passport-evidence/2" in str(report["checks"])
    extra = copy.deepcopy(doc)
    extra[subject]["registryEvidence"]["nodes"]["0-1"] = nodes[min(nodes)]
    assert _failed(engine, _resign(extra, key))[0] == "inclusion-proofs"

    cp = copy.deepcopy(doc)
    note = cp[subject]["registryEvidence"]["checkpoint"]
    cut = note.index("\n", note.index("\n") + 1) + 2  # a character of the root hash line
    cp[subject]["registryEvidence"]["checkpoint"] = _flip(note, cut)
    report = service.verify_document(_resign(cp, key), service.verifiers(engine))
    assert report["failed"] == ["checkpoint-signature"] and report["skipped"] == ["inclusion-proofs"]

    sig = copy.deepcopy(doc)
    sig["proof"]["proofValue"] = _flip(sig["proof"]["proofValue"], 10)
    assert _failed(engine, sig) == ["credential-signature"]


def test_battery_pass_profile_fills_its_fields(engine: Engine) -> None:
    """Battery Pass 1.2.0 states shares in percent: post-consumer recycled lithium ≈ 15.3 %."""
    private = lithium_registry(engine)
    doc = _issue(engine, private, profile="battery-pass")
    assert service.verify_document(doc, service.verifiers(engine))["valid"]
    bp = doc["credentialSubject"]["batteryPass"]
    rc = bp["circularity"]["recycledContent"][0]
    assert rc["recycledMaterial"] == "Lithium" and rc["preConsumerShare"] == 0.0
    assert rc["postConsumerShare"] == pytest.approx(
        100 * doc["credentialSubject"]["circularityScorecard"]["recycledContent"]
    )
    assert bp["materialComposition"]["batteryMaterials"][0]["batteryMaterialIdentifier"] == "7439-93-2"
    tampered = copy.deepcopy(doc)
    tampered["credentialSubject"]["batteryPass"]["circularity"]["recycledContent"][0][
        "postConsumerShare"
    ] += 1
    assert _failed(engine, _resign(tampered, private[CATHODE_MAKER])) == ["shares"]


def test_only_the_producer_with_a_registered_key_issues(engine: Engine) -> None:
    private = lithium_registry(engine)
    with pytest.raises(LodelineError, match="does not operate"):
        service.issue(engine, "CAM-U1", participant="saxony-cells", private_key=private["saxony-cells"])
    with pytest.raises(LodelineError, match="not in the registry's directory"):
        service.issue(engine, "CAM-U1", participant=CATHODE_MAKER, private_key=demo_key(40))
    with pytest.raises(LodelineError, match=r"verdicts\[0\]\.verdict"):
        _issue(engine, private, verdicts=[{"rule": "x", "verdict": "maybe", "leaf_index": 0}])
    with pytest.raises(LodelineError, match="unknown profile"):
        _issue(engine, private, profile="nope")


def test_traceability_events_export(engine: Engine) -> None:
    from lodeline.passport.structure import dte_problems

    private = lithium_registry(engine)
    cred = service.events(engine, "CAM-U1")
    assert dte_problems(cred) == []
    kinds = {e["type"][0] for e in cred["credentialSubject"]}
    assert "TransformationEvent" in kinds
    assert all(e["eventHashId"].startswith("ni:///sha-256;") for e in cred["credentialSubject"])
    json.dumps(cred)
    # upstream: every composition event the passport rests on is among them
    full = service.events(engine, "CAM-U1", upstream=True)
    assert dte_problems(full) == []
    exported = {e["eventHashId"] for e in full["credentialSubject"]}
    passport = service.issue(
        engine, "CAM-U1", participant=CATHODE_MAKER, private_key=private[CATHODE_MAKER], store=False
    )
    proven = {
        leaf["index"]: leaf["data"] for leaf in passport["credentialSubject"]["registryEvidence"]["leaves"]
    }
    events = {proven[e["leaf"]] for e in passport["credentialSubject"]["registryEvidence"]["composition"]}
    assert events and events <= exported
    assert len(exported) > len(cred["credentialSubject"])


def test_a_stored_passport_is_a_log_leaf_the_audit_accounts_for(engine: Engine) -> None:
    """The audit recomputes each passport leaf from the stored JSON: issued → no finding; the stored copy edited
    afterwards → ``passport-leaf-mismatch`` naming that leaf."""
    from sqlalchemy import update

    from lodeline.cli.trace_log import _leaf_source_hook
    from lodeline.store import passports as db
    from lodeline.store.engine import write_transaction
    from lodeline.trace import signer
    from lodeline.trace.audit import run_audit

    private = lithium_registry(engine)
    doc = _issue(engine, private)
    leaf = service.of_lot(engine, "CAM-U1")[0]["leaf_index"]
    verifiers = signer.audit_verifiers(engine)
    with engine.connect() as conn:
        report = run_audit(conn, verifiers, leaf_source=_leaf_source_hook())
    assert report.ok, report.findings
    assert report.kind_leaves["passports"] == 1
    with write_transaction(engine) as conn:
        conn.execute(
            update(db.passports).where(db.passports.c.id == doc["id"]).values(document=json.dumps(doc) + " ")
        )
    with engine.connect() as conn:
        report = run_audit(conn, verifiers, leaf_source=_leaf_source_hook())
    assert [(f.kind, f.leaf_index) for f in report.findings] == [("passport-leaf-mismatch", leaf)]


def _paths_of(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths_of(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            out += _paths_of(v, (*prefix, i))
    return out


def test_hostile_passports_are_reported_never_raised(engine: Engine) -> None:
    """Every value of a real passport (first three items of each list) replaced by null, a negative or huge
    integer, a string, a list or an object: verification reports failed checks and never raises."""
    import random

    private = lithium_registry(engine)
    doc = _issue(engine, private)
    keys_ = service.verifiers(engine)
    paths = [p for p in _paths_of(doc) if p]
    random.Random(16).shuffle(paths)
    for path in paths[:150]:
        for hostile in (None, -1, 2**70, "x", [], {"a": [1]}):
            bad = copy.deepcopy(doc)
            node = bad
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = hostile
            report = service.verify_document(bad, keys_)
            assert isinstance(report["valid"], bool), path


def test_rule_sets_checked_at_issue_are_declared_and_proven(engine: Engine) -> None:
    """Issuing with rule sets runs the compliance check (services.comply.check) on the lot: every verdict it logs
    is declared in the passport as a claim whose leaf is proven against the checkpoint, and the passport
    verifies; a lot the issuer did not produce is refused before any verdict is written."""
    from lodeline.services import comply
    from lodeline.store import comply as comply_db

    private = lithium_registry(engine)
    rulesets = [r["id"] for r in comply.list_rulesets()]
    doc = service.issue(
        engine, "CAM-U1", participant=CATHODE_MAKER, private_key=private[CATHODE_MAKER], rulesets=rulesets
    )
    assert _failed(engine, doc) == []
    text = json.dumps(doc)
    claims = [c for c in doc["credentialSubject"]["conformityClaim"] if "#verdict-" in c["id"]]
    assert claims, "no verdict was declared"
    for claim in claims:
        leaf = int(claim["id"].rsplit("-", 1)[1])
        assert f"#leaf-{leaf}" in text
    with engine.connect() as conn:
        logged = comply_db.verdict_leaves(conn)  # the comply capability's own verdict rows, as log leaves
    assert {int(c["id"].rsplit("-", 1)[1]) for c in claims} <= set(logged)
    with pytest.raises(LodelineError, match="does not operate"):
        service.issue(
            engine, "CAM-U1", participant="other", private_key=private[CATHODE_MAKER], rulesets=rulesets
        )
