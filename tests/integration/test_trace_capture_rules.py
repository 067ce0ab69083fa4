"""The capture rules of issue 10 on both backends: time and identity, facilities on the submitter's side, lot
owners, GS1 company prefixes and origination (with opening stock flagged in every origin report). Each test
names the hole it closes; each rejection leaves nothing behind."""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from lodeline.api.settings import ApiSettings
from lodeline.errors import InvalidArgumentError
from lodeline.server import create_app
from lodeline.store import trace as db
from lodeline.store import tracelog
from lodeline.store.accounts import create_token
from lodeline.trace import keys, parties
from lodeline.trace.capture import CaptureReport, capture
from lodeline.trace.chain_setup import capture_all, document_bytes, register
from lodeline.trace.errors import TraceError
from lodeline.trace.generator import Chain, Events, document, lithium_chain, lot_class
from lodeline.trace.identifiers import canonical_id
from lodeline.trace.origin import origin_report

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

TABLES = (db.documents, db.events, db.lots, db.lot_sources, db.balances, db.claims, db.lot_movements)


@pytest.fixture
def li(engine: Engine) -> tuple[Engine, Chain, dict[str, Any]]:
    chain = lithium_chain()
    return engine, chain, register(engine, chain)


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        out = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}
        out["log"] = tracelog.tree_size(conn)
    return out


def _send(li, pid: str, events: list[dict[str, Any]], **kw: Any) -> CaptureReport:
    engine, _chain, private = li
    data = document_bytes(document(events, datetime(2025, 3, 1, tzinfo=UTC)))
    return capture(engine, data, participant=pid, signature=keys.sign(private[pid], data), **kw)


def _refused(li, code: str, pid: str, events: list[dict[str, Any]], **kw: Any) -> TraceError:
    before = _counts(li[0])
    with pytest.raises(TraceError) as info:
        _send(li, pid, events, **kw)
    assert info.value.code == code, info.value.message
    assert _counts(li[0]) == before
    return info.value


