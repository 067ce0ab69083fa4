"""The result-shaping step by hand: what is noise (below 1e-6), what is kept, what a ratio of noise becomes."""

from __future__ import annotations

from lodeline.sim.shaping import assumptions, clean_report, clean_value, tolerance_text


def _report() -> dict:
    member = {"country": "DEU", "member": True, "demand_t": 6.6e-16, "shortfall_t": 1.9e-16,
              "shortfall_pct": 28.7, "worst_month_shortfall_pct": 50.0, "stock_draw_t": 3.7e-17,
              "days_of_cover_start": 20.4, "days_of_cover_end": 0.0}  # fmt: skip
    real = {**member, "country": "JPN", "demand_t": 9120.4, "shortfall_t": 2.5e-7, "shortfall_pct": 1e-9,
            "days_of_cover_start": 30.0}  # fmt: skip
    return {
        "members": [member, real],
        "monthly": [{"month": 1, "by_member": {"DEU": {"shortfall_t": -3e-15, "stock_end_t": 12.5}}}],
        "binding_nodes": [
            {"country": "CHN", "stage": "refining", "output_lost_t": 0.0, "exports_withheld_t": 4e-10},
            {"country": "COD", "stage": "mining", "output_lost_t": 100.0, "exports_withheld_t": 0.0},
        ],
        "duals": [{"month": 1, "constraint": "pool", "member": None, "value_per_tonne": 2e-12}],
        "lp_max_abs_diff": 2.2e-15,
        "price_multiple_max": 1.0000004,
        "notes": [
            "stocks: PLACEHOLDER ASSUMPTION: every member holds 30 days",
            "re-export hubs: 54 non-producing exporters",
            "days of cover use baseline consumption",
        ],
    }


def test_values_below_the_tolerance_are_zero_and_the_rest_unchanged() -> None:
    out = clean_report(_report())
    deu, jpn = out["members"]
    # noise: |x| < 1e-6 → 0 (negative noise too); a percentage of a zeroed demand is 0, its cover undefined
    assert deu["demand_t"] == 0.0 and deu["shortfall_t"] == 0.0 and deu["stock_draw_t"] == 0.0
    assert deu["shortfall_pct"] == 0.0 and deu["worst_month_shortfall_pct"] == 0.0
    assert deu["days_of_cover_start"] is None and deu["days_of_cover_end"] is None
    assert out["monthly"][0]["by_member"]["DEU"] == {"shortfall_t": 0.0, "stock_end_t": 12.5}
    # a real demand keeps its figures; its 2.5e-7 t shortfall (a quarter gram) and 1e-9 % are noise
    assert jpn["demand_t"] == 9120.4 and jpn["shortfall_t"] == 0.0 and jpn["shortfall_pct"] == 0.0
    assert jpn["days_of_cover_start"] == 30.0
    # rows that are only noise disappear; 1.0000004 is not noise (the floor is on magnitude, not on change)
    assert [b["country"] for b in out["binding_nodes"]] == ["COD"]
    assert out["duals"] == [] and out["lp_max_abs_diff"] == 0.0 and out["price_multiple_max"] == 1.0000004
    assert [a["kind"] for a in out["assumptions"]] == ["placeholder stocks", "re-export hubs"]


def test_helpers() -> None:
    assert clean_value([1e-7, -1e-7, 1e-6, "x", None, 3]) == [0.0, 0.0, 1e-6, "x", None, 3]
    assert tolerance_text() == "0.000001" and tolerance_text(0.5) == "0.5"
    assert assumptions(["PROXY: bilateral pattern of X used for Y"]) == [
        {"kind": "trade proxy", "text": "PROXY: bilateral pattern of X used for Y"}
    ]
