"""The whole EU-method assessment: frames in, one row per material out (with reasons, inputs and provenance).

:func:`compile_assessment` turns the parameter, share, trade-factor and governance frames into a
:class:`~lodeline.risk.eu_method.SupplyRiskModel` plus, per (material, stage), the reason it cannot be
computed (if any) and the inputs it used. :func:`assessment_table` evaluates the deterministic case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from lodeline.risk import EI_THRESHOLD, INSUFFICIENT, SR_THRESHOLD
from lodeline.risk.eu_method import BASIS_BOTH, BASIS_CODES, BASIS_EU, BASIS_GS, SCOPES, SupplyRiskModel
from lodeline.risk.governance import GovernanceMatrix, governance_matrix

EI_MISSING_NOTE = "no published EI in the EU 2023 inputs and no --end-uses/--value-added for this material"
#: Lodeline never reports the EC's published SR: every SR it shows is its own computation.
SR_SOURCE = "computed (Lodeline, bundled data; not the EC's published SR)"


@dataclass
class CompiledAssessment:
    model: SupplyRiskModel
    minerals: list[str | None]
    reasons: list[str | None]  # per item: why SR cannot be computed (None = computable)
    inputs: list[dict[str, Any]]  # per item: the inputs used
    provenance: dict[str, set[str]] = field(default_factory=dict)  # per material
    governance: GovernanceMatrix | None = None
    reported_stage: dict[str, str] = field(default_factory=dict)  # per material: which stage `sr` is, and why
    flags: dict[str, list[str]] = field(
        default_factory=dict
    )  # per material: data caveats shown in the output


def _reported_stages(items: pl.DataFrame, requested: str | None) -> tuple[list[bool], dict[str, str]]:
    """Per item whether its stage is the material's reported one, and per material the label saying why.

    The EC reports a material's SR at its bottleneck stage (``bottleneck`` column); a requested ``--stage``
    overrides it. Without a bottleneck (or when the bottleneck stage is not among the items) every item is
    reported and the higher SR counts, which the label says.
    """
    has_bottleneck = "bottleneck" in items.columns
    stages_of: dict[str, set[str]] = {}
    for material, stage in items.select("material", "stage").iter_rows():
        stages_of.setdefault(material, set()).add(stage)
    flags: list[bool] = []
    labels: dict[str, str] = {}
    for row in items.iter_rows(named=True):
        material, stage = row["material"], row["stage"]
        bottleneck = row["bottleneck"] if has_bottleneck else None
        if requested is not None:
            flags.append(True)
            labels[material] = f"{requested} (requested; EU bottleneck: {bottleneck or 'not given'})"
        elif bottleneck in stages_of[material]:
            flags.append(stage == bottleneck)
            labels[material] = f"{bottleneck} (EU bottleneck)"
        else:
            flags.append(True)
            labels[material] = "higher of the assessed stages (no EU bottleneck stage given)"
    return flags, labels


def _trade_factor_lookup(trade_factors: pl.DataFrame) -> dict[tuple[str, str, str, str], float]:
    scope_map = {"global": "global", "eu_sourcing": "eu", "eu": "eu"}
    out: dict[tuple[str, str, str, str], float] = {}
    for material, stage, scope, country, t_c in trade_factors.select(
        "material", "stage", "scope", "country", "t_c"
    ).iter_rows():
        out[(str(material).casefold(), str(stage), scope_map.get(str(scope), str(scope)), str(country))] = (
            float(t_c)
        )
    return out


def _supply_stage(items: pl.DataFrame, shares: pl.DataFrame) -> pl.Series:
    """The production stage whose global shares an item reads.

    Its own stage when data exists. Otherwise, if the EC assesses the material at this stage ONLY and the
    other stage has data (e.g. PGM, helium, rhenium: assessed at processing, bundled as mine production),
    the other stage stands in, and the inputs say so. A two-stage material never borrows: its other stage
    is assessed in its own right.
    """
    available = shares.filter(pl.col("scope") == "global").select("mineral", "stage").unique()
    have = {(m, s) for m, s in available.iter_rows()}
    stages_of = items.group_by("material").agg(pl.col("stage")).rows_by_key("material", unique=True)
    other = {"extraction": "processing", "processing": "extraction"}
    chosen = []
    for material, mineral, stage in items.select("material", "mineral", "stage").iter_rows():
        alternative = other.get(stage, stage)
        borrow = (
            (mineral, stage) not in have
            and (mineral, alternative) in have
            and alternative not in stages_of[material][0]
        )
        chosen.append(alternative if borrow else stage)
    return pl.Series("supply_stage", chosen, dtype=pl.String)


def compile_assessment(
    params: pl.DataFrame,
    shares: pl.DataFrame,
    trade_factors: pl.DataFrame,
    governance: pl.DataFrame,
    *,
    wgi_year: int | None = None,
    extra_provenance: tuple[str, ...] = (),
    stage: str | None = None,
) -> CompiledAssessment:
    """Build the model. ``params`` comes from :func:`lodeline.risk.parameters.eu_parameters`, ``shares``
    from :mod:`lodeline.risk.shares`, ``trade_factors`` is the canonical table (t_c = 1 where unlisted).

    ``stage`` (extraction | processing) assesses that stage only and reports it; None (default) reports each
    material at the EC's bottleneck stage."""
    if stage is not None:
        params = params.filter(pl.col("stage") == stage)
    if "flag" not in shares.columns:
        shares = shares.with_columns(pl.lit(None, dtype=pl.String).alias("flag"))
    items = params.sort("material", "stage").with_row_index("item")
    headline, reported_stage = _reported_stages(items, stage)
    n_items = items.height
    items = items.with_columns(_supply_stage(items, shares))
    global_rows = items.select("item", "mineral", pl.col("supply_stage").alias("stage")).join(
        shares.filter(pl.col("scope") == "global"), on=["mineral", "stage"], how="inner"
    )
    eu_rows = items.select("item", "mineral", "stage").join(
        shares.filter(pl.col("scope") == "eu"), on=["mineral", "stage"], how="inner"
    )
    rows = pl.concat([global_rows, eu_rows], how="vertical")
    rows = rows.with_columns(
        (
            pl.col("item").cast(pl.Int64) * 2
            + pl.col("scope").replace_strict({"global": 0, "eu": 1}, return_dtype=pl.Int64)
        ).alias("group"),
    )
    rows = rows.with_columns((pl.col("year").rank("dense").over("group").cast(pl.Int64) - 1).alias("slot"))
    pairs = rows.select("group", "country").unique().sort("group", "country").with_row_index("pair")
    rows = rows.join(pairs, on=["group", "country"])
    countries = tuple(pairs["country"].unique().sort().to_list())
    gov = governance_matrix(governance, wgi_year, extra_countries=countries)
    country_index = gov.index()

    n_pairs = pairs.height
    n_slots = np.zeros(2 * n_items, dtype=np.int64)
    if rows.height:
        per_group = rows.group_by("group").agg(pl.col("slot").max() + 1)
        n_slots[per_group["group"].to_numpy()] = per_group["slot"].to_numpy()
    share_slots = np.zeros((max(int(n_slots.max()) if n_items else 0, 1), n_pairs))
    if rows.height:
        share_slots[rows["slot"].to_numpy(), rows["pair"].to_numpy()] = rows["share"].to_numpy()

    lookup = _trade_factor_lookup(trade_factors)
    materials = items["material"].to_list()
    stages = items["stage"].to_list()
    pair_group = pairs["group"].to_numpy().astype(np.int64)
    pair_country_codes = pairs["country"].to_list()
    pair_t = np.array(
        [
            lookup.get((materials[g // 2].casefold(), stages[g // 2], SCOPES[g % 2], c), 1.0)
            for g, c in zip(pair_group.tolist(), pair_country_codes, strict=True)
        ]
    )
    basis = np.array([BASIS_CODES.get(str(b), -1) for b in items["basis"].to_list()], dtype=np.int64)
    ir = items["ir"].fill_null(np.nan).to_numpy().astype(float)
    eol = items["eol_rir"].fill_null(0.0).to_numpy().astype(float)
    si = items["si_sr"].fill_null(np.nan).to_numpy().astype(float)
    minerals = items["mineral"].to_list()

    reasons: list[str | None] = []
    inputs: list[dict[str, Any]] = []
    years = (
        rows.group_by("group")
        .agg(
            pl.col("year").unique().sort(),
            pl.col("source").unique().sort().alias("sources"),
            pl.col("flag").drop_nulls().unique().sort().alias("flags"),
        )
        .to_dict(as_series=False)
    )
    years_by_group = dict(zip(years["group"], years["year"], strict=True))
    sources_by_group = dict(zip(years["group"], years["sources"], strict=True))
    flags_by_group = dict(zip(years["group"], years["flags"], strict=True))
    flags: dict[str, list[str]] = {}
    for i in range(n_items):
        has_gs, has_eu = n_slots[2 * i] > 0, n_slots[2 * i + 1] > 0
        where = f"{minerals[i]} {stages[i]}"
        reason = None
        if minerals[i] is None:
            reason = "no Lodeline mineral is mapped to this EU material"
        elif basis[i] < 0:
            reason = f"unknown supply basis {items['basis'][i]!r}"
        elif np.isnan(si[i]):
            reason = "no SI_SR (substitution index) in the EU inputs"
        elif basis[i] in (BASIS_BOTH, BASIS_GS) and not has_gs:
            reason = f"no global supply data (production shares) for {where}"
        elif basis[i] == BASIS_EU and not has_eu:
            reason = f"no EU-sourcing trade data for {where}"
        elif basis[i] == BASIS_BOTH and has_eu and np.isnan(ir[i]):
            reason = f"no import reliance (IR) for {stages[i]}"
        if reason is not None:
            si[i] = np.nan  # forces NaN SR in every draw
        listed = {
            c: float(t)
            for g, c, t in zip(pair_group.tolist(), pair_country_codes, pair_t.tolist(), strict=True)
            if g // 2 == i and t != 1.0
        }
        inputs.append(
            {
                "basis": items["basis"][i],
                "ir": None if np.isnan(ir[i]) else round(float(ir[i]), 4),
                "eol_rir": round(float(eol[i]), 4),
                "si_sr": items["si_sr"][i],
                "years_global": years_by_group.get(2 * i, []),
                "years_eu": years_by_group.get(2 * i + 1, []),
                "sources_global": sources_by_group.get(2 * i, []),
                "sources_eu": sources_by_group.get(2 * i + 1, []),
                "eu_sourcing": (
                    "extra-EU imports (trade)"
                    if has_eu
                    else ("proxy: global supply" if basis[i] == BASIS_BOTH and has_gs else "not used")
                ),
                "t_c_listed": listed,
                "supply_proxy": items["proxy"][i] if "proxy" in items.columns else None,
                "supply_stage": items["supply_stage"][i],
            }
        )
        reasons.append(reason)
        item_flags = flags.setdefault(materials[i], [])
        for note in [*flags_by_group.get(2 * i, []), *flags_by_group.get(2 * i + 1, [])]:
            item_flags.append(f"{stages[i]} shares: {note}")
        proxy = items["proxy"][i] if "proxy" in items.columns else None
        if proxy and proxy not in item_flags:
            item_flags.append(proxy)

    model = SupplyRiskModel(
        materials=materials,
        stages=stages,
        ir=ir,
        eol=eol,
        si=si,
        basis=np.where(basis < 0, BASIS_GS, basis),
        pair_group=pair_group,
        pair_country=np.array([country_index[c] for c in pair_country_codes], dtype=np.int64),
        pair_t=pair_t,
        share_slots=share_slots,
        n_slots=n_slots,
        wgi_dims=gov.values,
        headline=np.array(headline, dtype=bool),
    )
    provenance: dict[str, set[str]] = {}
    prov_rows = pl.concat(
        [
            items.select("material", "mineral", pl.col("supply_stage").alias("stage")),
            items.select("material", "mineral", "stage"),
        ]
    ).join(shares.select("mineral", "stage", "source", "edition").unique(), on=["mineral", "stage"])
    for material, source, edition in prov_rows.select("material", "source", "edition").iter_rows():
        provenance.setdefault(material, set()).add(f"{source} {edition}")
    for material in materials:
        provenance.setdefault(material, set()).update(extra_provenance)
    return CompiledAssessment(
        model,
        minerals,
        reasons,
        inputs,
        provenance,
        gov,
        reported_stage,
        {m: f for m, f in flags.items() if f},
    )


def _critical(sr: float | None, ei: float | None) -> bool | None:
    if sr is None or ei is None:
        return None
    return bool(sr >= SR_THRESHOLD and ei >= EI_THRESHOLD)


def assessment_table(compiled: CompiledAssessment, ei: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per material: SR per stage and overall, EI (or null with a note), critical, status, inputs.

    ``sr`` is the SR at the material's reported stage (``sr_stage``: the EC bottleneck stage unless a stage
    was requested); it stays null when that stage has no SR, even if the other stage has one.
    ``ei`` is an optional ``[material, ei, ei_note(, ei_source)]`` frame from
    :mod:`lodeline.risk.economic_importance` (published EC 2023 values or computed ones).
    """
    model = compiled.model
    evaluated = model.evaluate()
    stage_sr = evaluated[0]
    names, reported = model.material_sr(evaluated)
    sr_of = {m: float(reported[0, j]) for j, m in enumerate(names)}
    ei_by_material: dict[str, tuple[float | None, str, str | None]] = {}
    if ei is not None:
        has_source = "ei_source" in ei.columns
        columns = ["material", "ei", "ei_note", *(["ei_source"] if has_source else [])]
        for row in ei.select(columns).iter_rows():
            value = row[1]
            source = (
                row[3]
                if has_source
                else ("computed (--end-uses, --value-added)" if value is not None else None)
            )
            ei_by_material[str(row[0])] = (value, row[2], source)
    gov = compiled.governance
    records: dict[str, dict[str, Any]] = {}
    for i, material in enumerate(model.materials):
        rec = records.setdefault(
            material,
            {
                "material": material,
                "mineral": compiled.minerals[i],
                "sr_extraction": None,
                "sr_processing": None,
                "reasons": [],
                "inputs": {},
            },
        )
        value = float(stage_sr[i])
        if not np.isnan(value):
            rec[f"sr_{model.stages[i]}"] = value
        if compiled.reasons[i]:
            rec["reasons"].append(f"{model.stages[i]}: {compiled.reasons[i]}")
        rec["inputs"][model.stages[i]] = compiled.inputs[i]
    out = []
    for material, rec in records.items():
        sr = None if np.isnan(sr_of[material]) else sr_of[material]
        stage_label = compiled.reported_stage.get(material)
        if sr is None and any(rec[f"sr_{s}"] is not None for s in ("extraction", "processing")):
            rec["reasons"].insert(
                0, f"no SR at the reported stage {stage_label}; the other stage's SR is shown apart"
            )
        ei_value, ei_note, ei_source = ei_by_material.get(material, (None, EI_MISSING_NOTE, None))
        inputs = dict(rec["inputs"])
        if gov is not None:
            inputs["wgi"] = {
                "year": gov.year,
                "dimensions": "mean of va pv ge rq rl cc",
                "imputed": sorted(gov.imputed),
            }
        out.append(
            {
                "material": material,
                "mineral": rec["mineral"],
                "sr": sr,
                "sr_stage": stage_label,
                "sr_source": SR_SOURCE if sr is not None else None,
                "sr_extraction": rec["sr_extraction"],
                "sr_processing": rec["sr_processing"],
                "ei": ei_value,
                "ei_source": ei_source,
                "sr_above_threshold": None if sr is None else sr >= SR_THRESHOLD,
                "critical": _critical(sr, ei_value),
                "status": "ok" if sr is not None else INSUFFICIENT,
                "reason": "; ".join(rec["reasons"]) or None,
                "ei_note": ei_note or None,
                "flags": "; ".join(compiled.flags.get(material, [])) or None,
                "inputs": json.dumps(inputs, sort_keys=True, default=str),
                "provenance": "; ".join(sorted(compiled.provenance.get(material, set()))),
            }
        )
    schema = {
        "material": pl.String,
        "mineral": pl.String,
        "sr": pl.Float64,
        "sr_stage": pl.String,
        "sr_source": pl.String,
        "sr_extraction": pl.Float64,
        "sr_processing": pl.Float64,
        "ei": pl.Float64,
        "ei_source": pl.String,
        "sr_above_threshold": pl.Boolean,
        "critical": pl.Boolean,
        "status": pl.String,
        "reason": pl.String,
        "ei_note": pl.String,
        "flags": pl.String,
        "inputs": pl.String,
        "provenance": pl.String,
    }
    return pl.DataFrame(out, schema=schema)


__all__ = ["BASIS_EU", "INSUFFICIENT", "CompiledAssessment", "assessment_table", "compile_assessment"]
