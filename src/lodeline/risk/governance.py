"""Worldwide Governance Indicators rescaled for the EU method: 0-10, where 10 is the worst governance.

WGI estimates lie on a standard-normal scale that runs (almost always) from -2.5 (weak) to +2.5 (strong).
The EC guidelines (2017, section on supply risk) use the WGI "scaled from 0 to 10, the higher the value the
poorer the governance", averaging the six dimensions. The linear map that does exactly that is

    WGI_scaled = (2.5 - estimate) * 2        (clipped to [0, 10] for the rare estimates beyond +-2.5)

so +2.5 -> 0, 0 -> 5, -2.5 -> 10.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from lodeline.errors import InsufficientDataError, InvalidArgumentError

WGI_DIMENSIONS: tuple[str, ...] = ("va", "pv", "ge", "rq", "rl", "cc")


def rescale_wgi(estimate: np.ndarray | float) -> np.ndarray:
    """WGI estimate (-2.5 … 2.5, higher = better) -> 0 … 10, higher = worse governance."""
    return np.clip((2.5 - np.asarray(estimate, dtype=float)) * 2.0, 0.0, 10.0)


@dataclass(frozen=True)
class GovernanceMatrix:
    """Scaled WGI per dimension and country for one reference year, gaps filled (see ``imputed``).

    ``values[k, c]`` is dimension ``WGI_DIMENSIONS[k]`` of ``countries[c]``. A country that lacks a dimension
    takes the mean of its other dimensions; a country with no WGI at all takes the mean over all countries of
    that dimension and is listed in ``imputed`` (its risk is then neither favoured nor penalised).
    """

    year: int
    countries: tuple[str, ...]
    values: np.ndarray
    imputed: frozenset[str]

    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.countries)}

    def mean_of(self, dimensions: tuple[str, ...] = WGI_DIMENSIONS) -> np.ndarray:
        """Average of the chosen dimensions (the EC uses all six) -> one scaled WGI per country."""
        unknown = [d for d in dimensions if d not in WGI_DIMENSIONS]
        if unknown or not dimensions:
            raise InvalidArgumentError(
                f"WGI dimensions must be a non-empty subset of {WGI_DIMENSIONS}: {unknown}"
            )
        rows = [WGI_DIMENSIONS.index(d) for d in dimensions]
        return np.asarray(self.values[rows].mean(axis=0))


def governance_matrix(
    governance: pl.DataFrame, year: int | None = None, extra_countries: tuple[str, ...] = ()
) -> GovernanceMatrix:
    """Build the scaled WGI matrix from the canonical ``governance`` frame.

    For each country and dimension the latest estimate at or before ``year`` (default: the latest year in the
    frame) is used, because WGI has gaps (1997/1999/2001, young states). ``extra_countries`` are supplier codes
    that must appear in the matrix even when WGI does not cover them.
    """
    known = governance.filter(pl.col("estimate").is_not_null() & pl.col("indicator").is_in(WGI_DIMENSIONS))
    if known.is_empty():
        raise InsufficientDataError("the governance table holds no WGI estimates; run `lodeline data build`")
    ref_year = int(known["year"].max()) if year is None else int(year)  # type: ignore[arg-type]
    latest = (
        known.filter(pl.col("year") <= ref_year)
        .sort("year")
        .group_by("country", "indicator")
        .agg(pl.col("estimate").last())
    )
    if latest.is_empty():
        raise InsufficientDataError(f"no WGI estimates at or before {ref_year}")
    wide = latest.pivot(on="indicator", index="country", values="estimate")
    for dim in WGI_DIMENSIONS:
        if dim not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(dim))
    wide = wide.sort("country")
    countries = list(wide["country"].to_list())
    scaled = rescale_wgi(wide.select(WGI_DIMENSIONS).to_numpy().astype(float).T)  # NaN stays NaN
    scaled = np.where(np.isnan(wide.select(WGI_DIMENSIONS).to_numpy().astype(float).T), np.nan, scaled)
    # A missing dimension takes the mean of the country's other dimensions.
    row_mean = np.nanmean(scaled, axis=0)
    scaled = np.where(np.isnan(scaled), row_mean[None, :], scaled)
    missing = [c for c in dict.fromkeys(extra_countries) if c not in set(countries)]
    if missing:
        column_mean = np.nanmean(scaled, axis=1)
        scaled = np.concatenate([scaled, np.repeat(column_mean[:, None], len(missing), axis=1)], axis=1)
        countries.extend(missing)
    return GovernanceMatrix(ref_year, tuple(countries), scaled, frozenset(missing))
