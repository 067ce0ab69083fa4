"""The release plan on a hand-worked two-member case (tests/data/release/two-member.yaml, -stocks.csv).

The case (t/month): CHN refines 100 (no spare), ships USA 60 and JPN 40. Months 1–2 CHN cuts exports by half, so
each month USA lacks 30 and JPN 20; month 3 is normal. No market pool (reroute 0), no fairness cap, priorities
USA 2 > JPN 1. The stocks file pools USA 20 t and JPN 40 t of gallium (its germanium row is skipped); with
``release_months: 1`` a member can draw its whole stock in one month.

Without release: shortfall USA 2 × 30 = 60, JPN 2 × 20 = 40.

Optimised (the engine's LP): month 1 supply 60 ≥ gap 50, all of it delivered; stocks drawn in holder order
(USA 20, then JPN 30). Month 2 only JPN's 10 t remain: they go to USA (weight 2). Shortfall USA 0 + 20 = 20,
JPN 0 + 20 = 20; release USA 20, JPN 40; avoided USA 40, JPN 20.

Pro rata to consumption (shares 0.6 / 0.4): month 1 needed 50 → USA min(20, 30) = 20, JPN min(40, 20) = 20;
supply 40 for a gap of 50 fills 80 %: unmet USA 6, JPN 4. Month 2 only JPN can draw: 20 t, 40 % filled: unmet
USA 18, JPN 12. Shortfall USA 24, JPN 16; avoided USA 36, JPN 24.

Duals of the optimised LP (value of one more tonne of right-hand side; ε_h = 0.001 × (1 + 0.01 h / 2) is the cost
of drawing holder h's stock, so ε_USA = 0.001, ε_JPN = 0.001005):
- month 1: balance = ε_JPN = 0.001005 (one more tonne of supply saves the dearest stock tonne drawn, JPN's);
  stock USA = ε_JPN − ε_USA = 0.000005 (a USA tonne replaces a dearer JPN tonne); stock JPN not binding (10 left).
- month 2: balance = w_USA = 2 (one more tonne goes to USA, the marginal receiver); stock JPN = 2 − ε_JPN =
  1.998995. (Market pool and USA stock have right-hand side 0 there: degenerate, their duals are not unique.)

Days of cover at baseline consumption (a month is 30.4375 days): USA 20 / (60 / 30.4375) = 10.146 days, JPN 40 /
(40 / 30.4375) = 30.4375 days; both 0 left once all is released.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lodeline.errors import DataFormatError, NotFoundError
from lodeline.inputs import read_yaml
from lodeline.services import release, sim
from lodeline.sim.scenario import Scenario
from lodeline.stockpiles.release import AlertStanding, parse_stock_rows, trigger_month
from lodeline.stockpiles.release_rules import ReleaseRulesError, bundled_rules, parse_rules

DATA = Path(__file__).resolve().parents[1] / "data" / "release"
DAYS = 365.25 / 12


def _scenario() -> Scenario:
    return sim.parse_data(read_yaml(DATA / "two-member.yaml", "scenario"), "two-member.yaml")


def _stocks() -> Any:
    return release.stock_rows_from_csv((DATA / "two-member-stocks.csv").read_text("utf-8"), "stocks.csv")


def _rules(**over: Any) -> Any:
    spec: dict[str, Any] = {"name": "test", "trigger": {"kind": "exercise"}, "release_months": 1, **over}
    return parse_rules(spec, "rules")


def _plan(**over: Any) -> dict[str, Any]:
    return release.plan(_scenario(), "two-member.yaml", _rules(**over), _stocks())


def _by_member(plan: dict[str, Any], key: str) -> dict[str, Any]:
    return {r["member"]: r[key] for r in plan["members"]}


def _dual(plan: dict[str, Any], month: int, constraint: str, member: str | None) -> float:
    found = [
        d["value_per_tonne"]
        for d in plan["duals"]
        if d["month"] == month and d["constraint"] == constraint and d["member"] == member
    ]
    assert len(found) == 1, plan["duals"]
    return float(found[0])


def test_optimised_plan_and_its_duals() -> None:
    plan = _plan(allocation="optimised")
    assert plan["triggered"] and plan["trigger_month"] == 1
    assert _by_member(plan, "release_t") == {"USA": 20.0, "JPN": 40.0}
    assert _by_member(plan, "shortfall_without_release_t") == {"USA": 60.0, "JPN": 40.0}
    assert _by_member(plan, "shortfall_with_release_t") == pytest.approx({"USA": 20.0, "JPN": 20.0})
    assert _by_member(plan, "shortfall_avoided_t") == pytest.approx({"USA": 40.0, "JPN": 20.0})
    assert plan["totals"]["shortfall_avoided_t"] == pytest.approx(60.0)
    assert _by_member(plan, "days_of_cover_start") == pytest.approx(
        {"USA": 20 / (60 / DAYS), "JPN": 40 / (40 / DAYS)}
    )
    assert _by_member(plan, "days_of_cover_left") == {"USA": 0.0, "JPN": 0.0}
    assert _dual(plan, 1, "balance", None) == pytest.approx(0.001005, abs=1e-9)
    assert _dual(plan, 1, "stock", "USA") == pytest.approx(0.000005, abs=1e-9)
    assert not [
        d for d in plan["duals"] if d["month"] == 1 and d["constraint"] == "stock" and d["member"] == "JPN"
    ]
    assert _dual(plan, 2, "balance", None) == pytest.approx(2.0, abs=1e-9)
    assert _dual(plan, 2, "stock", "JPN") == pytest.approx(1.998995, abs=1e-9)
    assert plan["lp_max_abs_diff"] == 0.0  # the engine's closed form and the HiGHS LP agree month by month
    month1 = {r["member"]: r["release_t"] for r in plan["monthly"] if r["month"] == 1}
    assert month1 == pytest.approx({"USA": 20.0, "JPN": 30.0})


def test_pro_rata_to_consumption_against_the_optimum() -> None:
    plan = _plan(allocation="pro_rata_consumption")
    assert _by_member(plan, "release_t") == pytest.approx({"USA": 20.0, "JPN": 40.0})
    assert _by_member(plan, "shortfall_with_release_t") == pytest.approx({"USA": 24.0, "JPN": 16.0})
    assert _by_member(plan, "shortfall_avoided_t") == pytest.approx({"USA": 36.0, "JPN": 24.0})
    # the optimised allocation under the same rules, for comparison, and its duals
    assert _by_member(plan, "shortfall_optimised_t") == pytest.approx({"USA": 20.0, "JPN": 20.0})
    assert _dual(plan, 2, "balance", None) == pytest.approx(2.0, abs=1e-9)
    month2 = {r["member"]: r["release_t"] for r in plan["monthly"] if r["month"] == 2}
    assert month2 == pytest.approx({"USA": 0.0, "JPN": 20.0})


def test_a_cap_changes_the_plan() -> None:
    """JPN may release at most half its stock (20 t). Optimised: month 1 supply 20 + 20 = 40 for a gap of 50; USA
    (weight 2) gets its 30, JPN 10; month 2 nothing is left. Shortfall USA 0 + 30 = 30, JPN 10 + 20 = 30; JPN keeps
    20 t = 20 / (40 / 30.4375) = 15.21875 days of cover."""
    plan = _plan(allocation="optimised", caps={"members": {"JPN": {"share_of_stock": 0.5}}})
    assert _by_member(plan, "releasable_t") == {"USA": 20.0, "JPN": 20.0}
    assert _by_member(plan, "release_t") == pytest.approx({"USA": 20.0, "JPN": 20.0})
    assert _by_member(plan, "shortfall_with_release_t") == pytest.approx({"USA": 30.0, "JPN": 30.0})
    assert _by_member(plan, "days_of_cover_left") == pytest.approx({"USA": 0.0, "JPN": 15.21875})
    # a tonnage cap of 5 t on USA instead: month 1 supply 5 + 40 = 45 → USA 30, JPN 15; month 2 JPN's 0 left
    # (all 40 drawn in month 1). Shortfall USA 0 + 30 = 30, JPN 5 + 20 = 25.
    plan = _plan(allocation="optimised", caps={"members": {"USA": {"tonnes": 5}}})
    assert _by_member(plan, "release_t") == pytest.approx({"USA": 5.0, "JPN": 40.0})
    assert _by_member(plan, "shortfall_with_release_t") == pytest.approx({"USA": 30.0, "JPN": 25.0})


def test_a_lead_time_changes_the_plan() -> None:
    """JPN's stock arrives two months after the trigger (month 3, when nothing is short). Month 1: USA's 20 t go
    to USA (unmet USA 10, JPN 20); month 2 nothing can be drawn (unmet 30, 20). Shortfall USA 40, JPN 40."""
    plan = _plan(allocation="optimised", lead_time={"members": {"JPN": 2}})
    assert _by_member(plan, "first_release_month") == {"USA": 1, "JPN": 3}
    assert _by_member(plan, "release_t") == pytest.approx({"USA": 20.0, "JPN": 0.0})
    assert _by_member(plan, "shortfall_with_release_t") == pytest.approx({"USA": 40.0, "JPN": 40.0})
    assert plan["lp_max_abs_diff"] == 0.0  # the LP re-solve sees the same lead-time gate as the engine
    # a one-month lead for everyone: nothing in month 1; month 2 supply 60 covers USA 30 and JPN 20
    plan = _plan(allocation="optimised", lead_time={"default_months": 1})
    assert _by_member(plan, "shortfall_with_release_t") == pytest.approx({"USA": 30.0, "JPN": 20.0})


def test_triggers_read_the_run_without_release() -> None:
    """Without release the alliance lacks 50 of its 100 t in months 1–2: a 50 % trigger fires in month 1, a 51 %
    one never. The price (elasticity −0.3, half the world short) hits the ×10 cap: a +800 % trigger fires."""
    fired = _plan(trigger={"kind": "shortfall_share", "share": 0.5})
    assert fired["trigger_month"] == 1
    quiet = _plan(trigger={"kind": "shortfall_share", "share": 0.51})
    assert not quiet["triggered"] and quiet["totals"]["release_t"] == 0.0
    assert quiet["totals"]["shortfall_with_release_t"] == 100.0
    assert _plan(trigger={"kind": "price_rise", "rise": 8.0})["trigger_month"] == 1
    trigger = _rules(trigger={"kind": "alert_level", "level": "warning"}).trigger
    standing = AlertStanding("gallium", 3, "open", "warning", "warning", "2026-11-02")
    assert trigger_month(trigger, [], [], "gallium", standing) == (
        0,
        "gallium: open alert #3 at warning (as of 2026-11-02) ≥ rule's warning: the release starts in month 1",
    )
    assert trigger_month(trigger, [], [], "gallium", replace(standing, level="alert"))[0] == 0
    assert trigger_month(trigger, [], [], "gallium", replace(standing, level="watch"))[0] is None
    assert trigger_month(trigger, [], [], "gallium", None)[0] is None


def test_pool_restricted_to_a_member_and_holder_types() -> None:
    """Only USA pools: JPN releases nothing; USA's 20 t cover USA in month 1 → shortfall USA 10 + 30, JPN 40."""
    plan = _plan(allocation="optimised", pool={"members": ["USA"]})
    assert _by_member(plan, "release_t") == pytest.approx({"USA": 20.0, "JPN": 0.0})
    assert _by_member(plan, "shortfall_with_release_t") == pytest.approx({"USA": 40.0, "JPN": 40.0})
    plan = _plan(pool={"holder_types": ["obligated_industry"]})
    assert plan["totals"]["pooled_t"] == 0.0 and plan["totals"]["stock_t"] == 60.0


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"trigger": {"kind": "shortfall_share"}}, "trigger"),
        ({"trigger": {"kind": "exercise"}, "allocation": "first_come"}, "allocation"),
        (
            {"trigger": {"kind": "exercise"}, "caps": {"default": {"share_of_stock": 1.5}}},
            "caps.default.share_of_stock",
        ),
        ({"trigger": {"kind": "exercise"}, "caps": {"members": {"XXX": {"tonnes": 1}}}}, "caps.members"),
        ({"trigger": {"kind": "exercise"}, "lead_time": {"default_months": -1}}, "lead_time.default_months"),
        ({"trigger": {"kind": "exercise"}, "pool": {"holder_types": ["private"]}}, "pool.holder_types.0"),
        ({"trigger": {"kind": "exercise"}, "budget": 3}, "budget"),
    ],
)
def test_bad_rules_name_the_field(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(ReleaseRulesError) as err:
        parse_rules({"name": "bad", **spec}, "bad.yaml")
    assert err.value.field == field
    assert "bad.yaml" in err.value.message


def test_rules_text_is_read_within_bounds() -> None:
    with pytest.raises(ReleaseRulesError, match="line"):
        release.rules_from_text("name: [unclosed", "upload")
    with pytest.raises(ReleaseRulesError, match="mapping"):
        release.rules_from_text("- a list", "upload")


@pytest.mark.parametrize(
    ("text", "row", "column"),
    [
        ("member,mineral,tonnes\nUSA,gallium,-1\n", 2, "tonnes"),
        ("member,mineral,tonnes\nUSA,gallium,20\nUSA,unobtainium,3\n", 3, "mineral"),
        ("member,mineral,tonnes\nUSA,gallium,abc\n", 2, "tonnes"),
        ("member,mineral,tonnes\nUSA,gallium,\n", 2, "tonnes"),
        ("member,mineral,tonnes\nZZZ,gallium,1\n", 2, "member"),
        ("member,mineral,tonnes,holder_type\nUSA,gallium,1,private\n", 2, "holder_type"),
        ("member,mineral\nUSA,gallium\n", 1, None),
    ],
)
def test_bad_stocks_rows_name_row_and_column(text: str, row: int, column: str | None) -> None:
    with pytest.raises(DataFormatError) as err:
        release.stock_rows_from_csv(text, "stocks.csv")
    assert (err.value.row, err.value.column) == (row, column)
    assert err.value.message.startswith("stocks.csv, row")


def test_stocks_that_do_not_fit_the_scenario_are_refused() -> None:
    scenario, rules = _scenario(), _rules()
    with pytest.raises(DataFormatError, match=r"row 3, column 'member'.*DEU is not an alliance member"):
        release.plan(
            scenario,
            "s",
            rules,
            release.stock_rows_from_csv(
                "member,mineral,tonnes\nUSA,gallium,1\nDEU,gallium,2\n", "stocks.csv"
            ),
            stocks_where="stocks.csv",
        )
    with pytest.raises(DataFormatError, match="no stock rows for gallium"):
        release.plan(
            scenario,
            "s",
            rules,
            parse_stock_rows([{"member": "USA", "mineral": "cobalt", "tonnes": 1}], "body", 1),
        )
    typed = _rules(pool={"holder_types": ["public_strategic"]})
    with pytest.raises(DataFormatError, match="row 1, column 'holder_type'"):
        release.plan(
            scenario,
            "s",
            typed,
            parse_stock_rows([{"member": "USA", "mineral": "gallium", "tonnes": 1}], "body", 1),
            first_row=1,
        )


def test_without_stocks_the_scenario_stocks_are_pooled_and_labelled() -> None:
    """The inline network holds no stock: the placeholder pool is empty and the plan says so."""
    plan = release.plan(_scenario(), "s", _rules(), None)
    assert plan["totals"]["release_t"] == 0.0
    assert any(a["kind"] == "placeholder stocks" for a in plan["assumptions"])


def test_bundled_rule_sets_are_valid() -> None:
    names = set(bundled_rules())
    assert {"iea-style", "optimised-exercise", "price-spike-shortfall"} <= names
    for row in release.list_rules():
        assert release.rules_named(str(row["name"])).name == row["title"]
    with pytest.raises(NotFoundError, match="iea-style"):
        release.rules_named("nope")
