"""Recycling monitor (pure): end-of-life recycling rates and recycled content per mineral, pipeline recycling
capacity against the EU CRMA 2030 benchmark (25 % of consumption from recycling) and the Battery Regulation's
recycled-content minimums (2031 and 2036). Gaps stay gaps: a mineral with no stated capacity or consumption has
no ratio, and says why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import polars as pl

from lodeline.errors import DataFormatError
from lodeline.projects.schema import Project, ProjectStage

#: the supplement to the targets file's Battery Regulation rows (``projects/data/``; PROVENANCE.txt there)
SUPPLEMENT_FILE = "battery_recycled_content.csv"
SUPPLEMENT_YEARS = (2031, 2036)
BENCHMARK_SHARE = 0.25  # CRMA Art. 5(1)(a)(iii): recycling capacity ≥ 25 % of annual EU consumption by 2030


def pipeline_capacity(projects: list[Project]) -> pl.DataFrame:
    """Per mineral: recycling projects, how many state a capacity convertible to contained metal, and its sum."""
    count: dict[str, int] = {}
    with_cap: dict[str, int] = {}
    total: dict[str, float] = {}
    missing: dict[str, list[str]] = {}
    for p in projects:
        if ProjectStage.RECYCLING not in p.stages:
            continue
        for m in p.minerals:
            count[m] = count.get(m, 0) + 1
            cap = p.capacity
            if cap is not None and cap.contained_t_per_year is not None and cap.mineral == m:
                with_cap[m] = with_cap.get(m, 0) + 1
                total[m] = total.get(m, 0.0) + cap.contained_t_per_year
            else:
                missing.setdefault(m, []).append(p.project_id)
    rows = [
        {
            "mineral": m,
            "recycling_projects": n,
            "with_capacity": with_cap.get(m, 0),
            "capacity_contained_t": total.get(m),
            "without_capacity": ";".join(missing.get(m, [])),
        }
        for m, n in count.items()
    ]
    schema = {"mineral": pl.String, "recycling_projects": pl.Int64, "with_capacity": pl.Int64,
              "capacity_contained_t": pl.Float64, "without_capacity": pl.String}  # fmt: skip
    return pl.DataFrame(rows, schema=schema).sort("mineral")


def battery_minimums(targets: pl.DataFrame) -> pl.DataFrame:
    """The Battery Regulation Art. 8 minimums from the targets table: 2031 from ``value``, 2036 from the note
    (``"26% from 2036"``). A 2036 figure the note does not state stays None."""
    rows = []
    for r in targets.iter_rows(named=True):
        if "Battery Regulation" not in (r["instrument"] or ""):
            continue
        later = re.search(r"(\d+(?:\.\d+)?)\s*%\s*from\s*(\d{4})", r["note"] or "")
        rows.append(
            {
                "mineral": (r["minerals"][0] if r["minerals"] else r["scope_raw"]),
                "min_2031_pct": r["value"],
                "min_2036_pct": float(later.group(1)) if later else None,
                "target_id": r["target_id"],
            }
        )
    return pl.DataFrame(rows, schema=MINIMUM_SCHEMA)


MINIMUM_SCHEMA = {
    "mineral": pl.String,
    "min_2031_pct": pl.Float64,
    "min_2036_pct": pl.Float64,
    "target_id": pl.String,
}


def parse_supplement(records: list[dict[str, str]], file: str = SUPPLEMENT_FILE) -> pl.DataFrame:
    """The sourced supplement rows (mineral, from_year, min_pct, provision, as_stated…) → one row per mineral in
    the :func:`battery_minimums` shape, ``target_id`` naming the provisions. An empty ``min_pct`` is a figure no
    stored source states: it stays None. A bad row raises :class:`DataFormatError` naming file, row and column."""
    by_mineral: dict[str, dict[str, object]] = {}
    for line, r in enumerate(records, start=2):
        mineral = (r.get("mineral") or "").strip()
        if not mineral:
            raise DataFormatError(file, "mineral is empty", row=line, column="mineral")
        try:
            year = int((r.get("from_year") or "").strip())
        except ValueError:
            raise DataFormatError(file, "from_year is not a year", row=line, column="from_year") from None
        if year not in SUPPLEMENT_YEARS:
            raise DataFormatError(
                file, f"from_year must be one of {SUPPLEMENT_YEARS}", row=line, column="from_year"
            )
        text = (r.get("min_pct") or "").strip()
        try:
            pct = float(text) if text else None
        except ValueError:
            raise DataFormatError(file, "min_pct is not a number", row=line, column="min_pct") from None
        if pct is not None and not 0 <= pct <= 100:
            raise DataFormatError(file, "min_pct must be within 0-100", row=line, column="min_pct")
        provision = (r.get("provision") or "").strip()
        if not provision or not (r.get("source_url") or "").strip():
            raise DataFormatError(
                file, "every row cites its provision and source_url", row=line, column="provision"
            )
        row = by_mineral.setdefault(mineral, {"mineral": mineral, "min_2031_pct": None, "min_2036_pct": None,
                                              "target_id": []})  # fmt: skip
        row[f"min_{year}_pct"] = pct
        ids = row["target_id"]
        assert isinstance(ids, list)
        ids.append(provision if pct is not None else f"{provision} (not verified)")
    rows = [{**v, "target_id": "; ".join(v["target_id"])} for v in by_mineral.values()]  # type: ignore[arg-type]
    return pl.DataFrame(rows, schema=MINIMUM_SCHEMA)


def with_supplement(minimums: pl.DataFrame, supplement: pl.DataFrame) -> pl.DataFrame:
    """The targets file's minimums plus the supplement's minerals the targets file lacks (never overriding it)."""
    have = set(minimums["mineral"].to_list())
    extra = supplement.filter(~pl.col("mineral").is_in(list(have)))
    return pl.concat([minimums.select(MINIMUM_SCHEMA.keys()), extra], how="vertical").sort("mineral")


def monitor(
    rates: pl.DataFrame, pipeline: pl.DataFrame, consumption_t: Mapping[str, float], minimums: pl.DataFrame
) -> pl.DataFrame:
    """One row per mineral with any figure: EoL-RIR (EU CRM 2023), UNEP 2011 EoL-RR and recycled content
    ranges, the pipeline's recycling capacity, the 25 % benchmark in tonnes and the share of it the pipeline
    covers (where consumption is known), and the battery recycled-content minimums."""
    minerals = sorted(
        set(rates["mineral"].drop_nulls().to_list())
        | set(pipeline["mineral"].to_list())
        | set(minimums["mineral"].to_list())
    )
    pipe = {r["mineral"]: r for r in pipeline.iter_rows(named=True)}
    mins = {r["mineral"]: r for r in minimums.iter_rows(named=True)}
    rows = []
    for m in minerals:
        sub = rates.filter(pl.col("mineral") == m)

        def pick(metric: str, col: str, sub: pl.DataFrame = sub) -> float | None:
            v = sub.filter(pl.col("metric") == metric)[col].drop_nulls()
            return float(v[0]) if len(v) else None

        p = pipe.get(m)
        cap = p["capacity_contained_t"] if p else None
        cons = consumption_t.get(m)
        bench = cons * BENCHMARK_SHARE if cons is not None else None
        if cap is None:
            why = (
                "no recycling project states a capacity convertible to contained metal"
                if p
                else "no recycling project in the register"
            )
        elif bench is None:
            why = "consumption not available for this mineral"
        else:
            why = None
        rows.append(
            {
                "mineral": m,
                "eol_rir_pct_eu2023": pick("eol_rir", "value_low"),
                "eol_rr_pct_unep2011_low": pick("eol_rr", "value_low"),
                "eol_rr_pct_unep2011_high": pick("eol_rr", "value_high"),
                "recycled_content_pct_unep2011_low": pick("recycled_content", "value_low"),
                "recycled_content_pct_unep2011_high": pick("recycled_content", "value_high"),
                "recycling_projects": p["recycling_projects"] if p else 0,
                "pipeline_capacity_t": cap,
                "consumption_t": cons,
                "benchmark_25pct_t": bench,
                "pipeline_share_of_benchmark": (cap / bench) if cap is not None and bench else None,
                "why_no_ratio": why,
                "battery_min_2031_pct": mins[m]["min_2031_pct"] if m in mins else None,
                "battery_min_2036_pct": mins[m]["min_2036_pct"] if m in mins else None,
                "battery_min_source": mins[m]["target_id"] if m in mins else None,
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)
