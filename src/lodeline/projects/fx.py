"""User-stated exchange rates for the commitments ledger: parse them, convert with them, never guess one.

Lodeline bundles no exchange rate it can cite, so amounts stay in their stated currency unless the user states the
rates. A rates table is CSV with the header ``currency,per_eur,date,source``: ``per_eur`` is units of the currency
per 1 EUR (the ECB reference-rate convention), ``date`` the day the rate is for (ISO 8601), ``source`` a citation or
URL (required). EUR itself is 1 per EUR by definition; every other currency, the target included, must be stated.

An amount ``a`` in currency ``C`` is ``a / per_eur[C] * per_eur[T]`` in the target ``T``. A converted amount carries
the rate(s), date(s) and source(s) used; an amount whose currency has no stated rate stays unconverted and is named
as left out of the converted total. Pure: text in, frames out (the service reads the file).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from lodeline.errors import InvalidArgumentError
from lodeline.inputs import Bounds, InputRejected, decode_text

HEADER = ("currency", "per_eur", "date", "source")
#: a rates file is small: a rate per currency
MAX_BYTES = 256 * 1024
MAX_RATES = 500
MAX_SOURCE = 1000
#: a sanity range, not a rate: keeps every converted amount finite (far wider than any currency's rate)
MIN_PER_EUR, MAX_PER_EUR = 1e-6, 1e9
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, slots=True)
class Rate:
    currency: str
    per_eur: float
    date: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "per_eur": self.per_eur, "date": self.date, "source": self.source}


#: EUR per EUR is 1 by definition (not a stated figure; no source needed)
EUR = Rate("EUR", 1.0, "", "definition: 1 EUR = 1 EUR")


@dataclass(frozen=True, slots=True)
class RateTable:
    """The stated rates by currency and the target currency of the conversion."""

    rates: Mapping[str, Rate]
    to: str = "EUR"
    where: str = "rates"

    def rate(self, currency: str | None) -> Rate | None:
        if currency == "EUR":
            return self.rates.get("EUR", EUR)
        return self.rates.get(currency) if currency else None


def _reject(source: str, row: int, field: str, reason: str) -> InvalidArgumentError:
    where = f"{source}: row {row}, field {field}" if row else f"{source}: {field}"
    return InvalidArgumentError(f"{where}: {reason}", file=source, row=row, field=field)


def check_rate(raw: Mapping[str, Any], source: str, row: int) -> Rate:
    """One stated rate, validated; errors name ``source``, the row and the field."""
    currency = str(raw.get("currency") or "").strip().upper()
    if not _CURRENCY.match(currency):
        raise _reject(
            source, row, "currency", f"{str(raw.get('currency'))[:40]!r} is not a 3-letter ISO 4217 code"
        )
    text = str(raw.get("per_eur") if raw.get("per_eur") is not None else "").strip()
    try:
        per_eur = float(text[:64]) if len(text) <= 64 else math.nan
    except ValueError:
        raise _reject(source, row, "per_eur", f"{text[:40]!r} is not a number") from None
    if not math.isfinite(per_eur) or per_eur <= 0:
        raise _reject(source, row, "per_eur", f"{text[:40]!r}: a rate must be a finite number above 0")
    if not MIN_PER_EUR <= per_eur <= MAX_PER_EUR:
        raise _reject(
            source, row, "per_eur", f"{text[:40]!r}: outside {MIN_PER_EUR:g} to {MAX_PER_EUR:g} per EUR"
        )
    if currency == "EUR" and per_eur != 1.0:
        raise _reject(source, row, "per_eur", "EUR is 1 per EUR by definition")
    day = str(raw.get("date") or "").strip()
    try:
        date.fromisoformat(day[:10] if len(day) == 10 else "x")
    except ValueError:
        raise _reject(source, row, "date", f"{day[:40]!r} is not a date (YYYY-MM-DD)") from None
    cite = str(raw.get("source") or "").strip()
    if not cite:
        raise _reject(source, row, "source", "a citation or URL is required for every rate")
    if len(cite) > MAX_SOURCE:
        raise _reject(source, row, "source", f"longer than {MAX_SOURCE} characters")
    return Rate(currency, per_eur, day, cite)


def table(rates: Iterable[tuple[int, Mapping[str, Any]]], source: str, to: str = "EUR") -> RateTable:
    """Rates (row number, fields) → a table; a currency stated twice, or a target with no rate, is refused."""
    out: dict[str, Rate] = {}
    for row, raw in rates:
        rate = check_rate(raw, source, row)
        if rate.currency in out:
            raise _reject(source, row, "currency", f"{rate.currency} is stated twice")
        out[rate.currency] = rate
        if len(out) > MAX_RATES:
            raise _reject(source, row, "*", f"more than {MAX_RATES} rates")
    target = (to or "").strip().upper()
    if not _CURRENCY.match(target):
        raise InvalidArgumentError(f"--to {to[:40]!r}: not a 3-letter ISO 4217 code", field="to")
    if target != "EUR" and target not in out:
        raise InvalidArgumentError(f"{source}: no rate stated for the target currency {target}", file=source)
    return RateTable(out, target, source)


def parse_rates(raw: str | bytes, source: str, to: str = "EUR") -> RateTable:
    """A rates CSV (``currency,per_eur,date,source``), bounded: at most 256 KiB and 500 rates."""
    try:
        text = decode_text(raw, Bounds(max_bytes=MAX_BYTES))
    except InputRejected as exc:
        raise _reject(source, 0, "file", exc.reason) from None
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        first = next(reader, None)
        if first is None:
            raise _reject(source, 1, "*", "the file is empty")
        names = [c.strip().lower() for c in first]
        if tuple(names) != HEADER:
            raise _reject(source, 1, "header", f"the header must be {','.join(HEADER)}")
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(HEADER):
                raise _reject(source, reader.line_num, "*", f"{len(cells)} cells, expected {len(HEADER)}")
            rows.append((reader.line_num, dict(zip(HEADER, cells, strict=True))))
            if len(rows) > MAX_RATES:
                raise _reject(source, reader.line_num, "*", f"more than {MAX_RATES} rates")
    except csv.Error as exc:
        raise _reject(source, reader.line_num, "*", f"not valid CSV ({exc})") from None
    return table(rows, source, to)


def convert(
    amount: float | None, currency: str | None, rates: RateTable
) -> tuple[float | None, str | None, str]:
    """(converted amount, why not, how): ``amount / per_eur[currency] * per_eur[target]``, or None and the reason."""
    if amount is None:
        return None, "no amount stated", ""
    if currency is None:
        return None, "no currency stated", ""
    have = rates.rate(currency)
    if have is None:
        return None, f"no rate stated for {currency}", ""
    target = rates.rate(rates.to)
    assert target is not None  # table() refuses a target without a rate
    value = amount / have.per_eur * target.per_eur
    used = [r for r in dict.fromkeys((have, target)) if r is not EUR]
    how = (
        "; ".join(f"{r.per_eur:g} {r.currency}/EUR on {r.date} ({r.source})" for r in used)
        or "EUR, no rate needed"
    )
    return value, None, how


def convert_ledger(frame: pl.DataFrame, rates: RateTable) -> pl.DataFrame:
    """The ledger with ``converted_amount`` (in ``converted_currency``), the ``rate_used`` (rates, dates, sources)
    and ``not_converted_because`` per row."""
    values, whys, hows = [], [], []
    for r in frame.iter_rows(named=True):
        value, why, how = convert(r["amount"], r["currency"], rates)
        values.append(value)
        whys.append(why)
        hows.append(how or None)
    return frame.with_columns(
        pl.Series("converted_amount", values, dtype=pl.Float64),
        pl.lit(rates.to).alias("converted_currency"),
        pl.Series("rate_used", hows, dtype=pl.String),
        pl.Series("not_converted_because", whys, dtype=pl.String),
    )


def converted_total(frame: pl.DataFrame, rates: RateTable) -> dict[str, Any]:
    """The counted rows of a converted ledger summed in the target currency; rows whose currency has no stated
    rate are left out and named (the total is then partial, ``complete`` false)."""
    counted = frame.filter(pl.col("counted"))
    done = counted.filter(pl.col("converted_amount").is_not_null())
    left = counted.filter(pl.col("converted_amount").is_null())
    left_out = [
        {"commitment_id": r["commitment_id"], "amount": r["amount"], "currency": r["currency"],
         "why": r["not_converted_because"]}
        for r in left.iter_rows(named=True)
    ]  # fmt: skip
    used = sorted({c for c in done["currency"].to_list() if c})
    return {
        "currency": rates.to,
        "amount": float(done["converted_amount"].sum()) if done.height else 0.0,
        "commitments": done.height,
        "complete": not left_out,
        "left_out": left_out,
        "note": (
            f"{len(left_out)} counted amount(s) left out: no rate stated for "
            f"{', '.join(sorted({str(x['currency']) for x in left_out}))}"
            if left_out
            else "every counted amount converted"
        ),
        "rates": [r.to_dict() for r in rates.rates.values() if r.currency in used or r.currency == rates.to],
    }


def stated_note(rates: RateTable) -> str:
    return (
        f"converted_amount in {rates.to} with the rates the user stated ({rates.where}): amount / per_eur[currency]"
        f" * per_eur[{rates.to}]; an amount whose currency has no stated rate is not converted (never guessed)"
    )


def with_converted(
    summary: dict[str, Any], ledger_frame: pl.DataFrame, rates: RateTable, headline_eur_bn: float | None
) -> dict[str, Any]:
    """The commitments summary with the converted bottom-up totals and, when every counted amount since 2026
    could be converted, the G7 headline difference on the converted (EUR) total; else why not."""
    since = ledger_frame.filter(pl.col("first_date").is_not_null() & (pl.col("first_date") >= "2026-01-01"))
    to_eur = RateTable(rates.rates, "EUR", rates.where)
    in_eur = converted_total(convert_ledger(since.drop(_ADDED, strict=False), to_eur), to_eur)
    difference = dict(summary["difference"])
    if headline_eur_bn is None:
        why: str | None = "the headline states no amount"
    elif not in_eur["complete"]:
        why = f"not computed on the converted total: {in_eur['note']}"
    else:
        why = None
        difference["investment_eur_bn"] = round(headline_eur_bn - in_eur["amount"] / 1e9, 3)
        difference["investment_basis"] = (
            "G7 EUR headline minus the converted bottom-up total since 2026 (EUR)"
        )
    difference["investment_why"] = why
    return {
        **summary,
        "converted": {
            "since_2026": converted_total(since, rates),
            "all_years": converted_total(ledger_frame, rates),
            "since_2026_eur_for_headline": in_eur,
        },
        "difference": difference,
        "currencies": stated_note(rates),
    }


_ADDED = ["converted_amount", "converted_currency", "rate_used", "not_converted_because"]
