"""Fusion of indicator readings into one level per mineral, with a plain-language explanation.

The fused level is the highest level any indicator reaches on its own (hysteresis already applied per indicator,
see :mod:`lodeline.alerts.thresholds`); the explanation names every indicator at that level, strongest first, with
its value and the threshold it crossed, then the lower ones. De-duplication: one alert per mineral per scan (the
:attr:`Alert.key`); the backtest counts *entries* into a level, not months spent in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from lodeline.alerts.model import Alert, IndicatorReading, Level


def _strength(r: IndicatorReading) -> tuple[int, float]:
    return (r.level.rank, abs(r.value) if r.value is not None else 0.0)


def fuse(mineral: str, as_of: dt.date, readings: Iterable[IndicatorReading]) -> Alert:
    ordered = tuple(sorted(readings, key=_strength, reverse=True))
    if not ordered:
        return Alert(
            mineral, Level.NORMAL, as_of, f"{mineral}: no indicator has data published by {as_of}", ()
        )
    level = ordered[0].level
    drivers = [r for r in ordered if r.level == level]
    if level == Level.NORMAL:
        text = f"{mineral}: normal; {len(ordered)} indicator(s) read, none above its watch threshold"
    else:
        named = "; ".join(f"{r.indicator} ({r.explanation})" for r in drivers)
        text = f"{mineral}: {level.value.upper()} driven by {named}"
        lower = [r for r in ordered if r.level != level and r.level != Level.NORMAL]
        if lower:
            text += "; also " + ", ".join(f"{r.indicator} at {r.level.value}" for r in lower)
    return Alert(mineral=mineral, level=level, as_of=as_of, explanation=text, readings=ordered)
