"""The financing ledger never double counts a parent and its parts (hypothesis), and on the bundled file the
tally of each family equals its parent's amount."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lodeline.config import get_settings
from lodeline.data.sources import policy_commitments
from lodeline.projects import fx
from lodeline.projects.commitments import counted_ids, ledger, tally

COLUMNS = ("commitment_id", "provider", "provider_jurisdiction", "instrument", "value_role", "recipient", "project",
           "amount", "currency", "amount_qualifier", "first_status", "first_status_date", "latest_status",
           "latest_status_date", "parent_id")  # fmt: skip


def _row(cid: str, amount: float | None, parent: str | None, role: str = "commitment") -> dict[str, object]:
    return {
        "commitment_id": cid, "provider": "p", "provider_jurisdiction": "X", "instrument": "grant",
        "value_role": role, "recipient": "r", "project": cid, "amount": amount, "currency": "USD",
        "amount_qualifier": "exact", "first_status": "announced", "first_status_date": "2026-01-02",
        "latest_status": "contracted", "latest_status_date": "2026-02-01", "parent_id": parent,
    }  # fmt: skip


family = st.tuples(
    st.one_of(st.none(), st.floats(min_value=1, max_value=1e10, allow_nan=False)),  # the parent's amount
    st.lists(
        st.one_of(st.none(), st.floats(min_value=1, max_value=1e9, allow_nan=False)), max_size=5
    ),  # parts
    st.sampled_from(["commitment", "program_envelope"]),  # the parent's role
    st.booleans(),  # parts of parts: a second level under the first part
)


@given(st.lists(family, min_size=1, max_size=8))
@settings(max_examples=200, deadline=None)
def test_a_family_is_counted_once_at_its_top_most_amount(families: list[tuple]) -> None:  # type: ignore[type-arg]
    rows = []
    expected_usd = 0.0
    for i, (parent_amount, parts, role, nested) in enumerate(families):
        pid = f"f{i}"
        rows.append(_row(pid, parent_amount, None, role))
        parent_counts = role == "commitment" and parent_amount is not None
        if parent_counts:
            expected_usd += parent_amount  # type: ignore[operator]
        for j, amount in enumerate(parts):
            cid = f"{pid}-{j}"
            rows.append(_row(cid, amount, pid))
            if not parent_counts and amount is not None:
                expected_usd += amount
            if nested and j == 0:
                rows.append(_row(f"{cid}-a", 7.0, cid))
                if not parent_counts and amount is None:
                    expected_usd += 7.0
    frame = pl.DataFrame(rows, schema_overrides={"amount": pl.Float64}, infer_schema_length=None)
    out = ledger(frame)
    total = out.filter(pl.col("counted"))["amount"].sum()
    assert total == pytest.approx(expected_usd)
    by_currency = tally(out)
    assert set(by_currency["currency"].drop_nulls()) <= {"USD"}  # never a converted or mixed-currency row
    assert by_currency["amount"].sum() == pytest.approx(expected_usd)
    # with a stated rate (USD 1.25 per EUR) the converted total is the same family-once sum, / 1.25
    rates = fx.table(
        [(2, {"currency": "USD", "per_eur": "1.25", "date": "2026-01-02", "source": "test"})], "t"
    )
    converted = fx.converted_total(fx.convert_ledger(out, rates), rates)
    assert converted["complete"] and converted["amount"] == pytest.approx(expected_usd / 1.25)
    # no counted row has a counted ancestor
    counted = counted_ids(frame)
    parent_of = {r["commitment_id"]: r["parent_id"] for r in rows}
    for cid in counted:
        up = parent_of[cid]
        while up is not None:
            assert up not in counted
            up = parent_of[up]


def test_bundled_families_sum_to_their_parents() -> None:
    """public_financing_commitments_partial.csv: USA Rare Earth's CHIPS direct funding (USD 277 m) has five parts
    132 + 50 + 20 + 60 + 15 = 277 m and its loan guarantee (USD 1,300 m) five parts 550 + 250 + 100 + 325 + 75 =
    1,300 m; the ledger counts the two parents (1,577 m) and none of the ten parts."""
    frame = policy_commitments.parse(Path(get_settings().raw_dir) / "policy_facts")["commitments"]
    out = ledger(frame)
    usar = out.filter(pl.col("commitment_id").str.starts_with("fin-us-chips-usar-2026"))
    assert usar.filter(pl.col("counted"))["amount"].sum() == pytest.approx(1_577e6)
    assert usar.filter(~pl.col("counted")).height == 10
    parts = usar.filter(pl.col("parent_id").is_not_null())
    assert parts["amount"].sum() == pytest.approx(1_577e6)  # the parts alone equal the parents: never both
    envelope = out.filter(pl.col("commitment_id") == "fin-us-osc-obbba-2025-lending-authority").row(
        0, named=True
    )
    assert not envelope["counted"] and "envelope" in envelope["not_counted_because"]


def test_the_tally_never_adds_one_currency_to_another() -> None:
    """No exchange rate is sourced, so the tally sums within a currency only: USD 100 + USD 50 and CAD 30 (all
    contracted) give two rows, committed/USD 150 and committed/CAD 30, and no figure of 180."""
    rows = [_row("a", 100.0, None), _row("b", 50.0, None), {**_row("c", 30.0, None), "currency": "CAD"}]
    out = tally(ledger(pl.DataFrame(rows, infer_schema_length=None)))
    assert out.select("stage", "currency", "amount", "commitments").rows() == [
        ("committed", "CAD", 30.0, 1),
        ("committed", "USD", 150.0, 2),
    ]