def _t(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _miner_events(chain: Chain) -> tuple[dict[str, Any], dict[str, Any]]:
    """(commissioning of 1,000 t SC6-P1 at the Pilbara mine, its shipment to the converter)."""
    events = copy.deepcopy(chain.documents[0][1]["epcisBody"]["eventList"])
    return events[0], events[1]


def _at(ev: dict[str, Any], when: str, **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(ev)
    out["eventTime"] = when
    out.update(changes)
    return out


def _qty(ev: dict[str, Any], kg: float) -> dict[str, Any]:
    out = copy.deepcopy(ev)
    out["quantityList"][0]["quantity"] = kg
    return out


# --- 3. time and identity ---------------------------------------------------------------------------------------


def test_events_dated_in_the_future_are_refused_within_a_tolerance(li) -> None:
    _engine, chain, _ = li
    produce, _ship = _miner_events(chain)
    now = datetime.now(UTC)
    err = _refused(li, "event-in-future", "pilbara-miner", [_at(produce, _t(now + timedelta(hours=1)))])
    assert (err.issues[0].index, err.issues[0].field) == (0, "eventTime")
    # two minutes ahead of the registry's clock is within the default 5-minute tolerance
    assert len(_send(li, "pilbara-miner", [_at(produce, _t(now + timedelta(minutes=2)))]).accepted) == 1
    # the tolerance is configurable per call (and by LODELINE_TRACE_CLOCK_SKEW_SECONDS)
    later = _at(produce, _t(now + timedelta(minutes=3)))
    _refused(li, "event-in-future", "pilbara-miner", [later], max_skew=timedelta(seconds=30))


def test_the_future_is_judged_in_utc_whatever_the_offset(li) -> None:
    _engine, chain, _ = li
    produce, _ship = _miner_events(chain)
    now = datetime.now(UTC)
    # local time +14:00 reads ten hours ahead, but the instant is four hours ago
    local = (now - timedelta(hours=4)).astimezone(UTC).replace(tzinfo=None) + timedelta(hours=14)
    stamp = local.isoformat(timespec="seconds") + "+14:00"
    assert len(_send(li, "pilbara-miner", [_at(produce, stamp, eventTimeZoneOffset="+14:00")]).accepted) == 1
    # and an instant one hour ahead is refused even when written in a negative offset that reads as the past
    ahead = (now + timedelta(hours=1)).astimezone(UTC).replace(tzinfo=None) - timedelta(hours=11)
    stamp = ahead.isoformat(timespec="seconds") + "-11:00"
    _refused(li, "event-in-future", "pilbara-miner", [_at(produce, stamp, eventTimeZoneOffset="-11:00")])


def test_a_shipment_dated_before_the_production_it_ships_is_refused(li) -> None:
    _engine, chain, _ = li
    produce, ship = _miner_events(chain)  # produced 2025-03-03T08:00Z
    _send(li, "pilbara-miner", [produce])
    err = _refused(li, "event-out-of-order", "pilbara-miner", [_at(ship, "2025-03-03T07:00:00.000Z")])
    assert (err.issues[0].index, err.issues[0].field) == (0, "quantityList[0]")
    assert "2025-03-03T08:00:00.000Z" in err.issues[0].reason
    # offsets are converted first: 01:00+09:00 the next day is 16:00Z, before a production at 20:00Z
    _send(li, "pilbara-miner", [_at(produce, "2025-03-03T20:00:00.000Z")])
    local = _at(ship, "2025-03-04T01:00:00+09:00", eventTimeZoneOffset="+09:00")
    _refused(li, "event-out-of-order", "pilbara-miner", [_qty(local, 10)])


def test_within_a_document_events_apply_in_event_time_order(li) -> None:
    engine, chain, _ = li
    produce, ship = _miner_events(chain)
    # listed shipment first, production second: applied in eventTime order, so accepted
    report = _send(li, "pilbara-miner", [ship, produce])
    assert len(report.accepted) == 2
    with engine.connect() as conn:
        moves = conn.execute(
            select(db.lot_movements.c.movement).order_by(db.lot_movements.c.event_time)
        ).scalars()
        assert list(moves) == ["produce", "ship"]
    # but a shipment really dated before its production in the same document finds no stock at its time
    again = _at(produce, "2025-03-10T00:00:00.000Z")
    early = _qty(_at(ship, "2025-03-09T00:00:00.000Z"), 5)
    err = _refused(li, "over-shipment", "pilbara-miner", [again, early])
    assert err.issues[0].index == 1 and "eventTime order" in err.issues[0].reason


def test_a_late_arriving_earlier_event_is_accepted_when_its_stock_was_there(li) -> None:
    engine, chain, _ = li
    produce, ship = _miner_events(chain)  # 1,000 t produced 03-03 08:00
    _send(li, "pilbara-miner", [produce, _qty(_at(ship, "2025-03-05T00:00:00.000Z"), 500_000)])
    # a shipment of 03-04 arrives after the one of 03-05: the production it draws on (03-03) was there
    assert _send(li, "pilbara-miner", [_qty(_at(ship, "2025-03-04T00:00:00.000Z"), 200_000)]).accepted
    # more production dated earlier than everything is fine too (it only adds)
    _send(li, "pilbara-miner", [_qty(_at(produce, "2025-03-01T00:00:00.000Z"), 100_000)])
    # …but a shipment dated before that latest addition to the stock is not: the stock was added at 03-03
    with engine.connect() as conn:
        stock = conn.execute(select(db.balances).where(db.balances.c.state == "stock")).mappings().one()
    assert stock["added_at"] == "2025-03-03T08:00:00.000Z" and stock["quantity_kg"] == pytest.approx(400_000)
    _refused(li, "event-out-of-order", "pilbara-miner", [_qty(_at(ship, "2025-03-02T00:00:00.000Z"), 1)])


def test_a_receipt_dated_before_its_shipment_is_refused(li) -> None:
    _engine, chain, _ = li
    capture_all(li[0], Chain(documents=chain.documents[:1]), li[2])  # shipped 03-04 08:00
    receive = copy.deepcopy(chain.documents[2][1]["epcisBody"]["eventList"][0])  # converter receives SC6-P1
    err = _refused(li, "event-out-of-order", "sichuan-refiner", [_at(receive, "2025-03-04T07:59:59.000Z")])
    assert "in transit" in err.issues[0].reason
    assert _send(li, "sichuan-refiner", [_at(receive, "2025-03-04T08:00:00.000Z")]).accepted


def test_event_ids_are_unique_per_participant(li) -> None:
    _engine, chain, _ = li
    produce, ship = _miner_events(chain)
    first = _at(produce, produce["eventTime"], eventID="urn:uuid:6b5c3e1e-0c1b-4d0e-9d3a-1a2b3c4d5e6f")
    assert len(_send(li, "pilbara-miner", [first]).accepted) == 1
    # the same event again (same hash, same eventID): the idempotent duplicate
    again = _send(li, "pilbara-miner", [first, _qty(ship, 10)])
    assert [d["index"] for d in again.duplicates] == [0] and len(again.accepted) == 1
    # a different event reusing the eventID: refused, named
    other = _qty(_at(ship, "2025-03-05T00:00:00.000Z", eventID=first["eventID"]), 20)
    err = _refused(li, "duplicate-event-id", "pilbara-miner", [other])
    assert (err.issues[0].index, err.issues[0].field) == (0, "eventID")
    # …also twice within one new document
    a = _qty(
        _at(ship, "2025-03-06T00:00:00.000Z", eventID="urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"), 1
    )
    b = _qty(_at(ship, "2025-03-06T01:00:00.000Z", eventID=a["eventID"]), 2)
    assert _refused(li, "duplicate-event-id", "pilbara-miner", [a, b]).issues[0].index == 1
    # another participant may use the same eventID for its own event
    yilgarn = copy.deepcopy(chain.documents[1][1]["epcisBody"]["eventList"][0])
    assert _send(li, "yilgarn-miner", [_at(yilgarn, yilgarn["eventTime"], eventID=first["eventID"])]).accepted


# --- 4. facilities and lot owners -------------------------------------------------------------------------------


@pytest.fixture
def api(li) -> Iterator[tuple[TestClient, dict[str, str]]]:
    engine, chain, _ = li
    tokens = {
        pid: create_token(engine, f"{pid}-acct", "participant", pid)[1] for pid, _, _ in chain.participants
    }
    app = create_app(engine, ApiSettings(rate_per_second=0, anonymous_rate_per_second=0))  # type: ignore[call-arg]
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client, tokens


def _post(li, api, pid: str, events: list[dict[str, Any]]) -> Any:
    client, tokens = api
    data = document_bytes(document(events, datetime(2025, 3, 20, tzinfo=UTC)))
    headers = {"Authorization": f"Bearer {tokens[pid]}", "Lodeline-Signature": keys.sign(li[2][pid], data)}
    return client.post(
        "/epcis/capture", content=data, headers={**headers, "Content-Type": "application/json"}
    )


def _observe(chain: Chain, where: str, lot: str, step: str, **extra: Any) -> dict[str, Any]:
    sgln = chain.facilities[where].sgln
    ev = {
        "type": "ObjectEvent",
        "eventTime": "2025-03-20T10:00:00.000Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": [],
        "action": "OBSERVE",
        "bizStep": step,
        "readPoint": {"id": sgln},
        "bizLocation": {"id": sgln},
        "quantityList": [{"epcClass": chain.lots[lot], "quantity": 10, "uom": "KGM"}],
    }
    return ev | extra


@pytest.mark.parametrize(
    ("step", "extra"),
    [
        ("destroying", {"disposition": "destroyed"}),
        ("inspecting", {}),
        ("storing", {"disposition": "damaged"}),
    ],
)
def test_no_event_at_a_competitors_facility(li, api, step: str, extra: dict[str, Any]) -> None:
    engine, chain, _ = li
    capture_all(engine, Chain(documents=chain.documents[:1]), li[2])
    before = _counts(engine)
    # the converter's operator records an event at the Pilbara mine naming the miner's lot
    response = _post(li, api, "sichuan-refiner", [_observe(chain, "m1", "SC6-P1", step, **extra)])
    assert response.status_code == 422, response.text
    issues = response.json()["issues"]
    assert {(i["code"], i["field"]) for i in issues} >= {
        ("facility-not-operated", "bizLocation"),
        ("facility-not-operated", "readPoint"),
    }
    # the facility of the submitter's own document and why — never who operates it
    assert canonical_id(chain.facilities["m1"].sgln) in issues[0]["reason"]
    _names_nobody_else(response.text, chain, "sichuan-refiner")
    assert _counts(engine) == before
    # the mine's own operator may
    assert (
        _post(li, api, "pilbara-miner", [_observe(chain, "m1", "SC6-P1", step, **extra)]).status_code == 202
    )


def _names_nobody_else(text: str, chain: Chain, submitter: str) -> None:
    """An error answer names no other participant: neither its id, its name, nor the names of its facilities."""
    others = [(pid, name) for pid, name, _role in chain.participants if pid != submitter]
    secrets = [s for pid, name in others for s in (pid, name)]
    secrets += [f.name for f in chain.facilities.values() if f.operator != submitter]
    leaked = [s for s in secrets if s in text]
    assert not leaked, f"the error names {leaked}"


def test_own_side_sources_and_unknown_locations(li, api) -> None:
    engine, chain, _ = li
    capture_all(engine, Chain(documents=chain.documents[:1]), li[2])
    departing = _observe(chain, "cv", "SC6-P1", "departing")
    del departing["bizLocation"], departing["readPoint"]
    departing["sourceList"] = [{"type": "location", "source": chain.facilities["m1"].sgln}]
    response = _post(li, api, "sichuan-refiner", [departing])
    assert response.status_code == 422 and response.json()["issues"][0]["field"] == "sourceList[0]"
    assert response.json()["code"] == "facility-not-operated"
    _names_nobody_else(response.text, chain, "sichuan-refiner")
    unknown = _observe(chain, "cv", "SC6-P1", "inspecting")
    unknown["readPoint"] = {"id": "urn:epc:id:sgln:9521234.99999.0"}
    response = _post(li, api, "sichuan-refiner", [unknown])
    assert response.status_code == 422 and response.json()["code"] == "unknown-facility"


def test_only_a_lots_owners_record_events_about_it(li, api) -> None:
    engine, chain, _ = li
    capture_all(engine, Chain(documents=chain.documents[:2]), li[2])  # both mines shipped to the converter
    # at its own facility, the converter names the miner's lot it does not hold yet (in transit to it counts)
    assert (
        _post(li, api, "sichuan-refiner", [_observe(chain, "cv", "SC6-P1", "inspecting")]).status_code == 202
    )
    # the cathode plant neither holds nor produced SC6-P1
    response = _post(li, api, "ulsan-cathode", [_observe(chain, "ca", "SC6-P1", "destroying")])
    assert response.status_code == 422 and response.json()["code"] == "lot-not-owned"
    assert response.json()["issues"][0]["field"] == "quantityList[0].epcClass"
    _names_nobody_else(response.text, chain, "ulsan-cathode")  # not who holds or produced the lot
    # a lot that does not exist yet belongs to whoever holds its company prefix
    future = lot_class("lithium_carbonate", "LC-NEXT", chain.prefix_of("sichuan-refiner"))
    ev = _observe(chain, "ca", "SC6-P1", "inspecting")
    ev["quantityList"][0]["epcClass"] = future
    response = _post(li, api, "ulsan-cathode", [ev])
    assert response.status_code == 422 and response.json()["code"] == "lot-not-owned"
    _names_nobody_else(response.text, chain, "ulsan-cathode")  # not whose prefix it is
    # the producer stays an owner after shipping everything away
    assert _post(li, api, "pilbara-miner", [_observe(chain, "m1", "SC6-P1", "inspecting")]).status_code == 202


# --- 5. company prefixes ----------------------------------------------------------------------------------------


def test_a_lot_under_another_companys_prefix_cannot_be_squatted(li, api) -> None:
    engine, chain, _ = li
    produce, _ship = _miner_events(chain)  # SC6-P1 under Pilbara's prefix
    squat = copy.deepcopy(produce)
    squat["readPoint"] = squat["bizLocation"] = {"id": chain.facilities["m2"].sgln}
    response = _post(li, api, "yilgarn-miner", [squat])  # at its own mine, but Pilbara's lot
    assert response.status_code == 422, response.text
    issue = response.json()["issues"][0]
    assert (issue["code"], issue["field"]) == ("foreign-company-prefix", "quantityList[0].epcClass")
    assert "pilbara" not in json.dumps(response.json())  # names the submitter's prefixes, nobody else's
    # the same GTIN written as a Digital Link on any domain is the same key
    squat["quantityList"][0]["epcClass"] = (
        "https://brand.example/01/" + canonical_id(chain.lots["SC6-P1"]).split("/01/")[1]
    )
    assert _post(li, api, "yilgarn-miner", [squat]).json()["code"] == "foreign-company-prefix"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.lots)).scalar_one() == 0
    assert _post(li, api, "pilbara-miner", [produce]).status_code == 202


