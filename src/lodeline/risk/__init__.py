"""Criticality and supply risk: the EU 2017 method (SR, EI), governance-weighted import risk, sensitivity.

Everything here is pure computation on Polars frames and numpy arrays, except :mod:`lodeline.risk.loader`,
which reads the canonical tables through :func:`lodeline.store.canonical.read_table` and nothing else.
"""

from __future__ import annotations

#: EC (2017) thresholds: a material is critical when SR >= 1 AND EI >= 2.8.
SR_THRESHOLD = 1.0
EI_THRESHOLD = 2.8
#: Status of a material whose SR cannot be computed (never reported as zero).
INSUFFICIENT = "insufficient data"

#: The EU method's two stages and the production-table stage each one reads.
EU_STAGES: dict[str, str] = {"extraction": "mining", "processing": "refining"}
