"""NPV, IRR and the social-dividend-adjusted return of a project (pure numpy; docs/methods/projects.md).

Cash flows are yearly, year 0 first, discounted at the end of each year: NPV = Σ CF_t / (1 + r)^t. IRR is the
rate where NPV = 0, found as the real roots of the polynomial Σ CF_t x^t with x = 1 / (1 + r) (the approach of
numpy-financial); of several real IRRs (cash flows changing sign more than once) the one closest to zero is
returned and ``irr_count`` says how many there were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lodeline.errors import InvalidArgumentError

#: default real discount rates: a financial rate common in mining project evaluation, and the EU Better
#: Regulation Toolbox's social discount rate for the monetised local benefits. Members may supply their own.
FINANCIAL_RATE = 0.08
SOCIAL_RATE = 0.03
#: default ramp-up: share of nameplate capacity reached in the first operating years, then 100 %
RAMP_UP = (0.5, 0.8, 1.0)


def npv(rate: float, cash_flows: Sequence[float] | np.ndarray) -> float:
    if rate <= -1:
        raise InvalidArgumentError(f"discount rate {rate} must be above -100 %")
    cf = np.asarray(cash_flows, dtype=float)
    return float(np.sum(cf / (1.0 + rate) ** np.arange(cf.size)))


def irr_all(cash_flows: Sequence[float] | np.ndarray) -> list[float]:
    """Every real IRR above -100 % (sorted); empty when the flows never change sign."""
    cf = np.asarray(cash_flows, dtype=float)
    if cf.size < 2 or not (np.any(cf > 0) and np.any(cf < 0)):
        return []
    roots = np.roots(cf[::-1])  # polynomial in x, highest power first: CF_n x^n + … + CF_0
    real = roots[(np.abs(roots.imag) < 1e-10) & (roots.real > 0)].real
    return sorted(float(1.0 / x - 1.0) for x in real)


def irr(cash_flows: Sequence[float] | np.ndarray) -> float | None:
    rates = irr_all(cash_flows)
    return min(rates, key=abs) if rates else None


@dataclass(frozen=True)
class Assumptions:
    """The common deck (members may supply their own): price per tonne of contained metal (or LCE for lithium
    when ``per_lce``), opex per year at full capacity, construction and operating years, rates, ramp-up."""

    price_per_t: float
    opex_per_year: float
    construction_years: int = 2
    operating_years: int = 20
    rate: float = FINANCIAL_RATE
    social_rate: float = SOCIAL_RATE
    ramp_up: tuple[float, ...] = RAMP_UP


def project_cash_flows(capex: float, capacity_t: float, a: Assumptions) -> tuple[np.ndarray, np.ndarray]:
    """(financial cash flows, utilisation) by year: capex spread evenly over the construction years, then
    revenue (capacity × utilisation × price) less opex (scaled with utilisation) over the operating years."""
    if capex < 0 or capacity_t <= 0 or a.construction_years < 1 or a.operating_years < 1:
        raise InvalidArgumentError(
            "capex >= 0, capacity > 0, construction and operating years >= 1 are needed"
        )
    n = a.construction_years + a.operating_years
    util = np.zeros(n)
    ramp = list(a.ramp_up) + [1.0] * max(0, a.operating_years - len(a.ramp_up))
    util[a.construction_years :] = ramp[: a.operating_years]
    cf = util * (capacity_t * a.price_per_t - a.opex_per_year)
    cf[: a.construction_years] -= capex / a.construction_years
    return cf, util


@dataclass(frozen=True)
class SocialBenefits:
    """Documented, monetised local benefits per year at full output (same currency as the cash flows)."""

    local_value_added: float = 0.0  # local processing value added beyond the financial margin
    wages: float = 0.0  # local wages paid
    community_payments: float = 0.0  # community benefit agreement payments (not scaled with output)


@dataclass(frozen=True)
class Returns:
    npv: float
    irr: float | None
    irr_count: int
    social_npv: float | None
    social_irr: float | None
    social_dividend: float | None  # social_npv - financial NPV at the social rate

    def to_dict(self) -> dict[str, float | int | None]:
        return dict(self.__dict__)


def returns(
    capex: float, capacity_t: float, a: Assumptions, benefits: SocialBenefits | None = None
) -> Returns:
    """Financial NPV (at ``a.rate``) and IRR; with ``benefits``, the social-dividend-adjusted NPV (financial
    flows plus local benefits, at ``a.social_rate``), its IRR and the dividend itself."""
    cf, util = project_cash_flows(capex, capacity_t, a)
    base = Returns(npv(a.rate, cf), irr(cf), len(irr_all(cf)), None, None, None)
    if benefits is None:
        return base
    extra = util * (benefits.local_value_added + benefits.wages) + (util > 0) * benefits.community_payments
    social = cf + extra
    social_npv = npv(a.social_rate, social)
    return Returns(
        base.npv,
        base.irr,
        base.irr_count,
        social_npv,
        irr(social),
        social_npv - npv(a.social_rate, cf),
    )