def test_created_epcs_and_non_gs1_lots(li) -> None:
    _engine, chain, _ = li
    produce, _ship = _miner_events(chain)
    foreign = _at(produce, produce["eventTime"], epcList=["urn:epc:id:sgtin:9520101.012345.1"])  # Yilgarn's
    err = _refused(li, "foreign-company-prefix", "pilbara-miner", [foreign])
    assert err.issues[0].field == "epcList[0]"
    for lot in ("urn:example:lot:SC6-P9", "https://pilbara.example/lots/SC6-P9"):
        ev = copy.deepcopy(produce)
        ev["quantityList"][0]["epcClass"] = lot
        assert (
            _refused(li, "identifier-not-gs1", "pilbara-miner", [ev]).issues[0].field
            == "quantityList[0].epcClass"
        )
    own = _at(
        produce,
        produce["eventTime"],
        epcList=[f"urn:epc:id:sgtin:{chain.prefix_of('pilbara-miner')}.012345.1"],
    )
    assert len(_send(li, "pilbara-miner", [own]).accepted) == 1


def test_company_prefixes_are_checked_and_never_nest(engine: Engine) -> None:
    key = keys.public_b64(keys.generate())
    parties.add_participant(engine, "a", "A", "miner", key, ["9520500"])
    parties.add_participant(engine, "b", "B", "miner", keys.public_b64(keys.generate()))
    for bad in ("95205", "9520500123456", "95205OO", " ", "٩٥٢٠٥٠٠"):
        with pytest.raises(InvalidArgumentError, match="6 to 12 digits"):
            parties.add_company_prefix(engine, "b", bad)
    for nested in ("952050", "95205001", "9520500"):  # a prefix of, an extension of, the same as A's
        with pytest.raises(InvalidArgumentError):
            parties.add_company_prefix(engine, "b", nested)
    with pytest.raises(InvalidArgumentError, match="already bound"):
        parties.add_company_prefix(engine, "a", "9520500")
    with pytest.raises(InvalidArgumentError):
        parties.add_participant(engine, "c", "C", "miner", keys.public_b64(keys.generate()), ["95205009"])
    parties.add_company_prefix(engine, "b", "9520501")
    listed = {p["id"]: p["company_prefixes"] for p in parties.list_participants(engine)}
    assert listed == {"a": "9520500", "b": "9520501"}


