"""Who sees what in the registry (issue 10): three participants in a chain — A (pilbara-miner) produces the
spodumene lot SC6-P1; B (sichuan-refiner) consumes it into LC-S1 and LH-S1; C (ulsan-cathode) consumes LH-S1 (with a
recycler's LC-R1) into CAM-U1. Each sees its own events in full and, on lots it held, other parties' movements as
custody facts only — through events?lot=, events?epc=, the origin and the capture job, on SQLite and PostgreSQL.
And ``%`` / ``_`` in a lot number are literal characters, never wildcards that list other companies' lots."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from lodeline.store import trace as db
from lodeline.store.accounts import create_token
from lodeline.trace.chain_setup import capture_all, register
from lodeline.trace.generator import Chain, lithium_chain
from lodeline.trace.identifiers import canonical_id
from lodeline.trace.proof_verify import verify_inclusion_document

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

A, B, C = "pilbara-miner", "sichuan-refiner", "ulsan-cathode"
EVENTS = "/api/v1/registry/events"


@pytest.fixture
def world(engine: Engine) -> Iterator[tuple[TestClient, Chain, dict[str, str], dict[str, str]]]:
    """The lithium chain captured; a token per participant and one for an auditor; the capture job ids."""
    chain = lithium_chain()
    reports = capture_all(engine, chain, register(engine, chain))
    tokens = {
        pid: create_token(engine, f"{pid}-acct", "participant", pid)[1] for pid, _, _ in chain.participants
    }
    tokens["auditor"] = create_token(engine, "auditor-acct", "auditor")[1]
    jobs = {pid: r.document_sha256 for (pid, _), r in zip(chain.documents, reports, strict=True)}
    app = create_app(engine, ApiSettings(rate_per_second=0, anonymous_rate_per_second=0))  # type: ignore[call-arg]
    with TestClient(app, base_url="https://testserver") as client:
        yield client, chain, tokens, jobs


def _get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    return client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


def _lot(chain: Chain, name: str) -> str:
    return canonical_id(chain.lots[name])


def _secrets(chain: Chain, names: list[str], facilities: list[str]) -> list[str]:
    """Strings that must not appear in an answer: lot numbers, and facility ids, names and operators."""
    out = list(names)
    for key in facilities:
        spec = chain.facilities[key]
        out += [canonical_id(spec.sgln), spec.sgln, spec.name, spec.operator]
    return out


def _assert_absent(text: str, secrets: list[str]) -> None:
    leaked = [s for s in secrets if s in text]
    assert not leaked, f"leaked {leaked}"


def _shape(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(movement of the lot, visibility, facility seen or '-') per event."""
    return [
        (e["movements"][0]["movement"] if e["movements"] else "-", e["visibility"], e["facility_id"] or "-")
        for e in events
    ]


