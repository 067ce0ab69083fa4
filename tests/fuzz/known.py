"""Known-good values for the operations of the capabilities of issues 13-17, for the fuzz suite: ids that exist (a
stock submission, an alert, a passport, bundled deals and projects), the participant's lot, valid bodies — so a
generated case gets past "not found" to the code that reads its other parameters. Imported as ``known``."""

from __future__ import annotations

from typing import Any

from webstore import WebStore

#: The routes of the capabilities that landed with issues 13-17 (stocks, alerts, compliance, deals, projects and
#: the outlook, passports and their resolver).
NEW_ROUTES = ("/api/v1/stocks", "/api/v1/alerts", "/api/v1/comply", "/api/v1/deals", "/api/v1/projects",
              "/api/v1/outlook", "/api/v1/passports", "/01/")  # fmt: skip


def _stock_submission(store: WebStore) -> int:
    """The member's (DEU) stock submission for 2026-Q3, made through the service once."""
    from lodeline.services import stocks as stocks_service
    from lodeline.store import stocks as stocks_db

    found = stocks_db.find_submission(store.engine, "DEU", "2026-Q3")
    if found is None:
        row = {"member": "DEU", "period": "2026-Q3", "mineral": "cobalt", "form": "metal",
               "holder_type": "public_strategic", "quantity_gross_t": "10"}  # fmt: skip
        found = stocks_service.submit_rows(
            store.engine, [(1, row)], member="DEU", period="2026-Q3"
        ).submission_id
    return found


def _alert(store: WebStore) -> int:
    """A recorded cobalt warning (through the lifecycle's record path), made once."""
    import datetime as dt

    from lodeline.alerts.model import Alert, Level
    from lodeline.services import alert_lifecycle

    found = alert_lifecycle.list_alerts(store.engine, mineral="cobalt", state=None)
    if found:
        return int(found[0]["id"])
    recorded = alert_lifecycle.record(
        store.engine, [Alert("cobalt", Level.WARNING, dt.date(2026, 11, 3), "fuzz", ())], "fuzz"
    )
    assert recorded[0].alert_id is not None
    return recorded[0].alert_id


def _passport(store: WebStore) -> tuple[dict[str, Any], Any]:
    """A passport of the participant's lot (issued once with the chain's demo key) and that key."""
    from lodeline.services import passports
    from lodeline.trace.chain_setup import demo_key
    from lodeline.trace.generator import lithium_chain

    key = demo_key([p[0] for p in lithium_chain().participants].index(store.participant))
    stored = passports.of_lot(store.engine, store.lot)
    if stored:
        return passports.fetch(store.engine, stored[0]["id"]), key
    return passports.issue(store.engine, store.lot, participant=store.participant, private_key=key), key


