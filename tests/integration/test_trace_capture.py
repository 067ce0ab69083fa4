"""Capture rejects bad input with stable codes and leaves nothing behind; duplicates are recorded once."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, select

from lodeline.store import trace as db
from lodeline.store import tracelog
from lodeline.trace import keys, parties
from lodeline.trace.capture import capture
from lodeline.trace.chain_setup import capture_all, document_bytes, register
from lodeline.trace.errors import TraceError
from lodeline.trace.generator import lithium_chain

WRITE_TABLES = (db.documents, db.events, db.lots, db.lot_sources, db.balances, db.claims, db.credits)


#: The lithium chain's registration, logged before any event: 6 participants with a key and a prefix each (18),
#: 6 facilities and 1 certification.
DIRECTORY_LEAVES = 6 * 3 + 6 + 1


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        out = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in WRITE_TABLES}
        out["log"] = tracelog.tree_size(conn)
    return out


@pytest.fixture
def li(engine: Engine):
    chain = lithium_chain()
    private = register(engine, chain)
    return engine, chain, private


def _submit(engine: Engine, pid: str, doc: dict, key: Ed25519PrivateKey, **kw):
    data = document_bytes(doc)
    return capture(engine, data, participant=pid, signature=keys.sign(key, data), **kw)


def _rejected(engine: Engine, code: str, fn) -> TraceError:
    before = _counts(engine)
    with pytest.raises(TraceError) as info:
        fn()
    assert info.value.code == code, info.value.message
    assert _counts(engine) == before  # nothing left behind
    return info.value


def test_first_document_accepted_and_logged(li) -> None:
    engine, chain, private = li
    pid, doc = chain.documents[0]
    rep = _submit(engine, pid, doc, private[pid])
    first = DIRECTORY_LEAVES
    assert len(rep.accepted) == 2 and rep.leaf_indices == [first, first + 1]
    with engine.connect() as conn:
        rows = conn.execute(
            select(db.events.c.hash_id, db.events.c.leaf_index).order_by(db.events.c.seq)
        ).all()
        leaves = [tracelog.leaf_row(conn, i) for i in (first, first + 1)]
    assert [r.leaf_index for r in rows] == [first, first + 1]
    assert [leaf[1] for leaf in leaves if leaf] == [r.hash_id.encode() for r in rows]


def test_bad_signature_unsigned_unknown_and_revoked(li) -> None:
    engine, chain, private = li
    pid, doc = chain.documents[0]
    data = document_bytes(doc)
    other = Ed25519PrivateKey.generate()
    _rejected(
        engine,
        "bad-signature",
        lambda: capture(engine, data, participant=pid, signature=keys.sign(other, data)),
    )
    _rejected(
        engine, "bad-signature", lambda: capture(engine, data, participant=pid, signature="!!notbase64")
    )
    _rejected(engine, "unsigned-document", lambda: capture(engine, data, participant=pid, signature=""))
    _rejected(engine, "unknown-participant", lambda: _submit(engine, "nobody", doc, private[pid]))
    # Tampering with one byte after signing breaks the signature.
    sig = keys.sign(private[pid], data)
    tampered = data.replace(b"1000000", b"1000001", 1)
    _rejected(engine, "bad-signature", lambda: capture(engine, tampered, participant=pid, signature=sig))
    kid = keys.key_id(keys.public_b64(private[pid]))
    parties.revoke_key(engine, pid, kid, at=datetime.now(UTC) - timedelta(minutes=1), reason="compromised")
    _rejected(engine, "revoked-key", lambda: _submit(engine, pid, doc, private[pid]))


def test_signature_before_revocation_time_is_accepted(li) -> None:
    engine, chain, private = li
    pid, doc = chain.documents[0]
    kid = keys.key_id(keys.public_b64(private[pid]))
    parties.revoke_key(engine, pid, kid, at=datetime.now(UTC) + timedelta(days=1))
    assert len(_submit(engine, pid, doc, private[pid]).accepted) == 2


def test_rotated_key_signs(li) -> None:
    engine, chain, private = li
    pid, doc = chain.documents[0]
    new = Ed25519PrivateKey.generate()
    parties.rotate_key(engine, pid, keys.public_b64(new), revoke_old=True)
    _rejected(engine, "revoked-key", lambda: _submit(engine, pid, doc, private[pid]))
    assert len(_submit(engine, pid, doc, new).accepted) == 2


def test_replay_and_duplicates(li) -> None:
    engine, chain, private = li
    pid, doc = chain.documents[0]
    _submit(engine, pid, doc, private[pid])
    _rejected(engine, "replayed-document", lambda: _submit(engine, pid, doc, private[pid]))
    # Same events in a new document (different bytes): reported as duplicates, recorded once.
    again = copy.deepcopy(doc)
    again["creationDate"] = "2025-06-01T00:00:00Z"
    rep = _submit(engine, pid, again, private[pid])
    assert rep.accepted == [] and [d["index"] for d in rep.duplicates] == [0, 1]
    assert _counts(engine)["trace_events"] == 2 and _counts(engine)["log"] == DIRECTORY_LEAVES + 2


def test_over_shipment(li) -> None:
    engine, chain, private = li
    pid, doc = chain.documents[0]
    bad = copy.deepcopy(doc)
    bad["epcisBody"]["eventList"][1]["quantityList"][0]["quantity"] = 1_000_001
    err = _rejected(engine, "over-shipment", lambda: _submit(engine, pid, bad, private[pid]))
    assert err.issues[0].index == 1 and err.issues[0].field == "quantityList[0]"


def test_yield_above_maximum_and_unknown_facility(li) -> None:
    engine, chain, private = li
    for pid, doc in chain.documents[:2]:
        _submit(engine, pid, doc, private[pid])
    pid, doc = chain.documents[2]  # converter: receive, receive, carbonate, hydroxide, ship
    bad = copy.deepcopy(doc)
    carb = bad["epcisBody"]["eventList"][2]
    carb["outputQuantityList"][0]["quantity"] *= 1.2  # 85 % × 1.2 = 102 % > 92 % maximum
    carb.pop("lodeline:declaredYield")
    err = _rejected(engine, "yield-above-maximum", lambda: _submit(engine, pid, bad, private[pid]))
    assert err.issues[0].index == 2
    bad = copy.deepcopy(doc)
    bad["epcisBody"]["eventList"][0]["bizLocation"]["id"] = "urn:epc:id:sgln:9521234.99999.0"
    bad["epcisBody"]["eventList"][0]["destinationList"][0]["destination"] = "urn:epc:id:sgln:9521234.99999.0"
    _rejected(engine, "unknown-facility", lambda: _submit(engine, pid, bad, private[pid]))
    # A declared yield that disagrees with the quantities is also rejected.
    bad = copy.deepcopy(doc)
    bad["epcisBody"]["eventList"][2]["lodeline:declaredYield"] = 0.5
    _rejected(engine, "yield-mismatch", lambda: _submit(engine, pid, bad, private[pid]))


def test_events_at_another_operators_facility(li) -> None:
    """A participant signs for itself, not for a facility it does not operate: the converter's operator cannot
    record the miner's production, even with a valid signature of its own."""
    engine, chain, private = li
    miner, doc = chain.documents[0]
    other = chain.documents[2][0]
    assert other != miner
    err = _rejected(engine, "facility-not-operated", lambda: _submit(engine, other, doc, private[other]))
    assert (err.issues[0].index, err.issues[0].field) == (0, "bizLocation")
    assert f"participant {other!r} does not operate facility" in err.issues[0].reason


