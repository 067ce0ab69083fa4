"""Compliance checks on the lithium and nickel example chains (trace/generator.py), captured into one registry
on each backend: the shipped rule sets' verdicts, the verdicts' log leaves and the audit that accounts for them.

Hand computation of the recycled shares (materials.yaml metal fractions, generator yields):
- lithium, CELL-X1: primary Li = (1,000,000 + 500,000) kg SC6 x 0.02787 = 41,805 kg, x 0.85 (conversion) x 0.98
  (hydroxide) = 34,824.6 kg; recycled Li = 200,000 kg black mass x 0.035 = 7,000 kg x 0.90 = 6,300 kg; the cathode
  blends the two, so recycled share = 6,300 / (34,824.6 + 6,300) = 0.1532 (>= 0.06 and >= 0.12: both pass);
  (to 1e-4: the generator rounds material quantities to the gram);
- nickel, PCAM-G1: no recycled origin, recycled share 0 (< 0.06 and < 0.15: both fail).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine, select, update

from lodeline.services import comply as service
from lodeline.store import comply as db
from lodeline.store.engine import write_transaction
from lodeline.tlog import merkle
from lodeline.trace import signer
from lodeline.trace.audit import run_audit
from lodeline.trace.capture import leaf_data_from_events
from lodeline.trace.chain_setup import capture_all, register
from lodeline.trace.generator import lithium_chain, nickel_chain

AS_OF = dt.date(2026, 12, 5)


@pytest.fixture
def chains(engine: Engine) -> Engine:
    for chain, seed in ((lithium_chain(), 0), (nickel_chain(series=1), 40)):
        capture_all(engine, chain, register(engine, chain, seed=seed))
    return engine


def _by_rule(records: list[dict]) -> dict[str, str]:
    return {r["rule"]: r["verdict"] for r in records}


def test_battery_recycled_content_on_both_chains(chains: Engine) -> None:
    li = service.check(chains, "CELL-X1", "eu-battery-recycled-content", as_of=AS_OF)
    assert _by_rule(li) == {"lithium-2031": "pass", "lithium-2036": "pass", "origin-traced": "pass"}
    assert li[0]["facts"]["recycled_share"] == pytest.approx(6_300 / (34_824.6 + 6_300), rel=1e-4)
    ni = service.check(chains, "PCAM-G1", "eu-battery-recycled-content", as_of=AS_OF)
    assert _by_rule(ni) == {"nickel-2031": "fail", "nickel-2036": "fail", "origin-traced": "pass"}
    assert ni[0]["facts"] == {"recycled_share": 0.0}


def test_oecd_screen_on_both_chains(chains: Engine) -> None:
    """The store holds no WGI (not built): the governance rules are insufficient-data, never pass. The nickel
    chain's Halmahera mine IRMA certificate ended 2026-05-31, before the check date: certifications-current fails."""
    li = _by_rule(service.check(chains, "CELL-X1", "oecd-annex-ii-red-flags", as_of=AS_OF))
    assert li == {
        "origin-traced": "pass",
        "no-high-risk-area": "insufficient-data",
        "no-worst-forms-of-labour-at-origin": "pass",
        "certifications-current": "pass",
        "weak-rule-of-law-at-origin": "insufficient-data",
    }
    ni = service.check(chains, "PCAM-G1", "oecd-annex-ii-red-flags", as_of=AS_OF)
    assert _by_rule(ni)["certifications-current"] == "fail"
    expired = next(r for r in ni if r["rule"] == "certifications-current")["facts"]["expired_certifications"]
    assert [(e["scheme"], e["valid_to"]) for e in expired] == [("IRMA", "2026-05-31")]
    # a day before the lapse it passes
    earlier = service.check(chains, "PCAM-G1", "oecd-annex-ii-red-flags", as_of=dt.date(2026, 5, 31))
    assert _by_rule(earlier)["certifications-current"] == "pass"


def test_us_forced_labour_screen_and_entity_list(chains: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    plain = _by_rule(service.check(chains, "CELL-X1", "us-forced-labour-import", as_of=AS_OF))
    assert plain == {
        "tvpra-forced-labour": "pass",
        "tvpra-child-labour": "pass",
        "uflpa-entity-screen": "insufficient-data",  # no entity list given: never a pass
        "uflpa-region": "pass",  # Sichuan (30.6 N, 104.1 E) is outside the box
    }
    listed = tmp_path / "entities.csv"
    listed.write_text("name,aliases,list,source\nSichuan Lithium Chemicals Co. Ltd.,,TEST-LIST,constructed\n")
    with_list = service.make_screening(entity_files=[listed])
    records = service.check(chains, "CELL-X1", "us-forced-labour-import", as_of=AS_OF, screen_with=with_list)
    entity = next(r for r in records if r["rule"] == "uflpa-entity-screen")
    assert entity["verdict"] == "fail"
    [hit] = entity["facts"]["entity_hits"]
    assert (hit["party"], hit["list"], hit["score"], hit["threshold"]) == (
        "sichuan-refiner",
        "TEST-LIST",
        100.0,
        90.0,
    )
    ni = _by_rule(
        service.check(chains, "PCAM-G1", "us-forced-labour-import", as_of=AS_OF, screen_with=with_list)
    )
    assert ni["uflpa-entity-screen"] == "pass"


def test_verdicts_are_log_leaves_the_audit_accounts_for(chains: Engine) -> None:
    records = service.check(chains, "CELL-X1", "eu-battery-recycled-content", as_of=AS_OF)
    with chains.connect() as conn:
        rows = (
            conn.execute(select(db.comply_verdicts).order_by(db.comply_verdicts.c.leaf_index))
            .mappings()
            .all()
        )
    assert [r["leaf_index"] for r in rows] == [r["leaf_index"] for r in records]
    assert json.loads(rows[0]["document"])["verdict"] == "pass"
    stored = service.stored_verdicts(chains, records[0]["lot"])
    assert {s["leaf_index"] for s in stored} == {r["leaf_index"] for r in records}
    signer.issue(chains)
    verifiers = signer.audit_verifiers(chains)
    with chains.connect() as conn:
        report = run_audit(conn, verifiers, leaf_source=leaf_data_from_events)
    assert report.ok, report.findings
    assert report.kind_leaves["verdicts"] == 3
    # someone turns a stored fail into a pass (or edits a fact): the audit names the leaf
    target = rows[1]
    with write_transaction(chains) as conn:
        conn.execute(
            update(db.comply_verdicts)
            .where(db.comply_verdicts.c.id == target["id"])
            .values(document=target["document"].replace('"recycled_share":0.15', '"recycled_share":0.95'))
        )
    with chains.connect() as conn:
        report = run_audit(conn, verifiers, leaf_source=leaf_data_from_events)
    assert [(f.kind, f.leaf_index) for f in report.findings] == [
        ("verdict-leaf-mismatch", target["leaf_index"])
    ]
    assert merkle.leaf_hash(db.leaf_of(target["document"])) != merkle.leaf_hash(
        db.leaf_of(target["document"] + " ")
    )


def test_unknown_lot_and_ruleset_are_named(chains: Engine) -> None:
    from lodeline.errors import NotFoundError

    with pytest.raises(NotFoundError, match="unknown lot"):
        service.check(chains, "NO-SUCH-LOT", "eu-battery-recycled-content")
    with pytest.raises(NotFoundError, match="unknown rule set 'nope'"):
        service.check(chains, "CELL-X1", "nope")
    with chains.connect() as conn:
        assert conn.execute(select(db.comply_verdicts)).first() is None
