"""EU (EC 2017 guidelines) supply risk, scalar and vectorised.

    HHI_WGI,t = sum_c S_c^2 * WGI_c * t_c                     (S_c as a fraction of supply, WGI_c on 0-10)
    SR_stage  = [HHI_WGI,t(GS) * IR/2 + HHI_WGI,t(EU) * (1 - IR/2)] * (1 - EoL_RIR) * SI_SR
    SR        = SR_stage at the EC's bottleneck stage of the material (``bottleneck_stage`` of the EU inputs),
                or at the stage the user asks for; the higher stage only where no bottleneck is given

With shares as fractions HHI_WGI,t lies on 0-10 (up to 15 with t_c = 1.5), the scale on which the EC's
threshold SR >= 1 is defined; with shares in percent the same sum is 10,000 times larger, so the EC's
"/10,000" scaling is exactly the switch from percent to fractions. See docs/methods/criticality.md.

The vectorised :class:`SupplyRiskModel` evaluates many parameter draws at once: every (item, scope, country)
contribution is one column of a ``[draws, pairs]`` array summed per group with ``np.add.reduceat``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lodeline.errors import InvalidArgumentError

#: supply_basis codes of eu_crm_2023_inputs.csv -> which HHIs the stage uses.
BASIS_BOTH, BASIS_GS, BASIS_EU = 0, 1, 2
BASIS_CODES: dict[str, int] = {"GS+EU": BASIS_BOTH, "GSonly": BASIS_GS, "EUonly": BASIS_EU, "EU": BASIS_EU}
SCOPES: tuple[str, str] = ("global", "eu")


def hhi_wgi_t(shares: np.ndarray, wgi: np.ndarray, t_c: np.ndarray | None = None) -> float:
    """sum_c S_c^2 * WGI_c * t_c with S_c as fractions (0-1) and WGI_c scaled 0-10 (t_c defaults to 1)."""
    s = np.asarray(shares, dtype=float)
    if np.any(s < 0) or s.sum() > 1.0 + 1e-9:
        raise InvalidArgumentError(
            f"supply shares must be fractions >= 0 summing to <= 1, got sum {s.sum():.6f}"
        )
    t = np.ones_like(s) if t_c is None else np.asarray(t_c, dtype=float)
    return float(np.sum(s * s * np.asarray(wgi, dtype=float) * t))


def supply_risk(
    hhi_global: float | None,
    hhi_eu: float | None,
    *,
    import_reliance: float | None,
    eol_rir: float,
    si_sr: float,
    basis: str = "GS+EU",
) -> float:
    """One stage's SR. ``import_reliance`` and ``eol_rir`` are fractions (0-1), not percent.

    ``basis`` follows the EC assessment: ``GS+EU`` mixes both HHIs by IR; ``GSonly`` / ``EUonly`` use one.
    """
    for name, value in (("import_reliance", import_reliance), ("eol_rir", eol_rir)):
        if value is not None and not 0.0 <= value <= 1.0:
            raise InvalidArgumentError(f"{name} must be a fraction in [0, 1], got {value}")
    code = BASIS_CODES.get(basis)
    if code is None:
        raise InvalidArgumentError(f"unknown supply basis {basis!r}; expected one of {sorted(BASIS_CODES)}")
    if code == BASIS_GS:
        if hhi_global is None:
            raise InvalidArgumentError("basis GSonly needs the global-supply HHI")
        weighted = hhi_global
    elif code == BASIS_EU:
        if hhi_eu is None:
            raise InvalidArgumentError("basis EUonly needs the EU-sourcing HHI")
        weighted = hhi_eu
    else:
        if hhi_global is None or hhi_eu is None or import_reliance is None:
            raise InvalidArgumentError("basis GS+EU needs both HHIs and the import reliance")
        weighted = hhi_global * import_reliance / 2.0 + hhi_eu * (1.0 - import_reliance / 2.0)
    return float(weighted * (1.0 - eol_rir) * si_sr)


@dataclass
class SupplyRiskModel:
    """Compiled arrays for vectorised SR over many draws.

    Items are (material, stage) pairs; each item has two groups (global, eu). ``pair_*`` arrays list every
    (group, country) contribution, sorted by group. ``share_slots[k, p]`` is pair p's share in the k-th
    available year of its item's scope (0 where the country is absent that year); ``n_slots[g]`` is how many
    years group g has (0 = no data).
    """

    materials: list[str]
    stages: list[str]
    ir: np.ndarray  # [I] fraction or NaN
    eol: np.ndarray  # [I] fraction
    si: np.ndarray  # [I]
    basis: np.ndarray  # [I] BASIS_* code
    pair_group: np.ndarray  # [P] group index (item * 2 + scope)
    pair_country: np.ndarray  # [P] index into governance countries
    pair_t: np.ndarray  # [P] t_c
    share_slots: np.ndarray  # [K, P]
    n_slots: np.ndarray  # [G]
    wgi_dims: np.ndarray  # [6, C] scaled WGI
    #: [I] bool: the item's stage is the material's reported stage (None = every item; the higher one counts)
    headline: np.ndarray | None = None
    group_start: np.ndarray = field(init=False)  # [G_nonempty] start offset of each non-empty group
    group_ids: np.ndarray = field(init=False)  # [G_nonempty] their group ids

    def __post_init__(self) -> None:
        if np.any(np.diff(self.pair_group) < 0):
            raise InvalidArgumentError("pairs must be sorted by group")
        self.group_ids, self.group_start = np.unique(self.pair_group, return_index=True)
        if self.headline is None:
            self.headline = np.ones(len(self.materials), dtype=bool)

    @property
    def n_items(self) -> int:
        return len(self.materials)

    def base_shares(self) -> np.ndarray:
        """[P] mean share over the group's available years (the deterministic assessment)."""
        n = np.maximum(self.n_slots[self.pair_group], 1)
        return np.asarray(self.share_slots.sum(axis=0) / n)

    def hhi(self, shares: np.ndarray, wgi: np.ndarray, t_c: np.ndarray) -> np.ndarray:
        """[D, 2I] HHI_WGI,t per draw and group from [D, P] shares, [D, C] WGI and [D, P] t_c (NaN = no data)."""
        draws = shares.shape[0]
        contribution = shares * shares * np.take(wgi, self.pair_country, axis=1) * t_c
        out = np.full((draws, 2 * self.n_items), np.nan)
        if contribution.shape[1]:
            out[:, self.group_ids] = np.add.reduceat(contribution, self.group_start, axis=1)
        return out

    def stage_sr(self, hhi: np.ndarray, eol: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[D, I] SR per stage and [I] bool 'EU-sourcing HHI proxied by global'.

        Where the basis is GS+EU but no EU-sourcing data exists, the global HHI stands in for the EU one (then
        SR = HHI_GS * (1 - EoL_RIR) * SI_SR): a documented deviation. Missing IR with basis GS+EU -> NaN.
        """
        h_gs, h_eu = hhi[:, 0::2], hhi[:, 1::2]
        proxied = (self.basis == BASIS_BOTH) & np.isnan(h_eu).all(axis=0) & ~np.isnan(h_gs).all(axis=0)
        h_eu_used = np.where(proxied[None, :], h_gs, h_eu)
        ir = self.ir[None, :]
        mixed = h_gs * ir / 2.0 + h_eu_used * (1.0 - ir / 2.0)
        mixed = np.where(proxied[None, :], h_gs, mixed)  # IR is irrelevant when both HHIs are the same
        weighted = np.where(self.basis == BASIS_GS, h_gs, np.where(self.basis == BASIS_EU, h_eu, mixed))
        return weighted * (1.0 - eol) * self.si[None, :], proxied

    def evaluate(
        self,
        slot: np.ndarray | None = None,
        dim_weights: np.ndarray | None = None,
        t_multiplier: np.ndarray | None = None,
        eol_multiplier: np.ndarray | None = None,
    ) -> np.ndarray:
        """[D, I] stage SR for D draws.

        ``slot[D, G]``: index of the year used by each group (None = mean of the years); ``dim_weights[D, 6]``:
        weights over the WGI dimensions (None = the EC's equal six-way mean); ``t_multiplier[D]`` scales each
        t_c's distance from 1; ``eol_multiplier[D]`` scales EoL-RIR (clipped to [0, 0.99]).
        """
        sizes = [a.shape[0] for a in (slot, dim_weights, t_multiplier, eol_multiplier) if a is not None]
        draws = sizes[0] if sizes else 1
        if slot is None:
            shares = np.broadcast_to(self.base_shares(), (draws, self.pair_group.size))
        else:
            shares = self.share_slots[slot[:, self.pair_group], np.arange(self.pair_group.size)[None, :]]
        if dim_weights is None:
            wgi = np.broadcast_to(self.wgi_dims.mean(axis=0), (draws, self.wgi_dims.shape[1]))
        else:
            weights = dim_weights / dim_weights.sum(axis=1, keepdims=True)
            wgi = weights @ self.wgi_dims
        if t_multiplier is None:
            t_c = np.broadcast_to(self.pair_t, (draws, self.pair_t.size))
        else:
            t_c = 1.0 + (self.pair_t[None, :] - 1.0) * t_multiplier[:, None]
        eol = self.eol[None, :]
        if eol_multiplier is not None:
            eol = np.clip(eol * eol_multiplier[:, None], 0.0, 0.99)
        sr, _ = self.stage_sr(self.hhi(np.asarray(shares), np.asarray(wgi), np.asarray(t_c)), eol)
        return np.asarray(sr)

    def material_sr(self, stage_sr: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Materials in first-seen order and [D, M] SR at the material's reported stage (NaN if it has none).

        The reported stage is the ``headline`` item (the EC bottleneck stage); where several items of one
        material are headline (no bottleneck given) the higher counts.
        """
        names = list(dict.fromkeys(self.materials))
        index = {m: i for i, m in enumerate(names)}
        out = np.full((stage_sr.shape[0], len(names)), np.nan)
        headline = self.headline if self.headline is not None else np.ones(len(self.materials), dtype=bool)
        for item, material in enumerate(self.materials):
            if not headline[item]:
                continue
            column = index[material]
            out[:, column] = np.fmax(out[:, column], stage_sr[:, item])
        return names, out