# --- 6. origination ---------------------------------------------------------------------------------------------


def _refinery_commissioning(chain: Chain, opening_stock: str | None = None) -> dict[str, Any]:
    """50 t of carbonate commissioned at the converter (a refinery), declared opening stock or not."""
    when = datetime(2025, 3, 1, tzinfo=UTC)
    cv = chain.facilities["cv"]
    return Events(chain).commission(
        cv, "LC-OPEN", "lithium_carbonate", 50_000, when, opening_stock=opening_stock
    )


def test_a_refinery_cannot_commission_material_from_nothing(li, api) -> None:
    _engine, chain, _ = li
    response = _post(li, api, "sichuan-refiner", [_refinery_commissioning(chain)])
    assert response.status_code == 422 and response.json()["code"] == "origination-not-allowed"
    assert response.json()["issues"][0]["field"] == "ilmd.lodeline:openingStock"
    # a recycler must declare recycled feed
    bm = copy.deepcopy(chain.documents[3][1]["epcisBody"]["eventList"][0])
    del bm["ilmd"]["lodeline:recycled"]
    err = _refused(li, "origination-not-allowed", "rhine-recycler", [bm])
    assert "recycler without lodeline:recycled" in err.issues[0].reason
    # openingStock only declares stock on a commissioning
    carb = copy.deepcopy(chain.documents[2][1]["epcisBody"]["eventList"][2])
    carb["ilmd"]["lodeline:openingStock"] = "inventory at onboarding"
    _refused(li, "ledger-bad-value", "sichuan-refiner", [carb])


