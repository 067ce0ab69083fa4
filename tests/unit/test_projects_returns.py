"""NPV/IRR against published worked examples, and the social-dividend adjustment on a hand-worked case."""

from __future__ import annotations

import pytest

from lodeline.projects.returns import (
    Assumptions,
    SocialBenefits,
    irr,
    irr_all,
    npv,
    project_cash_flows,
    returns,
)


def test_brealey_myers_irr_example() -> None:
    """Brealey, Myers & Allen, Principles of Corporate Finance (ch. 5, the IRR rule): C0 = -4,000, C1 = +2,000,
    C2 = +4,000 has IRR 28.08 %; at 10 %, NPV = -4,000 + 2,000/1.1 + 4,000/1.21 = +1,123.97 (hand-worked)."""
    assert irr([-4000, 2000, 4000]) == pytest.approx(0.2808, abs=1e-4)
    assert npv(0.10, [-4000, 2000, 4000]) == pytest.approx(1123.97, abs=0.01)


def test_numpy_financial_documented_example() -> None:
    """numpy-financial's documentation of ``irr``: irr([-100, 39, 59, 55, 20]) = 0.28095 (28.09 %)."""
    assert irr([-100, 39, 59, 55, 20]) == pytest.approx(0.28095, abs=1e-5)


def test_no_sign_change_has_no_irr_and_multiple_roots_are_reported() -> None:
    assert irr([100, 50]) is None
    # -100 + 230x - 132x^2: x = 1/1.1 and 1/1.2 -> IRRs of 10 % and 20 %; the one closest to zero is returned
    assert irr_all([-100, 230, -132]) == pytest.approx([0.1, 0.2])
    assert irr([-100, 230, -132]) == pytest.approx(0.1)


def test_project_cash_flows_and_social_dividend_hand_worked() -> None:
    """Capex 100 over 1 construction year, capacity 10 t at price 10 and opex 40 per year, 2 operating years with
    ramp-up (0.5, 1.0): cash flows = [-100, 0.5×(100-40) = 30, 60]. At 10 %: NPV = -100 + 30/1.1 + 60/1.21 =
    -100 + 27.2727 + 49.5868 = -23.1405.
    Benefits: wages 20 per year at full output (scaled: 10, 20) and community payments 5 per operating year:
    extra = [0, 15, 25]. Social flows = [-100, 45, 85]; at 5 %: -100 + 42.8571 + 77.0975 = 19.9546; the financial
    flows at 5 % = -100 + 28.5714 + 54.4218 = -17.0068; dividend = 19.9546 + 17.0068 = 36.9615."""
    a = Assumptions(price_per_t=10, opex_per_year=40, construction_years=1, operating_years=2, rate=0.10,
                    social_rate=0.05, ramp_up=(0.5, 1.0))  # fmt: skip
    cf, util = project_cash_flows(100, 10, a)
    assert list(cf) == pytest.approx([-100, 30, 60])
    assert list(util) == [0.0, 0.5, 1.0]
    r = returns(100, 10, a, SocialBenefits(wages=20, community_payments=5))
    assert r.npv == pytest.approx(-23.1405, abs=1e-4)
    assert r.social_npv == pytest.approx(19.9546, abs=1e-4)
    assert r.social_dividend == pytest.approx(36.9615, abs=1e-4)
    assert r.irr is not None and r.irr < 0 < (r.social_irr or 0)
    plain = returns(100, 10, a)
    assert plain.social_npv is None and plain.npv == r.npv
