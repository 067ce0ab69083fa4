"""The published table: mineral × group × form with margins (label ``"ALL"``), its cell statistics per contributor
and its additivity constraints. Cells are numbered row-major with ``ALL`` as the last category of each dimension."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse

from lodeline.stockpiles.disclosure_rules import DisclosureInputError

ALL = "ALL"
KEYS = ("mineral", "group", "form")
COLUMNS = (*KEYS, "member", "tonnes")


@dataclass(frozen=True)
class CellTable:
    """A 3-D table with margins. Arrays are indexed by cell number; ``constraints`` has one row per margin cell and
    dimension it totals over (margin − Σ children = 0), so ``constraints @ value == 0``."""

    categories: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]
    value: np.ndarray  # tonnes
    contributors: np.ndarray  # members with a row in the cell
    largest: np.ndarray  # x1, largest member total
    second: np.ndarray  # x2
    top_n: np.ndarray  # sum of the dominance_n largest
    constraints: sparse.csr_matrix

    @property
    def shape(self) -> tuple[int, int, int]:
        m, g, f = (len(c) + 1 for c in self.categories)
        return m, g, f

    @property
    def n_cells(self) -> int:
        return int(self.value.size)

    def coords(self) -> np.ndarray:
        """[n_cells, 3] category codes (the last code of a dimension is ``ALL``)."""
        return np.stack(np.unravel_index(np.arange(self.n_cells), self.shape), axis=1)

    def labels(self) -> pl.DataFrame:
        """mineral, group, form of every cell, in cell order."""
        coords = self.coords()
        cols = {}
        for d, key in enumerate(KEYS):
            names = np.array([*self.categories[d], ALL], dtype=object)
            cols[key] = pl.Series(key, names[coords[:, d]].tolist(), dtype=pl.Utf8)
        return pl.DataFrame(cols)

    def cell_index(self, frame: pl.DataFrame, *, what: str) -> np.ndarray:
        """Cell numbers of the (mineral, group, form) rows of ``frame``; an unknown label names the row."""
        codes = []
        for d, key in enumerate(KEYS):
            lookup = {name: i for i, name in enumerate([*self.categories[d], ALL])}
            col = frame.get_column(key).to_list()
            out = np.empty(len(col), dtype=np.int64)
            for row, label in enumerate(col):
                if label not in lookup:
                    raise DisclosureInputError(
                        f"{what}, row {row + 1}, column {key!r}: {label!r} is not a category of the table"
                    )
                out[row] = lookup[label]
            codes.append(out)
        return np.ravel_multi_index(tuple(codes), self.shape).astype(np.int64)


def validate_contributions(contributions: pl.DataFrame) -> pl.DataFrame:
    """The contributions with string keys and float tonnes, or an error naming the row and column."""
    if not isinstance(contributions, pl.DataFrame):
        raise DisclosureInputError(
            f"contributions: expected a Polars DataFrame, got {type(contributions).__name__}"
        )
    missing = [c for c in COLUMNS if c not in contributions.columns]
    if missing:
        raise DisclosureInputError(f"contributions: missing column(s) {missing}; expected {list(COLUMNS)}")
    if contributions.height == 0:
        raise DisclosureInputError("contributions: no rows; a table needs at least one contribution")
    frame = contributions.select(COLUMNS)
    for key in (*KEYS, "member"):
        col = frame.get_column(key)
        nulls = col.is_null()
        if nulls.any():
            row = int(nulls.arg_true()[0]) + 1
            raise DisclosureInputError(f"contributions, row {row}, column {key!r}: missing value")
        text = col.cast(pl.Utf8, strict=False)
        if key != "member":
            bad = (text == ALL) | (text.str.strip_chars() == "")
            if bad.any():
                row = int(bad.arg_true()[0]) + 1
                raise DisclosureInputError(
                    f"contributions, row {row}, column {key!r}: {text[row - 1]!r} is reserved or empty "
                    f"({ALL!r} labels the margins)"
                )
    try:
        tonnes = frame.get_column("tonnes").cast(pl.Float64, strict=True)
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError):
        raise DisclosureInputError("contributions, column 'tonnes': not numeric") from None
    for row, t in enumerate(tonnes.to_list()):
        if t is None or not math.isfinite(t) or t < 0:
            raise DisclosureInputError(
                f"contributions, row {row + 1}, column 'tonnes': {t!r} is not a finite quantity ≥ 0"
            )
    frame = frame.with_columns(
        [pl.col(k).cast(pl.Utf8) for k in (*KEYS, "member")] + [tonnes.alias("tonnes")]
    ).with_row_index("_row", offset=1)
    dup = frame.filter(pl.struct([*KEYS, "member"]).is_duplicated())
    if dup.height:
        first = dup.row(0, named=True)
        rows = dup.filter(
            (pl.col("mineral") == first["mineral"])
            & (pl.col("group") == first["group"])
            & (pl.col("form") == first["form"])
            & (pl.col("member") == first["member"])
        )["_row"].to_list()
        raise DisclosureInputError(
            f"contributions, rows {rows}: member {first['member']!r} appears more than once in cell "
            f"({first['mineral']}, {first['group']}, {first['form']}); give one row per contributor and cell"
        )
    return frame.drop("_row")


def build_table(contributions: pl.DataFrame, dominance_n: int = 2) -> CellTable:
    """The table with margins and, for every cell, the count and largest totals of its contributors (a member's
    contributions to a margin cell are summed first: the contributor of a total is the member, not the row)."""
    frame = validate_contributions(contributions)
    categories = tuple(tuple(sorted(frame.get_column(k).unique().to_list())) for k in KEYS)
    shape = tuple(len(c) + 1 for c in categories)
    codes = [
        frame.get_column(k).replace_strict(list(categories[d]), list(range(len(categories[d])))).to_numpy()
        for d, k in enumerate(KEYS)
    ]
    member = frame.get_column("member").cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)
    tonnes = frame.get_column("tonnes").to_numpy()
    parts = []
    for pattern in range(8):  # each subset of dimensions replaced by ALL
        c = [np.full_like(codes[d], shape[d] - 1) if pattern >> d & 1 else codes[d] for d in range(3)]
        cell = np.ravel_multi_index(tuple(c), shape)
        parts.append(pl.DataFrame({"cell": cell, "member": member, "t": tonnes}))
    per_member = pl.concat(parts).group_by("cell", "member").agg(pl.col("t").sum())
    stats = per_member.group_by("cell").agg(
        pl.len().alias("n"),
        pl.col("t").sum().alias("total"),
        pl.col("t").max().alias("x1"),
        pl.col("t").sort(descending=True).slice(1, 1).sum().alias("x2"),
        pl.col("t").sort(descending=True).head(dominance_n).sum().alias("top"),
    )
    n_cells = int(np.prod(shape))
    idx = stats.get_column("cell").to_numpy()

    def spread(col: str, dtype: type = float) -> np.ndarray:
        out: np.ndarray = np.zeros(n_cells, dtype=dtype)
        out[idx] = stats.get_column(col).to_numpy()
        return out

    return CellTable(
        categories=categories,  # type: ignore[arg-type]
        value=spread("total"),
        contributors=spread("n", np.int64),
        largest=spread("x1"),
        second=spread("x2"),
        top_n=spread("top"),
        constraints=additivity(shape),  # type: ignore[arg-type]
    )


def additivity(shape: tuple[int, int, int]) -> sparse.csr_matrix:
    """One row per (margin cell, dimension it totals over): +1 on the margin, −1 on each of its children."""
    n_cells = int(np.prod(shape))
    coords = np.stack(np.unravel_index(np.arange(n_cells), shape), axis=1)
    strides = (shape[1] * shape[2], shape[2], 1)
    rows, cols, vals = [], [], []
    n_rows = 0
    for d in range(3):
        margins = np.flatnonzero(coords[:, d] == shape[d] - 1)
        k = shape[d] - 1
        r = n_rows + np.arange(margins.size)
        children = margins[:, None] - (k - np.arange(k))[None, :] * strides[d]
        rows += [r, np.repeat(r, k)]
        cols += [margins, children.ravel()]
        vals += [np.ones(margins.size), -np.ones(children.size)]
        n_rows += margins.size
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, n_cells)
    )