def test_declared_opening_stock_is_flagged_in_every_origin_claim(li, api) -> None:
    engine, chain, _ = li
    reason = "carbonate inventory held at onboarding, 2025-03-01 (stocktake ref. ST-77)"
    response = _post(li, api, "sichuan-refiner", [_refinery_commissioning(chain, opening_stock=reason)])
    assert response.status_code == 202, response.text
    lot = lot_class("lithium_carbonate", "LC-OPEN", chain.prefix_of("sichuan-refiner"))
    report = origin_report(engine, lot)
    assert report["opening_stock_share"] == pytest.approx(1.0)
    assert report["opening_stock"][0]["reason"] == reason
    # more of it, declared again: fine; without the declaration a refinery still cannot originate it
    plain = _refinery_commissioning(chain)
    plain["ilmd"]["lodeline:openingStock"] = reason
    plain["eventTime"] = "2025-03-02T00:00:00.000Z"
    assert _post(li, api, "sichuan-refiner", [plain]).status_code == 202
    del plain["ilmd"]["lodeline:openingStock"]
    plain["eventTime"] = "2025-03-02T01:00:00.000Z"
    assert _post(li, api, "sichuan-refiner", [plain]).json()["code"] == "origination-not-allowed"
    # a lot keeps how it entered the registry: a mined lot cannot later be topped up as opening stock
    produce, _ship = _miner_events(chain)
    assert _post(li, api, "pilbara-miner", [produce]).status_code == 202
    topped = _at(produce, "2025-03-03T09:00:00.000Z")
    topped["ilmd"]["lodeline:openingStock"] = "stockpile found"
    assert _post(li, api, "pilbara-miner", [topped]).json()["code"] == "lot-conflict"
    # blended with mined material downstream, the flag follows its share of the metal
    ship = copy.deepcopy(chain.documents[0][1]["epcisBody"]["eventList"][1])
    assert _post(li, api, "pilbara-miner", [ship]).status_code == 202
    capture_all(engine, Chain(documents=chain.documents[1:2]), li[2])
    receive_p, receive_y, carb, *_ = copy.deepcopy(chain.documents[2][1]["epcisBody"]["eventList"])
    open_kg = 100_000.0  # both commissionings, 0.18785 Li each → 18,785 kg Li
    carb["inputQuantityList"].append({"epcClass": lot, "quantity": open_kg, "uom": "KGM"})
    mined_li = 1_500_000 * 0.02787
    open_li = open_kg * 0.18785
    out_li = (mined_li + open_li) * 0.85
    carb["outputQuantityList"][0]["quantity"] = round(out_li / 0.18785, 3)
    carb["lodeline:declaredYield"] = 0.85
    assert _post(li, api, "sichuan-refiner", [receive_p, receive_y, carb]).status_code == 202
    blended = origin_report(engine, chain.lots["LC-S1"])
    assert blended["opening_stock_share"] == pytest.approx(open_li / (mined_li + open_li), rel=1e-3)
    client, tokens = api
    view = client.get(
        f"/api/v1/registry/lots/{chain.lots['LC-S1']}/origin?by=country",
        headers={"Authorization": f"Bearer {tokens['sichuan-refiner']}"},
    ).json()
    assert view["opening_stock_share"] == pytest.approx(blended["opening_stock_share"])
    assert view["opening_stock"][0]["reason"] == reason


