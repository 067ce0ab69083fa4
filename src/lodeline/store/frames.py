"""Mapping between SQLAlchemy column types and Polars dtypes."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Table


def polars_dtype(column_type: object) -> pl.DataType:
    if isinstance(column_type, Integer):
        return pl.Int64()
    if isinstance(column_type, Float):
        return pl.Float64()
    if isinstance(column_type, Boolean):
        return pl.Boolean()
    if isinstance(column_type, DateTime):
        return pl.Datetime(time_zone="UTC")
    if isinstance(column_type, Date):
        return pl.Date()
    return pl.String()


def table_schema(table: Table) -> dict[str, pl.DataType]:
    return {c.name: polars_dtype(c.type) for c in table.columns}
