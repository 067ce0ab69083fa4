"""Disclosure control on hand-worked tables (docs/methods/disclosure-control.md).

Single-cell tables (one mineral, group and form: the interior cell and its seven margins are equal) test each primary
rule just inside and just outside its threshold; a 3 × 3 table tests secondary suppression and the audit."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lodeline.stockpiles.disclosure import (
    CONFIDENTIAL,
    DisclosureAuditError,
    DisclosureInputError,
    DisclosureRules,
    audit,
    protect,
)
from lodeline.stockpiles.disclosure_table import build_table
from lodeline.stockpiles.primary import primary_suppression


def one_cell(tonnes: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "mineral": "Li",
            "group": "G",
            "form": "carbonate",
            "member": [f"m{i}" for i in range(len(tonnes))],
            "tonnes": [float(t) for t in tonnes],
        }
    )


def first_cell(tonnes: list[float], rules: DisclosureRules) -> tuple[bool, str | None, float, float]:
    """(sensitive, rule, upper, lower) of the interior cell (cell 0)."""
    table = build_table(one_cell(tonnes), rules.dominance_n)
    result = primary_suppression(table, rules)
    return bool(result.sensitive[0]), result.rule[0], float(result.upper[0]), float(result.lower[0])


def test_minimum_frequency_just_inside_and_outside() -> None:
    """min_frequency = 4, contributors 40, 35, 30 (X = 105): 3 < 4 → sensitive, protection 10 % · 105 = 10.5.
    Dominance does not fire (75/105 = 71 % ≤ 85 %), nor p% (R = 30 ≥ 10 % · 40 = 4).
    Four contributors 40, 35, 30, 1 → 4 is not < 4: not sensitive."""
    rules = DisclosureRules(min_frequency=4)
    assert first_cell([40, 35, 30], rules) == (True, "frequency", pytest.approx(10.5), pytest.approx(10.5))
    assert first_cell([40, 35, 30, 1], rules) == (False, None, 0.0, 0.0)


def test_dominance_just_inside_and_outside() -> None:
    """(2, 85): 50, 36, 14 (X = 100): 86 > 85 → sensitive, protection 100/85 · 86 − 100 = 1.17647…
    (p% does not fire: R = 14 ≥ 5). 50, 35, 15: 85 is not over 85 % → not sensitive."""
    rules = DisclosureRules()
    assert first_cell([50, 36, 14], rules) == (
        True,
        "dominance",
        pytest.approx(86 / 0.85 - 100),
        pytest.approx(86 / 0.85 - 100),
    )
    assert first_cell([50, 35, 15], rules) == (False, None, 0.0, 0.0)


def test_p_percent_just_inside_and_outside() -> None:
    """p = 10, dominance off (k = 100): 50, 20, 2.5, 2.4: R = 4.9 < 10 % · 50 = 5 → sensitive, protection
    5 − 4.9 = 0.1. 50, 20, 2.6, 2.5: R = 5.1 ≥ 5 → not sensitive."""
    rules = DisclosureRules(dominance_k=100)
    sensitive, rule, upper, lower = first_cell([50, 20, 2.5, 2.4], rules)
    assert (sensitive, rule) == (True, "p%")
    assert upper == pytest.approx(0.1) and lower == pytest.approx(0.1)
    assert first_cell([50, 20, 2.6, 2.5], rules) == (False, None, 0.0, 0.0)


def test_zero_cell_is_not_sensitive_and_lower_is_capped() -> None:
    """A cell of 0 t with one contributor is not sensitive (τ-Argus' zero-cell default). One contributor of 10 t:
    dominance asks 100/85 · 10 − 10 = 1.7647 above; below, also 1.7647 (≤ 10, so not capped). With k = 5 the
    demand above is 100/5 · 10 − 10 = 190, below capped at the value, 10."""
    assert first_cell([0.0], DisclosureRules())[0] is False
    assert first_cell([10.0], DisclosureRules(dominance_k=5)) == (True, "dominance", pytest.approx(190), 10.0)


# The 3 × 3 table (one form, so every cell equals its form total). Interior values, each cell from three members
# with equal shares except (A, G1), which one member holds alone:
#        G1   G2   G3
#   A    10   50   30
#   B    40   20   60
#   C    70   80   25
TABLE = {("A", "G1"): 10, ("A", "G2"): 50, ("A", "G3"): 30, ("B", "G1"): 40, ("B", "G2"): 20, ("B", "G3"): 60,
         ("C", "G1"): 70, ("C", "G2"): 80, ("C", "G3"): 25}  # fmt: skip


def three_by_three() -> pl.DataFrame:
    rows = []
    for (mineral, group), value in TABLE.items():
        members = ["solo"] if (mineral, group) == ("A", "G1") else ["m1", "m2", "m3"]
        rows += [(mineral, group, "bar", m, float(value) / len(members)) for m in members]
    return pl.DataFrame(rows, schema=["mineral", "group", "form", "member", "tonnes"], orient="row")


def test_secondary_suppression_chooses_the_cheapest_rectangle() -> None:
    """(A, G1) is the only sensitive cell (one contributor of 10: dominance, protection 100/85 · 10 − 10 = 1.76).
    A rectangle through it costs the tonnes of its three other corners: via (B, G2) 50 + 40 + 20 = 110, (C, G3)
    30 + 70 + 25 = 125, (B, G3) 30 + 40 + 60 = 130, (C, G2) 50 + 70 + 80 = 200; the cheapest is (A,G2), (B,G1),
    (B,G2). Each interior cell and its form total ("ALL") are the same figure, so both are withheld: 8 cells.
    Intruder: A1 + A2 = 60, B1 + B2 = 60, A1 + B1 = 50, A2 + B2 = 70 give A1 = t, A2 = 60 − t, B1 = 50 − t,
    B2 = 10 + t with t ∈ [0, 50]: the audit interval of (A, G1) is [0, 50] ⊇ [10 − 1.76, 10 + 1.76]."""
    protected = protect(three_by_three())
    frame = protected.frame
    withheld = frame.filter(pl.col("tonnes").is_null())
    assert sorted(set(withheld.select("mineral", "group").rows())) == [
        ("A", "G1"),
        ("A", "G2"),
        ("B", "G1"),
        ("B", "G2"),
    ]
    assert withheld.height == 8 and set(withheld["flag"]) == {CONFIDENTIAL}
    assert sorted(withheld["status"].to_list()) == ["primary"] * 2 + ["secondary"] * 6
    assert frame.filter(pl.col("flag").is_null())["tonnes"].null_count() == 0
    loss = protected.information_loss
    assert (loss.cells, loss.tonnes, loss.secondary_tonnes) == (8, 2 * 120.0, 2 * 110.0)
    a1 = protected.audit.cells.filter((pl.col("mineral") == "A") & (pl.col("group") == "G1"))
    assert a1["lower"].to_list() == pytest.approx([0.0, 0.0], abs=1e-6)
    assert a1["upper"].to_list() == pytest.approx([50.0, 50.0])
    assert protected.audit.passed and a1["exact"].all()


def under_protected_frame() -> pl.DataFrame:
    """The true 3 × 3 table with margins, only the primary cell (A, G1) and its form total withheld."""
    protected = protect(three_by_three())
    truth = protected.frame.with_columns(
        pl.struct("mineral", "group")
        .map_elements(
            lambda r: float(
                sum(
                    v
                    for (m, g), v in TABLE.items()
                    if r["mineral"] in (m, "ALL") and r["group"] in (g, "ALL")
                )
            ),
            return_dtype=pl.Float64,
        )
        .alias("true")
    )
    keep = (truth["mineral"] == "A") & (truth["group"] == "G1")
    return truth.with_columns(pl.when(keep).then(None).otherwise(pl.col("true")).alias("tonnes")).drop("true")


def test_audit_fails_when_only_the_primary_cell_is_withheld() -> None:
    """With (A, G1) withheld but its row published, A1 = A-total 90 − 50 − 30 = 10 exactly: interval [10, 10],
    narrower than the 1.76 demanded either side → not ok."""
    report = audit(under_protected_frame(), three_by_three())
    assert not report.passed
    bad = report.failures
    assert set(bad.select("mineral", "group").rows()) == {("A", "G1")}
    assert bad["lower"].to_list() == pytest.approx([10.0, 10.0]) and bad["upper"].to_list() == pytest.approx(
        [10.0, 10.0]
    )


def test_audit_passes_on_what_protect_published_and_refuses_a_wrong_figure() -> None:
    """The standalone audit reproduces protect's verdict from the frame; a published figure that is not the total
    of the contributions is an error naming the cell."""
    protected = protect(three_by_three())
    assert audit(protected.frame, three_by_three()).passed
    tampered = protected.frame.with_columns(
        pl.when((pl.col("mineral") == "C") & (pl.col("group") == "G3") & (pl.col("form") == "bar"))
        .then(26.0)
        .otherwise(pl.col("tonnes"))
        .alias("tonnes")
    )
    with pytest.raises(DisclosureInputError, match=r"\('C', 'G3', 'bar'\) is not the total"):
        audit(tampered, three_by_three())


def test_protect_refuses_nothing_it_cannot_protect_by_raising() -> None:
    """The audit error carries the report; it is raised by protect when the audit fails, shown here directly."""
    report = audit(under_protected_frame(), three_by_three())
    error = DisclosureAuditError(report)
    assert "FAILED (2 cell(s) under-protected)" in str(error) and error.report is report


def test_a_cell_suppressed_last_period_stays_suppressed() -> None:
    """(C, G3) was primary last period; now it has three equal contributors (not sensitive) but it is carried:
    withheld with rule "carried" and protection 10 % · 25 = 2.5 either side."""
    previous = protect(three_by_three()).frame.with_columns(
        pl.when((pl.col("mineral") == "C") & (pl.col("group") == "G3"))
        .then(pl.lit("primary"))
        .otherwise(pl.col("status"))
        .alias("status")
    )
    protected = protect(three_by_three(), previous=previous)
    c3 = protected.frame.filter((pl.col("mineral") == "C") & (pl.col("group") == "G3"))
    assert c3["status"].to_list() == ["primary", "primary"] and c3["rule"].to_list() == ["carried", "carried"]
    assert c3["tonnes"].null_count() == 2
    row = protected.audit.cells.filter((pl.col("mineral") == "C") & (pl.col("group") == "G3"))
    assert row["required_upper"].to_list() == pytest.approx([2.5, 2.5]) and row["ok"].all()
    assert audit(protected.frame, three_by_three()).passed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop("member"), r"missing column\(s\) \['member'\]"),
        (
            lambda f: f.with_columns(pl.lit(-1.0).alias("tonnes")),
            r"row 1, column 'tonnes': -1.0 is not a finite",
        ),
        (lambda f: f.with_columns(pl.lit("ALL").alias("form")), r"row 1, column 'form': 'ALL' is reserved"),
        (lambda f: pl.concat([f, f.head(1)]), r"rows \[1, 26\]: member 'solo' appears more than once"),
    ],
)
def test_bad_contributions_name_row_and_column(change, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DisclosureInputError, match=message):
        protect(change(three_by_three()))


def test_rules_from_yaml_per_table_and_bad_settings() -> None:
    text = "default: {p_percent: 15}\ntables:\n  stocks-by-form: {min_frequency: 5, dominance_k: 90}\n"
    assert DisclosureRules.from_yaml(text, table="stocks-by-form") == DisclosureRules(
        min_frequency=5, dominance_k=90
    )
    assert DisclosureRules.from_yaml(text, table="other").p_percent == 15
    assert DisclosureRules.from_yaml("").min_frequency == 3
    with pytest.raises(DisclosureInputError, match=r"tables.t: min_frequncy: Extra inputs"):
        DisclosureRules.from_yaml("tables: {t: {min_frequncy: 2}}", table="t")
    with pytest.raises(DisclosureInputError, match=r"dominance_k: Input should be less than or equal to 100"):
        DisclosureRules.from_mapping({"dominance_k": 120})


def test_defaults_are_the_documented_ones() -> None:
    rules = DisclosureRules()
    assert (rules.min_frequency, rules.dominance_n, rules.dominance_k, rules.p_percent) == (3, 2, 85, 10)
    assert np.isclose(rules.frequency_range, 10)
