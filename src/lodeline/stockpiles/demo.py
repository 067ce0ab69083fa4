"""Synthetic demonstration submissions for the Stocks page (pure: no I/O, seeded, deterministic per seed).

Nothing here is a real holding. Every generated row is labelled so that no figure can be mistaken for a real one
wherever it shows: the ``form`` ends with :data:`DEMO_LABEL` (so every published aggregate cell of the period
carries it too, and the page shows a banner, see :func:`is_demo_form`), the ``release_rule`` id is
:data:`DEMO_RULE` and the rule texts start with the label. ``lodeline stocks demo`` submits the rows through the
ordinary submission service (same validation, same log).

Shape of the data (chosen so the page shows both kinds of cell): the first :data:`BROAD` minerals are held by
every member as public strategic stock with quantities of a similar size (each member a base × 0.7–1.3), so those
cells pass the disclosure rules and are published; the other minerals are held by one or two members only, so
their cells fall under the minimum-frequency rule and show ``:c``.
"""

from __future__ import annotations

import random
from typing import Any

DEMO_LABEL = "SYNTHETIC DEMO"
DEMO_RULE = "synthetic-demo"
#: Candidate members (ISO 3166 alpha-3), in the order taken.
MEMBERS: tuple[str, ...] = ("USA", "JPN", "DEU", "FRA", "GBR", "ITA", "CAN", "KOR", "AUS", "NLD")
#: mineral -> (chemical form, purity %, base tonnes per member) of the synthetic stock.
MINERALS: dict[str, tuple[str, str, int]] = {
    "cobalt": ("cobalt metal cathode", "99.8", 1500),
    "lithium": ("lithium carbonate", "99.5", 4000),
    "nickel": ("nickel metal briquettes", "99.9", 6000),
    "gallium": ("gallium metal", "99.99", 20),
    "germanium": ("germanium dioxide", "99.99", 15),
    "tungsten": ("ammonium paratungstate", "88.5", 800),
}
#: The first BROAD minerals are held by every member (published cells); the rest by one or two (``:c``).
BROAD = 3
MIN_MEMBERS, MAX_MEMBERS = 3, len(MEMBERS)


def is_demo_form(form: str | None) -> bool:
    """True for a form written by this generator (the page's banner and docs rely on it)."""
    return form is not None and DEMO_LABEL in form


def demo_rows(period: str, *, members: int = 5, seed: int = 0) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """member -> its submission rows ``(row number, cells)`` for ``period``, as a submission file would give them.

    ``members`` in 3–10 (fewer than 3 would leave every cell suppressed). Quantities are whole tonnes; contained
    = gross × purity, rounded to 0.1 t (never above gross)."""
    if not MIN_MEMBERS <= members <= MAX_MEMBERS:
        raise ValueError(f"members {members} is outside {MIN_MEMBERS}–{MAX_MEMBERS}")
    rng = random.Random(seed)
    chosen = MEMBERS[:members]
    out: dict[str, list[tuple[int, dict[str, Any]]]] = {m: [] for m in chosen}
    for index, (mineral, (form, purity, base)) in enumerate(MINERALS.items()):
        holders = chosen if index < BROAD else rng.sample(chosen, rng.choice((1, 2)))
        for member in holders:
            gross = max(1, round(base * rng.uniform(0.7, 1.3)))
            contained = int(gross * float(purity) * 10 // 100) / 10
            share = rng.randint(5, 40)
            row = {
                "period": period,
                "member": member,
                "mineral": mineral,
                "form": f"{form} ({DEMO_LABEL})",
                "purity_pct": purity,
                "quantity_gross_t": str(gross),
                "quantity_contained_t": str(contained),
                "holder_type": "public_strategic"
                if index < BROAD
                else rng.choice(("public_strategic", "obligated_industry")),
                "location_country": member,
                "consumption_share": f"{share}%",
                "trend_5y": rng.choice(("rising", "stable", "falling")),
                "release_rules": f"{DEMO_LABEL}: not a real holding. Released on a declared supply emergency.",
                "allocation_rules": f"{DEMO_LABEL}: pro rata to the previous year's consumption.",
                "distribution_rules": f"{DEMO_LABEL}: sold at the previous quarter's average price.",
                "release_rule": DEMO_RULE,
            }
            out[member].append((len(out[member]) + 1, row))
    return {m: rows for m, rows in out.items() if rows}