def known_values(store: WebStore, method: str, path: str) -> dict[str, Any]:
    """Values with which the operation can succeed (for the role allowed it): ids that exist, a lot the
    participant produced, valid bodies."""
    from lodeline.passport import proof
    from lodeline.services import passports
    from lodeline.trace import keys

    doc, key = _passport(store)
    product = doc["credentialSubject"]["product"]
    submission, alert = _stock_submission(store), _alert(store)
    deal = {"agreement_id": "fuzz-deu-chl", "parties": "DEU;CHL", "type": "MoU", "title": "Fuzz MoU",
            "signed_date": "2026-05-02", "minerals": "lithium", "stages": "processing", "binding": "no",
            "source_url": "https://example.org/release", "source_type": "primary"}  # fmt: skip
    period = {"query": {"period": "2026-Q3"}}
    values: dict[tuple[str, str], dict[str, Any]] = {
        ("GET", "/api/v1/stocks/submissions/{submission_id}"): {"path_parameters": {"submission_id": submission}},
        ("GET", "/api/v1/stocks/submissions/{submission_id}/history"): {"path_parameters": {"submission_id": submission}},
        ("GET", "/api/v1/stocks/aggregates"): period,
        ("GET", "/api/v1/stocks/own-vs-aggregate"): period,
        ("GET", "/api/v1/stocks/cover"): period,
        ("POST", "/api/v1/stocks/submissions"): {"query": {"period": "2026-Q3"}, "media_type": "application/json",
            "body": {"period": "2026-Q3", "rows": [{"mineral": "cobalt", "form": "metal",
                     "holder_type": "public_strategic", "quantity_gross_t": "10"}]}},
        ("POST", "/api/v1/stocks/release-plan"): {"body": {"scenario": "cn-graphite-2023"}},
        ("GET", "/api/v1/alerts/{alert_id}"): {"path_parameters": {"alert_id": alert}},
        ("POST", "/api/v1/alerts/{alert_id}/ack"): {"path_parameters": {"alert_id": alert}, "body": {"note": "seen"}},
        ("POST", "/api/v1/alerts/{alert_id}/escalate"): {"path_parameters": {"alert_id": alert}, "body": {"note": "up"}},
        ("POST", "/api/v1/alerts/{alert_id}/close"): {"path_parameters": {"alert_id": alert}, "body": {"note": "done"}},
        ("POST", "/api/v1/alerts/subscriptions"): {"body": {"mineral": "cobalt", "channel": "email", "target": "a@example.org"}},
        ("GET", "/api/v1/comply/rulesets/{ruleset}"): {"path_parameters": {"ruleset": "oecd-annex-ii-red-flags"}},
        ("POST", "/api/v1/comply/check"): {"query": {"lot": store.lot, "rules": "eu-battery-recycled-content"}},
        ("GET", "/api/v1/comply/screen"): {"query": {"lot": store.lot}},
        ("GET", "/api/v1/deals/registers/{register}"): {"path_parameters": {"register": "agreements"}, "query": {}},
        ("POST", "/api/v1/deals/registers/{register}"): {"path_parameters": {"register": "agreements"},
            "body": {"cells": deal, "reason": "fuzz"}},
        ("POST", "/api/v1/deals/registers/{register}/{entry_id}/versions"): {
            "path_parameters": {"register": "agreements", "entry_id": "eu-chl-2023"},
            "body": {"cells": {"in_force_date": "2024-01-01", "source_url": "https://example.org/x",
                               "source_type": "primary"}, "reason": "fuzz"}},
        ("GET", "/api/v1/deals/entries/{entry_id}"): {"path_parameters": {"entry_id": "wto-ds592"}},
        ("GET", "/api/v1/deals/entries/{entry_id}/history"): {"path_parameters": {"entry_id": "wto-ds592"}, "query": {}},
        ("GET", "/api/v1/deals/countries/{country}"): {"path_parameters": {"country": "IDN"}, "query": {}},
        ("POST", "/api/v1/projects"): {"body": {"project_id": "fuzz-1", "name": "Fuzz plant", "minerals": ["lithium"]}},
        ("GET", "/api/v1/projects/compare"): {"query": {"ids": ["dsg-eu-crma-jadar"]}},
        ("GET", "/api/v1/projects/{project_id}"): {"path_parameters": {"project_id": "dsg-eu-crma-jadar"}},
        ("GET", "/api/v1/projects/{project_id}/returns"): {"path_parameters": {"project_id": "dsg-eu-crma-jadar"},
            "query": {"price": 20000, "opex": 1e8}},
        ("GET", "/api/v1/outlook"): {"query": {"mineral": "rare-earths", "draws": 100}},
        ("POST", "/api/v1/passports/draft"): {"body": {"lot": store.lot, "public_key": keys.public_b64(key)}},
        ("POST", "/api/v1/passports/verify"): {"body": doc},
        ("GET", "/api/v1/passports"): {"query": {"lot": store.lot}},
        ("GET", "/api/v1/passports/{passport_id}"): {"path_parameters": {"passport_id": doc["id"]}},
        ("GET", "/api/v1/passports/{passport_id}/verify"): {"path_parameters": {"passport_id": doc["id"]}},
        ("GET", "/01/{gtin}/10/{lot}"): {"path_parameters": {"gtin": product["registeredId"],
            "lot": product["batchNumber"]}, "query": {"linkType": "untp:dpp"}},
    }  # fmt: skip
    if (method, path) == ("POST", "/api/v1/passports"):
        draft = passports.draft(
            store.engine, store.lot, participant=store.participant, public_key=proof.public_bytes(key)
        )
        return {"body": proof.add_proof(draft, key, draft["validFrom"])}
    return values.get((method, path), {"query": {}} if method == "GET" else {})
