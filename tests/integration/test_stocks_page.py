"""The synthetic demonstration data and the Stocks page's HTML as public, member and secretariat (SQLite and
PostgreSQL).

Every figure is checked against the generated rows themselves: the published cobalt total is the sum of the
cobalt ``quantity_gross_t`` cells :func:`demo_rows` produced (every member holds cobalt, so the cell passes the
rules), and a member's own figures are its own rows' cells; the generated rows are the "raw file" here.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from lodeline.services import stocks as service
from lodeline.stockpiles.demo import DEMO_LABEL, DEMO_RULE, demo_rows
from lodeline.stockpiles.submission import validate_rows
from lodeline.store.accounts import create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PERIOD = "2026-Q3"


def _load(engine: Engine, seed: int = 3) -> dict[str, list[tuple[int, dict[str, object]]]]:
    rows = demo_rows(PERIOD, members=5, seed=seed)
    for member, member_rows in rows.items():
        service.submit_rows(engine, member_rows, member=member, period=PERIOD, submitted_by="demo")
    return rows


def _cells(html: str) -> set[str]:
    """The text of every table cell of the page."""
    return {m.strip() for m in re.findall(r"<td[^>]*>([^<]*)</td>", html)}


def _gross(rows: list[tuple[int, dict[str, object]]]) -> set[str]:
    return {str(r["quantity_gross_t"]) for _, r in rows}


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    app = create_app(engine, ApiSettings())  # type: ignore[arg-type]
    with TestClient(app, base_url="https://testserver") as c:
        yield c


def test_demo_rows_are_labelled_deterministic_and_valid() -> None:
    first, again, other = (demo_rows(PERIOD, members=5, seed=s) for s in (3, 3, 4))
    assert first == again
    assert first != other
    assert sorted(first) == ["DEU", "FRA", "GBR", "JPN", "USA"]
    for member, rows in first.items():
        for _, row in rows:
            assert str(row["form"]).endswith(f"({DEMO_LABEL})")
            assert row["release_rule"] == DEMO_RULE
            assert str(row["release_rules"]).startswith(DEMO_LABEL)
            assert Decimal(str(row["quantity_contained_t"])) <= Decimal(str(row["quantity_gross_t"]))
        # the ordinary validation accepts them as they are
        assert len(validate_rows(rows, member=member, period=PERIOD)) == len(rows)
    with pytest.raises(ValueError, match="members 2 is outside 3–10"):
        demo_rows(PERIOD, members=2)


def test_page_as_public_member_and_secretariat(engine: Engine, client: TestClient) -> None:
    rows = _load(engine)
    cobalt = sum(
        int(str(r["quantity_gross_t"])) for rs in rows.values() for _, r in rs if r["mineral"] == "cobalt"
    )
    every_gross = set().union(*(_gross(rs) for rs in rows.values()))

    public = client.get(f"/stocks?period={PERIOD}")
    assert public.status_code == 200, public.text
    assert 'id="demo-banner"' in public.text and "SYNTHETIC DEMO DATA" in public.text
    assert 'id="own"' not in public.text
    cells = _cells(public.text)
    assert f"{cobalt:,}" in cells  # the published cobalt total, all holders and forms
    assert ":c" in public.text and 'class="confidential"' in public.text
    assert not cells & every_gross, cells & every_gross  # no member's figure in any cell

    token = {m: create_token(engine, f"{m}-page", "member", m)[1] for m in ("DEU", "FRA")}
    deu = client.get(f"/stocks?period={PERIOD}", headers={"Authorization": f"Bearer {token['DEU']}"})
    assert deu.status_code == 200
    assert 'id="own-table"' in deu.text and "Your submitted figures (DEU, 2026-Q3)" in deu.text
    own = _cells(deu.text.split('id="own-table"', 1)[1].split("</table>", 1)[0])
    assert _gross(rows["DEU"]) <= own
    others = set().union(*(_gross(rs) for m, rs in rows.items() if m != "DEU")) - _gross(rows["DEU"])
    assert not _cells(deu.text) & others

    secretariat = create_token(engine, "sec-page", "secretariat", None)[1]
    sec = client.get(f"/stocks?period={PERIOD}", headers={"Authorization": f"Bearer {secretariat}"})
    assert sec.status_code == 200 and 'id="own"' not in sec.text
    assert not _cells(sec.text) & every_gross


def test_bad_or_empty_period_is_a_message_not_an_error(engine: Engine, client: TestClient) -> None:
    empty = client.get("/stocks")
    assert empty.status_code == 200 and 'id="no-periods"' in empty.text
    _load(engine)
    bad = client.get("/stocks?period=2026-Q9")
    assert bad.status_code == 200 and "period: &#39;2026-Q9&#39; is not a reporting period" in bad.text
    none = client.get("/stocks?period=2025-Q1")
    assert none.status_code == 200 and "no stockpile submission for 2025-Q1" in none.text