def test_each_participant_sees_its_own_events_and_only_custody_facts_of_others(world) -> None:
    client, chain, tokens, jobs = world
    fac = {k: canonical_id(v.sgln) for k, v in chain.facilities.items()}
    cases = {
        # A's own lot: its production and shipment in full; B's receipt and consumption as custody facts at B's
        # converter (A's shipment names it). B's transformation names Yilgarn's lot and B's output: withheld.
        (A, "SC6-P1"): (
            [("produce", "full", fac["m1"]), ("ship", "full", fac["m1"]),
             ("receive", "custody", fac["cv"]), ("consume", "custody", fac["cv"])],
            _secrets(chain, ["SC6-Y1", "LC-S1", jobs[B]], ["m2"]),
        ),
        # B held A's lot (received and consumed it): A's events as custody facts at A's mine (B's receipt names it)
        (B, "SC6-P1"): (
            [("produce", "custody", fac["m1"]), ("ship", "custody", fac["m1"]),
             ("receive", "full", fac["cv"]), ("consume", "full", fac["cv"])],
            [jobs[A]],
        ),
        # B's own lot, consumed by C: C's transformation names the recycler's input and C's output: withheld
        (B, "LH-S1"): (
            [("produce", "full", fac["cv"]), ("ship", "full", fac["cv"]),
             ("receive", "custody", fac["ca"]), ("consume", "custody", fac["ca"])],
            _secrets(chain, ["CAM-U1", "LC-R1", jobs[C]], ["rc"]),
        ),
        # C received B's lot: B's production (a transformation of B's LC-S1) shows as a custody fact only
        (C, "LH-S1"): (
            [("produce", "custody", fac["cv"]), ("ship", "custody", fac["cv"]),
             ("receive", "full", fac["ca"]), ("consume", "full", fac["ca"])],
            _secrets(chain, ["LC-S1", "SC6-P1", "SC6-Y1", jobs[B]], ["m1", "m2"]),
        ),
        (C, "CAM-U1"): (
            [("produce", "full", fac["ca"]), ("ship", "full", fac["ca"]),
             ("receive", "custody", fac["ce"]), ("consume", "custody", fac["ce"])],
            _secrets(chain, ["CELL-X1", jobs["saxony-cells"]], []),
        ),
    }  # fmt: skip
    for (who, name), (expected, secrets) in cases.items():
        response = _get(client, tokens[who], EVENTS, lot=name)
        assert response.status_code == 200, (who, name, response.text)
        events = response.json()["events"]
        assert _shape(events) == expected, (who, name)
        for e in events:
            assert e["hash_id"].startswith("ni:///sha-256;") and e["leaf_index"] is not None
            if e["visibility"] == "custody":
                assert e["event"] is None and e["document_sha256"] is None
            else:
                assert e["event"]["type"] == e["event_type"] and e["document_sha256"]
        _assert_absent(response.text, secrets)
        # the same lot by EPC gives the same answer
        by_epc = _get(client, tokens[who], EVENTS, epc=chain.lots[name]).json()["events"]
        assert [(e["hash_id"], e["visibility"]) for e in by_epc] == [
            (e["hash_id"], e["visibility"]) for e in events
        ]
    # the auditor sees every body
    every = _get(client, tokens["auditor"], EVENTS, lot="LH-S1").json()["events"]
    assert [e["visibility"] for e in every] == ["full"] * 4 and all(e["event"] for e in every)
    assert "LC-R1" in str(every[-1]["event"])  # C's transformation, in full


def test_custody_facts_are_enough_to_prove_inclusion(world) -> None:
    client, _chain, tokens, _ = world
    events = _get(client, tokens[A], EVENTS, lot="SC6-P1").json()["events"]
    note = client.get("/api/v1/registry/checkpoint").text
    vkey = client.get("/api/v1/registry/checkpoint?format=json").json()["vkey"]
    from lodeline.trace.checkpoint import parse_vkey

    for e in events:
        if e["visibility"] == "custody":
            proof = client.get(
                "/api/v1/registry/proofs/inclusion", params={"event_hash": e["hash_id"]}
            ).json()
            result = verify_inclusion_document(proof, note, [parse_vkey(vkey)])
            assert result.leaf_index == e["leaf_index"]


def test_lots_a_participant_never_held_are_refused_everywhere(world) -> None:
    client, chain, tokens, _ = world
    refused = {
        A: ["LC-S1", "LH-S1", "CAM-U1"],
        B: ["CAM-U1", "LC-R1", "BM-R1"],
        C: ["SC6-P1", "LC-S1", "BM-R1"],
    }
    for who, names in refused.items():
        for name in names:
            # the lot's full identifier (as on the shipping papers): it exists, and this caller may not read it
            full = _lot(chain, name)
            for path in (f"/api/v1/registry/lots/{full}/origin", EVENTS):
                params = {"lot": full} if path == EVENTS else {}
                response = _get(client, tokens[who], path, **params)
                assert response.status_code == 403, (who, name, path)
            # a bare lot number is looked up among the caller's own lots only: not found, nothing named
            bare = _get(client, tokens[who], EVENTS, lot=name)
            assert bare.status_code == 404 and name not in bare.json()["message"].replace(repr(name), "")
            # by EPC: an empty list (only the caller's own events naming it, and it has none)
            assert _get(client, tokens[who], EVENTS, epc=chain.lots[name]).json()["events"] == []


