"""The Alerts page's history section (issue 14: "the history"): a signed-in member sees the mineral's recorded
alerts with who did what and when; the public sees a note instead, unless the alliance publishes its alerts. On a
fresh store (no data build: the scan part of the page reports that, the history still shows)."""

from __future__ import annotations

import datetime as dt
import warnings

from sqlalchemy import Engine

from lodeline.alerts.model import Alert, Level
from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from lodeline.services import alert_lifecycle as lifecycle
from lodeline.store.accounts import create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def test_history_for_members_and_published_only(engine: Engine) -> None:
    (done,) = lifecycle.record(
        engine, [Alert("gallium", Level.WARNING, dt.date(2026, 11, 3), "why", ())], "scan"
    )
    assert done.alert_id is not None
    lifecycle.transition(engine, done.alert_id, "acknowledge", actor="desk officer DEU", note="seen")
    token = create_token(engine, "member-1", "member", "DEU")[1]
    with TestClient(create_app(engine), base_url="https://testserver") as client:
        member = client.get("/alerts?mineral=gallium", headers={"Authorization": f"Bearer {token}"})
        assert member.status_code == 200
        assert (
            'id="history-table"' in member.text
            and "desk officer DEU" in member.text
            and "seen" in member.text
        )
        public = client.get("/alerts?mineral=gallium")
        assert public.status_code == 200
        assert 'id="history-table"' not in public.text and "desk officer DEU" not in public.text
        assert "The alliance has not published them" in public.text
    published = create_app(engine, ApiSettings(alerts_public=True))  # type: ignore[arg-type]
    with TestClient(published, base_url="https://testserver") as client:
        assert "desk officer DEU" in client.get("/alerts?mineral=gallium").text