def test_the_example_chains_originate_only_at_mines_and_recyclers(li) -> None:
    engine, chain, private = li
    capture_all(engine, chain, private)
    for lot in ("CELL-X1", "CAM-U1", "SC6-P1", "LC-R1"):
        assert origin_report(engine, chain.lots[lot])["opening_stock_share"] == 0


def test_a_public_key_registered_twice_is_refused_with_its_owner(engine: Engine) -> None:
    """The key table's primary key is the key id: a second registration of the same public key (a new participant,
    or a rotation to it) used to surface as the database's IntegrityError. It is now a clear error naming the
    participant that holds the key, and nothing is written (no participant row, no log leaf)."""
    public = keys.public_b64(keys.generate())
    parties.add_participant(engine, "urn:example:first", "First", "miner", public)
    parties.add_participant(
        engine, "urn:example:second", "Second", "refiner", keys.public_b64(keys.generate())
    )
    before = _counts(engine)
    with pytest.raises(InvalidArgumentError, match=r"already registered to participant 'urn:example:first'"):
        parties.add_participant(engine, "urn:example:third", "Third", "miner", public)
    with pytest.raises(InvalidArgumentError, match=r"already registered to participant 'urn:example:first'"):
        parties.rotate_key(engine, "urn:example:second", public)
    assert _counts(engine) == before
    assert "urn:example:third" not in {p["id"] for p in parties.list_participants(engine)}
