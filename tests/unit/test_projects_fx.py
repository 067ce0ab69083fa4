"""User-stated exchange rates for the commitments ledger: the conversion by hand, a currency without a rate left
out (never guessed), and bad rates files refused with the row and field named."""

from __future__ import annotations

import polars as pl
import pytest

from lodeline.errors import InvalidArgumentError
from lodeline.projects import fx
from lodeline.projects.commitments import ledger

RATES = """currency,per_eur,date,source
USD,1.25,2026-01-02,https://example.org/usd
CAD,1.6,2026-01-02,Bank of Canada table (test)
"""


def _row(cid: str, amount: float | None, currency: str, parent: str | None = None) -> dict[str, object]:
    return {
        "commitment_id": cid, "provider": "p", "provider_jurisdiction": "X", "instrument": "grant",
        "value_role": "commitment", "recipient": "r", "project": cid, "amount": amount, "currency": currency,
        "amount_qualifier": "exact", "first_status": "announced", "first_status_date": "2026-01-02",
        "latest_status": "contracted", "latest_status_date": "2026-02-01", "parent_id": parent,
    }  # fmt: skip


def _ledger(rows: list[dict[str, object]]) -> pl.DataFrame:
    return ledger(pl.DataFrame(rows, schema_overrides={"amount": pl.Float64}, infer_schema_length=None))


def test_hand_worked_conversion_to_eur_and_to_usd() -> None:
    """USD 100 at 1.25 USD/EUR = 100 / 1.25 = EUR 80; CAD 40 at 1.6 CAD/EUR = 40 / 1.6 = EUR 25; EUR 10 stays 10;
    total EUR 115. Its part (USD 60, parent a) is never added. To USD: 80 * 1.25 = 100, 25 * 1.25 = 31.25,
    10 * 1.25 = 12.5; total USD 143.75."""
    frame = _ledger([_row("a", 100.0, "USD"), _row("a-1", 60.0, "USD", "a"), _row("b", 40.0, "CAD"),
                     _row("c", 10.0, "EUR")])  # fmt: skip
    rates = fx.parse_rates(RATES, "r.csv")
    out = fx.convert_ledger(frame, rates)
    by_id = {r["commitment_id"]: r for r in out.iter_rows(named=True)}
    assert by_id["a"]["converted_amount"] == pytest.approx(80.0)
    assert by_id["b"]["converted_amount"] == pytest.approx(25.0)
    assert by_id["c"]["converted_amount"] == pytest.approx(10.0)
    assert by_id["a"]["rate_used"] == "1.25 USD/EUR on 2026-01-02 (https://example.org/usd)"
    total = fx.converted_total(out, rates)
    assert total["amount"] == pytest.approx(115.0) and total["complete"] and total["commitments"] == 3
    to_usd = fx.parse_rates(RATES, "r.csv", to="usd")
    total_usd = fx.converted_total(fx.convert_ledger(frame, to_usd), to_usd)
    assert total_usd["currency"] == "USD" and total_usd["amount"] == pytest.approx(143.75)
    assert "1.6 CAD/EUR" in fx.convert_ledger(frame, to_usd).row(2, named=True)["rate_used"]


def test_a_currency_without_a_rate_is_left_out_and_named() -> None:
    """GBP 50 has no stated rate: it stays unconverted, the total is USD 100 / 1.25 = EUR 80 only, partial."""
    frame = _ledger([_row("a", 100.0, "USD"), _row("g", 50.0, "GBP")])
    rates = fx.parse_rates(RATES, "r.csv")
    out = fx.convert_ledger(frame, rates)
    g = out.filter(pl.col("commitment_id") == "g").row(0, named=True)
    assert g["converted_amount"] is None and g["not_converted_because"] == "no rate stated for GBP"
    total = fx.converted_total(out, rates)
    assert total["amount"] == pytest.approx(80.0) and not total["complete"]
    assert total["left_out"] == [{"commitment_id": "g", "amount": 50.0, "currency": "GBP",
                                  "why": "no rate stated for GBP"}]  # fmt: skip
    assert "GBP" in total["note"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("currency,per_eur,date,source\nUSD,0,2026-01-02,x\n", "row 2, field per_eur"),
        ("currency,per_eur,date,source\nUSD,-1.1,2026-01-02,x\n", "row 2, field per_eur"),
        ("currency,per_eur,date,source\nUSD,nan,2026-01-02,x\n", "row 2, field per_eur"),
        ("currency,per_eur,date,source\nUSD,inf,2026-01-02,x\n", "row 2, field per_eur"),
        ("currency,per_eur,date,source\nUSD,1e-300,2026-01-02,x\n", "row 2, field per_eur"),
        ("currency,per_eur,date,source\nUSD,abc,2026-01-02,x\n", "row 2, field per_eur"),
        ("currency,per_eur,date,source\nUSD,1.1,2026-01-02,\n", "row 2, field source"),
        ("currency,per_eur,date,source\nUSD,1.1,02/01/2026,x\n", "row 2, field date"),
        (
            "currency,per_eur,date,source\nUSD,1.1,2026-01-02,x\nEUR,1,2026-01-02,x\nusd,1.2,2026-01-03,y\n",
            "row 4, field currency",
        ),
        ("currency,per_eur,date,source\nDOLLAR,1.1,2026-01-02,x\n", "row 2, field currency"),
        ("currency,per_eur,date,source\nUSD,1.1,2026-01-02\n", "row 2, field *"),
        ("currency,rate,date,source\nUSD,1.1,2026-01-02,x\n", "row 1, field header"),
        ("", "row 1, field *"),
        ("currency,per_eur,date,source\nEUR,2,2026-01-02,x\n", "row 2, field per_eur"),
    ],
)
def test_bad_rates_files_name_the_row_and_field(text: str, where: str) -> None:
    with pytest.raises(InvalidArgumentError) as err:
        fx.parse_rates(text, "bad.csv")
    assert err.value.message.startswith(f"bad.csv: {where}:")


def test_a_target_without_a_rate_and_oversized_or_binary_files_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="no rate stated for the target currency JPY"):
        fx.parse_rates(RATES, "r.csv", to="JPY")
    with pytest.raises(InvalidArgumentError, match="larger than"):
        fx.parse_rates(b"x" * (fx.MAX_BYTES + 1), "big.csv")
    with pytest.raises(InvalidArgumentError, match="not UTF-8"):
        fx.parse_rates(b"\xff\xfe\x00", "bin.csv")
