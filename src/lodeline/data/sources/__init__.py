"""One parser module per bundled source. Each module exposes ``DATASET: DatasetSpec``.

Add a source by writing its module and listing it in ``SOURCE_MODULES``.
"""

from __future__ import annotations

import importlib

from lodeline.data.catalog import DatasetSpec

SOURCE_MODULES: tuple[str, ...] = (
    "reference",
    "policy_targets",
    "policy_deals",
    "usgs_mcs2026",
    "usgs_mcs2025",
    "usgs_mcs2025_salient",
    "usgs_myb2023_gallium_germanium",
    "usgs_ds140",
    "cepii_baci",
    "wgi",
    "eu_crm_2023",
    "bgs_refined_shares",
    "worldbank_pinksheet",
    "unep_recycling",
    "iea_critical_minerals",
)


def all_datasets() -> list[DatasetSpec]:
    return [importlib.import_module(f"{__name__}.{name}").DATASET for name in SOURCE_MODULES]