def test_origin_shares_in_full_identities_only_as_far_as_known(world) -> None:
    client, chain, tokens, _ = world
    full = {
        by: _get(client, tokens["auditor"], "/api/v1/registry/lots/CAM-U1/origin", by=by).json()
        for by in ("country", "facility", "certification", "recycled")
    }
    for by in ("country", "certification", "recycled"):  # aggregates: the registry's purpose, shown in full
        mine = _get(client, tokens[C], "/api/v1/registry/lots/CAM-U1/origin", by=by).json()
        assert mine["shares"] == full[by]["shares"] and mine["view"] == "participant"
    response = _get(client, tokens[C], "/api/v1/registry/lots/CAM-U1/origin", by="facility")
    body = response.json()
    # the recycler shipped to C (named in C's receipt): named; the two Australian mines: one aggregate
    named = {r["facility"] for r in body["shares"] if not r["undisclosed"]}
    assert named == {canonical_id(chain.facilities["rc"].sgln)}
    hidden = [r for r in body["shares"] if r["undisclosed"]]
    assert [(r["type"], r["country"], r["facility"], r["name"]) for r in hidden] == [
        ("mine", "AUS", None, None)
    ]
    mines = [r for r in full["facility"]["shares"] if r["type"] == "mine"]
    assert hidden[0]["share"] == pytest.approx(sum(r["share"] for r in mines)) and len(mines) == 2
    # the upstream graph: lots C held by name, the others by a label local to the answer
    lots = {e["lot"] for e in body["edges"]} | {e["source_lot"] for e in body["edges"] if e["source_lot"]}
    real = {_lot(chain, n) for n in ("CAM-U1", "LH-S1", "LC-R1")}
    assert real <= lots and all(x in real or x.startswith("upstream lot ") for x in lots)
    assert len(lots - real) == 4  # LC-S1, SC6-P1, SC6-Y1, BM-R1
    # the metal on each edge is the part that reaches C's lot, never a supplier's whole production
    into_root = sum(e["metal_kg"] for e in body["edges"] if e["lot"] == body["lot"])
    assert into_root == pytest.approx(body["contained_metal_kg"])
    assert all("edge_metal_kg" not in e for e in body["edges"])
    origins = sum(e["metal_kg"] for e in body["edges"] if e["source_lot"] is None)
    assert origins == pytest.approx(body["contained_metal_kg"])
    _assert_absent(response.text, _secrets(chain, ["SC6-P1", "SC6-Y1", "LC-S1", "BM-R1"], ["m1", "m2"]))
    # the auditor's graph has every lot and both figures per edge
    assert all(e["edge_metal_kg"] >= e["metal_kg"] - 1e-6 for e in full["facility"]["edges"])
    assert _lot(chain, "SC6-P1") in {e["source_lot"] for e in full["facility"]["edges"]}
    # B held every lot upstream of its hydroxide and knows both mines (its receipts name them)
    b = _get(client, tokens[B], "/api/v1/registry/lots/LH-S1/origin", by="facility").json()
    assert not any(r["undisclosed"] for r in b["shares"]) and len(b["shares"]) == 2
    assert not any(str(e["lot"]).startswith("upstream lot") for e in b["edges"])
    # A sees its own lot's origin: its own mine
    a = _get(client, tokens[A], "/api/v1/registry/lots/SC6-P1/origin", by="facility").json()
    assert [r["facility"] for r in a["shares"]] == [canonical_id(chain.facilities["m1"].sgln)]


def test_capture_jobs_are_their_participants_own(world) -> None:
    client, _chain, tokens, jobs = world
    for owner, job in jobs.items():
        for who in (A, B, C, "auditor"):
            response = _get(client, tokens[who], f"/epcis/capture/{job}")
            if who in (owner, "auditor"):
                assert response.status_code == 200 and response.json()["participant"] == owner
            else:
                assert response.status_code == 404, (who, owner)
                _assert_absent(response.text, [owner])


def test_wildcards_in_a_lot_number_are_literal_and_errors_name_only_the_callers_lots(world) -> None:
    client, chain, tokens, _ = world
    everyone = [name for name in chain.lots] + ["id.gs1.org"]
    for who in (A, B, C, "auditor"):
        for pattern in ("%", "_", "%S1", "S_", "_1", "%25", "\\%"):
            for path, params in ((EVENTS, {"lot": pattern}), (f"/api/v1/registry/lots/{pattern}/origin", {})):
                response = _get(client, tokens[who], path, **params)
                assert response.status_code == 404, (who, pattern, path, response.text)
                _assert_absent(response.json()["message"], everyone)
    # a bare lot number still works, among the caller's own lots only
    assert _get(client, tokens[A], EVENTS, lot="P1").json()["lot"] == _lot(chain, "SC6-P1")
    # "S1" ends two lots of B's (LC-S1, LH-S1): ambiguous, and B may see both names
    ambiguous = _get(client, tokens[B], EVENTS, lot="S1")
    assert ambiguous.status_code == 404
    assert _lot(chain, "LC-S1") in ambiguous.json()["message"] and "SC6" not in ambiguous.json()["message"]
    # for A, "S1" matches nothing it held: no candidates named
    unknown = _get(client, tokens[A], EVENTS, lot="S1")
    assert unknown.status_code == 404 and "candidates" not in unknown.json()["message"]
    # C held LH-S1 but not LC-S1: "S1" resolves to the one C may read
    assert _get(client, tokens[C], EVENTS, lot="S1").json()["lot"] == _lot(chain, "LH-S1")
    # control characters are bad input, not a server error
    assert _get(client, tokens[A], EVENTS, lot="SC6\x00P1").status_code == 400