def test_schema_invalid_document(li) -> None:
    engine, chain, private = li
    pid, doc = chain.documents[0]
    bad = copy.deepcopy(doc)
    del bad["epcisBody"]["eventList"][1]["eventTime"]
    err = _rejected(engine, "epcis-missing-field", lambda: _submit(engine, pid, bad, private[pid]))
    assert err.issues[0].index == 1 and err.issues[0].field == "eventTime"


def test_receiving_more_than_shipped(li) -> None:
    engine, chain, private = li
    for pid, doc in chain.documents[:2]:
        _submit(engine, pid, doc, private[pid])
    pid, doc = chain.documents[2]
    bad = copy.deepcopy(doc)
    bad["epcisBody"]["eventList"][0]["quantityList"][0]["quantity"] = 2_000_000
    _rejected(engine, "over-receipt", lambda: _submit(engine, pid, bad, private[pid]))


def test_whole_chain_then_all_events_stored(li) -> None:
    engine, chain, private = li
    capture_all(engine, chain, private)
    counts = _counts(engine)
    assert counts["trace_events"] == counts["log"] - DIRECTORY_LEAVES == 18
    with engine.connect() as conn:
        body = conn.execute(select(db.events.c.body).limit(1)).scalar_one()
    assert "@context" in json.loads(body)
