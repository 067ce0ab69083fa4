"""The 2030 outlook engine: the alliance's single-supplier dependency year by year when pipeline projects add
supply, deterministically (every project on time) and as a vectorised Monte Carlo (starts slip, some fail).

Pure numpy, no I/O (docs/methods/outlook-2030.md). Quantities are fractions of base-year world production, so
a project's capacity must be in the base year's unit (the service converts or leaves it unquantified).

Model, per year t from the base year to the horizon:

* demand ``g(t)`` = IEA demand in t ÷ IEA demand in the base year (world output grows with demand);
* pipeline output ``P_c(t)`` = Σ capacity × ramp-up fraction of the projects in country c that have started;
* incumbents (every base-year producer, including output not attributed to a country) fill the residual demand
  ``max(g(t) − P(t), 0)`` in proportion to their base-year shares;
* dependency = the largest share of total supply held by one named country outside the alliance (the
  production basis of :mod:`lodeline.market.dependency`; unattributed output is never "a supplier").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lodeline.errors import InvalidArgumentError
from lodeline.outlook.parameters import OPERATING, Parameters

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Baseline:
    """Base-year supply: named countries' shares of world production, which of them are outside the alliance,
    and the base-year world total in ``unit`` (None for share-only sources: capacities cannot be compared)."""

    base_year: int
    countries: tuple[str, ...]
    shares: tuple[float, ...]
    outside: tuple[bool, ...]
    world: float | None
    unit: str | None

    def __post_init__(self) -> None:
        if not len(self.countries) == len(self.shares) == len(self.outside):
            raise InvalidArgumentError("baseline: countries, shares and outside must have the same length")
        if any(s < 0 for s in self.shares) or sum(self.shares) > 1 + 1e-9:
            raise InvalidArgumentError("baseline: shares must be >= 0 and sum to at most 1")


@dataclass(frozen=True, slots=True)
class PipelineProject:
    """One project as the engine sees it. ``capacity`` is in the baseline's unit per year (None = not stated;
    ``capacity_note`` may say why); ``start`` the stated first year of production (None = not stated);
    ``excluded`` a reason the caller already knows it cannot count (e.g. no country stated)."""

    project_id: str
    name: str
    country: str
    outside: bool
    capacity: float | None
    start: int | None
    study_stage: str | None
    capacity_note: str | None = None
    excluded: str | None = None


@dataclass(frozen=True, slots=True)
class Prepared:
    """The arrays one run needs: countries (the baseline's plus project countries), projects that count."""

    years: npt.NDArray[np.int64]
    growth: Array  # (T,)
    shares: Array  # (C,) base-year share per country; the unattributed remainder is implicit
    outside: npt.NDArray[np.bool_]  # (C,)
    countries: tuple[str, ...]
    project_ids: tuple[str, ...]
    capacity: Array  # (J,) fraction of base-year world output
    start: Array  # (J,) stated start year (float)
    country_index: npt.NDArray[np.int64]  # (J,)
    delay_mean: Array  # (J,)
    failure: Array  # (J,)
    ramp: Array  # (R,) ramp-up fractions, last = 1.0


def counted(baseline: Baseline, project: PipelineProject) -> str | None:
    """None if the project adds supply in the outlook, else why it does not (a gap is said, never zero-filled)."""
    if project.excluded is not None:
        return project.excluded
    if project.study_stage == OPERATING:
        return "operating: already in the base-year output"
    if project.capacity is None:
        return "capacity not stated" + (f" ({project.capacity_note})" if project.capacity_note else "")
    if baseline.world is None or baseline.world <= 0:
        return "base-year world output has no tonnage (share-only source): capacity cannot be compared"
    if project.start is None:
        return "expected start not stated"
    return None


def prepare(
    baseline: Baseline,
    projects: Sequence[PipelineProject],
    growth: Sequence[float],
    params: Parameters,
) -> Prepared:
    """Arrays for :func:`evaluate`. ``growth[i]`` is demand in ``base_year + i`` relative to the base year."""
    if not growth or abs(growth[0] - 1.0) > 1e-9:
        raise InvalidArgumentError("growth must start at 1.0 in the base year")
    years = baseline.base_year + np.arange(len(growth), dtype=np.int64)
    countries = list(baseline.countries)
    outside = list(baseline.outside)
    shares = list(baseline.shares)
    use = [p for p in projects if counted(baseline, p) is None]
    index = []
    for p in use:
        if p.country not in countries:
            countries.append(p.country)
            outside.append(p.outside)
            shares.append(0.0)
        index.append(countries.index(p.country))
    world = baseline.world or 1.0
    stage = [params.stage(p.study_stage) for p in use]
    return Prepared(
        years=years,
        growth=np.asarray(growth, dtype=np.float64),
        shares=np.asarray(shares, dtype=np.float64),
        outside=np.asarray(outside, dtype=np.bool_),
        countries=tuple(countries),
        project_ids=tuple(p.project_id for p in use),
        capacity=np.asarray([float(p.capacity or 0.0) / world for p in use], dtype=np.float64),
        # a stated start already past becomes the first projected year (the project is late, not in the base)
        start=np.asarray([max(int(p.start or 0), baseline.base_year + 1) for p in use], dtype=np.float64),
        country_index=np.asarray(index, dtype=np.int64),
        delay_mean=np.asarray([s.delay_mean_years for s in stage], dtype=np.float64),
        failure=np.asarray([s.failure_probability for s in stage], dtype=np.float64),
        ramp=np.asarray([*params.ramp_up, 1.0], dtype=np.float64),
    )


@dataclass(frozen=True, slots=True)
class Draws:
    """Per draw and project: the delay in years (standard gamma draw, scaled by the mean later) and the uniform
    number that decides failure. Kept apart so the vectorised and the loop evaluation use the same numbers."""

    gamma: Array  # (N, J) standard gamma draws with the parameters' shape, mean = shape
    uniform: Array  # (N, J)
    shape: float


def sample(prepared: Prepared, draws: int, seed: int, shape: float) -> Draws:
    """Random numbers of a run, from ``numpy.random.default_rng(SeedSequence(seed))`` (as ``lodeline.sim``)."""
    if draws < 1:
        raise InvalidArgumentError("draws must be >= 1")
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    j = prepared.capacity.shape[0]
    return Draws(rng.standard_gamma(shape, size=(draws, j)), rng.random((draws, j)), shape)


def _first_years(prepared: Prepared, delay: Array) -> Array:
    """(N, J) first calendar year of production of every draw and project."""
    return np.floor(prepared.start[None, :] + delay)


def year_output(prepared: Prepared, first: Array, failed: npt.NDArray[np.bool_], year: int) -> Array:
    """(N, J) each project's output in ``year`` as a fraction of base-year world production."""
    return _year_output(prepared, year - first, prepared.capacity[None, :] * ~failed)


def _year_output(prepared: Prepared, since: Array, alive_capacity: Array) -> Array:
    """Ramp-up fraction of ``since`` (years since the first year; < 0 = not started) times the capacity: the
    ramp has a few steps, so it is a sum of comparisons rather than a gather."""
    ramp = prepared.ramp
    frac = np.where(since >= ramp.size - 1, ramp[-1], 0.0)
    for step in range(ramp.size - 1):
        frac += np.where(since == step, ramp[step], 0.0)
    return np.asarray(frac * alive_capacity, dtype=np.float64)


def _onehot(prepared: Prepared) -> Array:
    onehot = np.zeros((prepared.capacity.size, prepared.shares.size))
    onehot[np.arange(prepared.capacity.size), prepared.country_index] = 1.0
    return onehot


def output_by_country(prepared: Prepared, delay: Array, failed: npt.NDArray[np.bool_]) -> Array:
    """(N, C, T) pipeline output by country, never building an (N, J, T) array: a project's output over the years
    is a step function (0 before its first year, then the ramp-up, then full capacity), so its increments
    ``ramp[k] - ramp[k-1]`` are added at year index ``first + k`` with one ``bincount`` per ramp step, and a
    cumulative sum over the years gives the output."""
    n, j = delay.shape
    c, t = prepared.shares.size, prepared.years.size
    if j == 0:
        return np.zeros((n, c, t))
    ramp = prepared.ramp
    steps = np.diff(ramp, prepend=0.0)  # increments at first, first + 1, ...
    width = t + 1  # the extra slot collects what starts after the horizon
    first = _first_years(prepared, delay) - prepared.years[0]  # (N, J) year index of the first year
    alive = prepared.capacity[None, :] * ~failed
    row = (np.arange(n)[:, None] * c + prepared.country_index[None, :]) * width  # (N, J)
    flat = np.zeros(n * c * width)
    for k, step in enumerate(steps):
        if step == 0.0:
            continue
        at = np.clip(first + k, 0, t).astype(np.int64)
        flat += np.bincount((row + at).ravel(), weights=(alive * step).ravel(), minlength=flat.size)
    return np.cumsum(flat.reshape(n, c, width)[:, :, :t], axis=2)


def dependency(prepared: Prepared, by_country: Array, growth: Array | None = None) -> Array:
    """(N, T) dependency from pipeline output by country (N, C, T); ``growth`` defaults to every year's."""
    pipeline = by_country.sum(axis=1)  # (N, T)
    demand = prepared.growth if growth is None else growth
    residual = np.maximum(demand[None, :] - pipeline, 0.0)
    supply = prepared.shares[None, :, None] * residual[:, None, :] + by_country  # (N, C, T)
    total = residual + pipeline
    outside = supply[:, prepared.outside, :]
    if outside.shape[1] == 0:
        return np.zeros_like(total)
    top = outside.max(axis=1)
    return np.asarray(np.where(total > 0, top / np.where(total > 0, total, 1.0), 0.0), dtype=np.float64)


def realised(prepared: Prepared, draws: Draws) -> tuple[Array, npt.NDArray[np.bool_]]:
    """Delays (years) and failures of every draw and project."""
    delay = draws.gamma * (prepared.delay_mean / draws.shape)[None, :]
    failed = draws.uniform < prepared.failure[None, :]
    return delay, failed


def evaluate(prepared: Prepared, draws: Draws) -> Array:
    """(N, T) dependency of every draw, vectorised over draws, projects, countries and years."""
    delay, failed = realised(prepared, draws)
    return dependency(prepared, output_by_country(prepared, delay, failed))


def deterministic(prepared: Prepared) -> Array:
    """(T,) every project starts on time and none fails."""
    j = prepared.capacity.size
    return dependency(
        prepared, output_by_country(prepared, np.zeros((1, j)), np.zeros((1, j), dtype=np.bool_))
    )[0]


def no_pipeline(prepared: Prepared) -> Array:
    """(T,) no project ever produces: incumbents meet all demand."""
    return dependency(prepared, np.zeros((1, prepared.shares.size, prepared.years.size)))[0]


def below(values: Array, threshold: float, comparator: str = "<") -> Array:
    """Where a dependency meets a ceiling (``<`` strict as in :func:`lodeline.market.targets.misses`)."""
    if comparator == "<":
        return np.asarray(values < threshold)
    if comparator == "<=":
        return np.asarray(values <= threshold)
    raise InvalidArgumentError(f"unsupported comparator {comparator!r}")


def sensitivity(
    prepared: Prepared, draws: Draws, year_index: int, threshold: float, comparator: str = "<"
) -> list[tuple[float, float]]:
    """Per project, P(meets the line in the year) when it starts on time without failing and when it fails,
    every other project as drawn (common random numbers). Their difference is how much the project matters."""
    delay, failed = realised(prepared, draws)
    year = int(prepared.years[year_index])
    output = year_output(prepared, _first_years(prepared, delay), failed, year)  # (N, J)
    onehot = _onehot(prepared)
    by_country = output @ onehot  # (N, C)
    growth = prepared.growth[year_index : year_index + 1]
    j = delay.shape[1]
    on_time = year_output(
        prepared, _first_years(prepared, np.zeros((1, j))), np.zeros((1, j), dtype=np.bool_), year
    )[0]
    outside = prepared.outside
    if not outside.any():
        return [(float(below(np.zeros(1), threshold, comparator)[0]),) * 2 for _ in range(j)]
    shares = prepared.shares[None, :]
    pipeline = by_country.sum(axis=1)  # (N,)
    out = []
    for k in range(j):
        c = prepared.country_index[k]
        probabilities = []
        for alternative in (on_time[k], 0.0):
            delta = alternative - output[:, k]  # (N,) change of project k's output, in country c
            total_pipeline = pipeline + delta
            residual = np.maximum(growth[0] - total_pipeline, 0.0)
            supply = shares * residual[:, None] + by_country
            supply[:, c] += delta
            total = residual + total_pipeline
            top = supply[:, outside].max(axis=1)
            dep = np.where(total > 0, top / np.where(total > 0, total, 1.0), 0.0)
            probabilities.append(float(below(dep, threshold, comparator).mean()))
        out.append((probabilities[0], probabilities[1]))
    return out
