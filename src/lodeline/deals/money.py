"""Financing amounts with their nature and currency. PROVENANCE (policy_facts, December 2026): money is kept in the
currency the source states and never summed across rows; a pledge, the value of a project pipeline and technical
assistance are different things. :class:`Money` refuses to add amounts of different nature or currency, so no code
path can total them by accident."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lodeline.errors import InvalidArgumentError


class MixedMoneyError(InvalidArgumentError):
    code = "mixed-money"


@dataclass(frozen=True, slots=True)
class Money:
    amount: float
    currency: str | None  # None: the source states no currency
    nature: str  # pledge | pipeline value | technical assistance | unknown nature

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        if self.nature != other.nature or self.currency != other.currency or self.currency is None:
            raise MixedMoneyError(
                f"refusing to add {self.currency} {self.nature} to {other.currency} {other.nature}: financing "
                "amounts of different nature or currency (or with no stated currency) are never summed"
            )
        return Money(self.amount + other.amount, self.currency, self.nature)


def of(record: dict[str, Any]) -> Money | None:
    """The financing figure of an agreement row, or None where the row states none."""
    if record.get("financing_amount") is None:
        return None
    return Money(
        float(record["financing_amount"]),
        record.get("financing_currency"),
        record.get("financing_nature") or "unknown nature",
    )


def listing(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each stated figure on its own line (agreement, amount, currency, nature): the register shows no totals."""
    out = []
    for rec in records:
        money = of(rec)
        if money is not None:
            out.append(
                {"agreement_id": rec["agreement_id"], "amount": money.amount, "currency": money.currency,
                 "nature": money.nature}
            )  # fmt: skip
    return out