def test_lot_suffix_search_escapes_like_wildcards(engine: Engine) -> None:
    """The store's suffix search (CLI and API) on both backends: ``%`` and ``_`` match only themselves."""
    from lodeline.store.registry_reads import lots_ending_with
    from lodeline.trace import keys, parties

    parties.add_participant(engine, "p", "P", "miner", keys.public_b64(keys.generate()))
    fid = parties.add_facility(
        engine, "9521234000013", name="M", facility_type="mine", country="AUS", operator="p"
    )
    base = "https://id.gs1.org/01/09521234000129/10/"
    rows = [
        {"id": base + lot, "material": "m", "mineral": "lithium", "metal_fraction": 0.1, "recycled": None,
         "certified_fraction": 0.0, "produced_metal_kg": 1.0, "facility_id": fid}
        for lot in ("A_1", "AB1", "C%1", "CD1")
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(db.lots), rows)
        assert db.lot_ids_like(conn, "_1") == [base + "A_1"]
        assert db.lot_ids_like(conn, "%1") == [base + "C%1"]
        assert db.lot_ids_like(conn, "%") == [] and db.lot_ids_like(conn, "_") == []
        assert db.lot_ids_like(conn, "B1") == [base + "AB1"]
        assert lots_ending_with(conn, "_1", "p") == [base + "A_1"]
        assert lots_ending_with(conn, "1", "someone-else") == []


def test_own_events_are_the_ones_a_participant_submitted(engine: Engine) -> None:
    """ "Its own events" are those it submitted (``trace_events.participant_id``), not events at a facility it
    operates: an inspection the cell maker recorded, before trace_0004, at a depot that is the cathode maker's
    (the older capture accepted it) is the cell maker's in full, and nothing of it goes to the cathode maker —
    neither its body (which names the cell maker's lot) nor its document."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import update

    from lodeline.store.engine import MIGRATIONS_DIR, upgrade
    from lodeline.trace import keys
    from lodeline.trace.capture import capture
    from lodeline.trace.chain_setup import document_bytes
    from lodeline.trace.generator import T0, Events, FacilitySpec, document

    chain = lithium_chain()
    depot = chain.facility(
        FacilitySpec("wh", "Saxony cell depot", "warehouse", "DEU", "saxony-cells", 51.0, 13.7)
    )
    private = register(engine, chain)
    capture_all(engine, chain, private)
    when = T0 + timedelta(days=40)
    inspection = Events(chain).inspect(
        depot, "CELL-X1", 10, when, event_id="urn:uuid:1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    )
    data = document_bytes(document([inspection], when))
    report = capture(
        engine, data, participant="saxony-cells", signature=keys.sign(private["saxony-cells"], data)
    )
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "trace_0003")
        conn.execute(
            update(db.facilities).where(db.facilities.c.id == canonical_id(depot.sgln)).values(operator_id=C)
        )
    upgrade(engine)
    tokens = {pid: create_token(engine, f"{pid}-acct", "participant", pid)[1] for pid in (C, "saxony-cells")}
    app = create_app(engine, ApiSettings(rate_per_second=0, anonymous_rate_per_second=0))  # type: ignore[call-arg]
    with TestClient(app, base_url="https://testserver") as client:
        mine = _get(client, tokens["saxony-cells"], EVENTS, epc=chain.lots["CELL-X1"]).json()["events"]
        seen = {e["hash_id"]: e for e in mine}
        assert seen[report.accepted[0]]["visibility"] == "full"
        assert seen[report.accepted[0]]["document_sha256"] == report.document_sha256
        theirs = _get(client, tokens[C], EVENTS, epc=chain.lots["CELL-X1"])
        assert theirs.status_code == 200 and theirs.json()["events"] == []
        _assert_absent(theirs.text, [report.accepted[0], report.document_sha256])
