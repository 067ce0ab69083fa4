"""Apply ledger operations to loaded state and enforce mass balance (pure; no I/O).

The capture step loads the facilities, lots, balances and credits a document touches, runs every operation of
the document through :class:`MassBalance` in eventTime order (:func:`in_time_order`), and writes the resulting
rows back in the same transaction. Any issue rejects the whole document.

Time: every balance remembers the eventTime of the latest event that added to it, and an event may only draw
from a balance at or after that time (``event-out-of-order``). So a shipment, receipt or transformation never
precedes the production or receipt it draws from, whatever order documents arrive in; a late-arriving earlier
event is accepted when everything it draws from was already there at its time. With every draw checked this way
(and the quantity rule), a balance replayed in eventTime order never goes negative at any moment.

Origination: material enters the registry only where it can — commissioning at a mine, or at a recycler when
the lot declares ``lodeline:recycled`` feed — or as declared opening stock (ILMD ``lodeline:openingStock`` with
a reason), which the lot carries and every origin report flags (``origination-not-allowed`` otherwise).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from lodeline.trace.errors import EventIssue
from lodeline.trace.ledger import YIELD_TOLERANCE, LedgerOp, certified_at, quarter, reference_data

EPS = 1e-6  # kg; float noise allowed when a stock is drawn to exactly zero
#: The opening-stock reason of lots originated, before these rules existed, where material cannot originate.
LEGACY_OPENING_STOCK = "originated before trace_0004 at a facility that cannot originate material"

Key = tuple[str, str, str]  # (facility, lot, stock | transit)


def in_time_order(ops: list[LedgerOp]) -> list[LedgerOp]:
    """The order a document's operations are applied in: eventTime (UTC), document order among equal times."""
    return sorted(ops, key=lambda op: op.event_time)


def keys_needed(ops: list[LedgerOp]) -> tuple[set[str], set[str], set[tuple[str, str, str]]]:
    """Facilities, lots and (facility, lot, state) balance keys the operations read."""
    facs: set[str] = set()
    lots: set[str] = set()
    bal: set[tuple[str, str, str]] = set()
    for op in ops:
        facs.add(op.facility)
        if op.counterpart:
            facs.add(op.counterpart)
        for it in op.inputs + op.outputs:
            lots.add(it.lot)
            bal.add((op.facility, it.lot, "stock"))
            bal.add((op.facility, it.lot, "transit"))
            if op.kind == "ship" and op.counterpart:
                bal.add((op.counterpart, it.lot, "transit"))
    return facs, lots, bal


class MassBalance:
    def __init__(
        self,
        facilities: dict[str, dict[str, Any]],
        lots: dict[str, dict[str, Any]],
        balances: dict[tuple[str, str, str], float],
        credits: dict[tuple[str, str], list[float]],
        submitter: str | None = None,
        *,
        added_at: dict[Key, str] | None = None,
        legacy: bool = False,
    ) -> None:
        self.facilities = facilities
        # Only a facility's operator records what happens at it (ships from, receives into, produces or
        # transforms there); None skips the check (pure computations over already-accepted events).
        self.submitter = submitter
        # legacy: replay events accepted before trace_0004 as capture then ran them (no origination, time-order
        # or lot-consistency rule, lodeline:openingStock not read); a lot with an origin where material cannot
        # originate is marked as opening stock, as the migration marks it.
        self.legacy = legacy
        self.lots = lots
        self.existing_lots = set(lots)
        self.balances: dict[Key, float] = defaultdict(float, balances)
        self.added_at: dict[Key, str] = dict(added_at or {})
        self.credits = credits
        self.touched_lots: set[str] = set()
        self.touched_credits: set[tuple[str, str]] = set()
        self.sources: list[dict[str, Any]] = []
        self.claims: list[dict[str, Any]] = []
        self.issues: list[EventIssue] = []
        data = reference_data()
        self.materials: dict[str, Any] = data["materials"]
        self.processes: dict[str, Any] = data["processes"]

    def _bad(self, op: LedgerOp, code: str, reason: str, fld: str | None = None) -> None:
        self.issues.append(
            EventIssue(code=code, reason=reason, index=op.index, event_id=op.event_id, field=fld)
        )

    def _facility(self, op: LedgerOp, fid: str, fld: str) -> dict[str, Any] | None:
        fac = self.facilities.get(fid)
        if fac is None:
            self._bad(op, "unknown-facility", f"facility {fid} is not registered", fld)
        return fac

    def apply(self, op: LedgerOp) -> None:
        fac = self._facility(op, op.facility, "bizLocation")
        if op.counterpart:
            self._facility(op, op.counterpart, "destinationList" if op.kind == "ship" else "sourceList")
        if fac is None:
            return
        if self.submitter is not None and fac["operator_id"] != self.submitter:
            where = (
                "sourceList"
                if op.kind == "ship"
                else "destinationList"
                if op.kind == "receive"
                else "bizLocation"
            )
            # Never name the operator: the facility is the submitter's to name, its operator is not.
            self._bad(
                op,
                "facility-not-operated",
                f"participant {self.submitter!r} does not operate facility {op.facility}; only a facility's "
                "operator records events there",
                where,
            )
            return
        getattr(self, f"_{op.kind}")(op, fac)

    def _draw(self, op: LedgerOp, key: Key, kg: float, code: str, what: str, fld: str) -> bool:
        since = self.added_at.get(key)
        if since is not None and op.event_time < since and not self.legacy:
            self._bad(
                op,
                "event-out-of-order",
                f"{what} lot {key[1]} at {op.event_time}, before {since}, the time of the latest event that put it "
                f"{'there' if key[2] == 'stock' else 'in transit there'}; an event draws only on material "
                "recorded at or before its eventTime",
                fld,
            )
            return False
        have = self.balances[key]
        if kg > have + EPS:
            self._bad(
                op,
                code,
                f"{what} {kg:,.3f} kg of lot {key[1]} at {op.event_time} but only {have:,.3f} kg is available "
                "then (a document's events apply in eventTime order)",
                fld,
            )
            return False
        self.balances[key] = have - kg
        return True

    def _add(self, key: Key, kg: float, event_time: str) -> None:
        self.balances[key] += kg
        if event_time > self.added_at.get(key, ""):
            self.added_at[key] = event_time

    def _new_lot(self, op: LedgerOp, lot: str, fac: dict[str, Any], fld: str) -> dict[str, Any] | None:
        material = op.attrs.get("material")
        if material not in self.materials:
            self._bad(
                op,
                "unknown-material",
                f"ilmd lodeline:material {material!r} is not in the conversion data",
                "ilmd.lodeline:material",
            )
            return None
        spec = self.materials[material]
        fraction = float(op.attrs.get("metalFraction", spec["metal_fraction"]))
        if not 0 < fraction <= 1:
            self._bad(
                op,
                "ledger-bad-quantity",
                "lodeline:metalFraction must be in (0, 1]",
                "ilmd.lodeline:metalFraction",
            )
            return None
        recycled = op.attrs.get("recycled")
        if recycled not in (None, "pre-consumer", "post-consumer"):
            self._bad(
                op,
                "ledger-bad-value",
                "lodeline:recycled must be pre-consumer or post-consumer",
                "ilmd.lodeline:recycled",
            )
            return None
        row = {
            "id": lot,
            "material": material,
            "mineral": spec["mineral"],
            "metal_fraction": fraction,
            "recycled": recycled,
            "certified_fraction": 0.0,
            "produced_metal_kg": 0.0,
            "facility_id": fac["id"],
            "opening_stock": None,
        }
        self.lots[lot] = row
        return row

    def _produced(
        self, op: LedgerOp, fac: dict[str, Any], lot: str, kg: float, certified_share: float, fld: str
    ) -> float | None:
        """Add ``kg`` of ``lot`` to the facility's stock and record the claim; returns the contained metal."""
        row = self.lots.get(lot)
        if row is None:
            row = self._new_lot(op, lot, fac, fld)
            if row is None:
                return None
        elif row["facility_id"] != fac["id"]:
            # Where another facility's lot was produced is its producer's business: not named.
            self._bad(
                op,
                "lot-conflict",
                f"lot {lot} was first produced at another facility, not at {fac['id']}; a lot is produced at one "
                "facility only (give this output its own lot number)",
                fld,
            )
            return None
        metal = kg * row["metal_fraction"]
        certified_kg = metal * certified_share
        total = row["produced_metal_kg"] + metal
        row["certified_fraction"] = (
            row["certified_fraction"] * row["produced_metal_kg"] + certified_kg
        ) / total
        row["produced_metal_kg"] = total
        self.touched_lots.add(lot)
        self._add((fac["id"], lot, "stock"), kg, op.event_time)
        self.claims.append(
            {
                "lot_id": lot,
                "event_hash": op.hash_id,
                "facility_id": fac["id"],
                "custody_model": fac["custody_model"],
                "period": quarter(op.event_time),
                "metal_kg": metal,
                "certified_metal_kg": certified_kg,
            }
        )
        return metal

    def _origination(self, op: LedgerOp, fac: dict[str, Any]) -> tuple[bool, str | None]:
        """(may this commissioning bring material in, the opening-stock reason it carries)."""
        if self.legacy:
            return True, None  # capture did not read lodeline:openingStock then; see _produce
        declared = op.attrs.get("openingStock")
        if isinstance(declared, str) and declared.strip():
            return True, declared.strip()
        if originates(fac, op.attrs.get("recycled")):
            return True, None
        kind = fac.get("facility_type")
        where = "a recycler without lodeline:recycled feed" if kind == "recycler" else f"a {kind}"
        self._bad(
            op,
            "origination-not-allowed",
            f"material cannot enter the registry at {where} ({fac['id']}): commission it at a mine or a recycler "
            "(declaring lodeline:recycled), or declare it as opening stock (ilmd lodeline:openingStock with a reason)",
            "ilmd.lodeline:openingStock",
        )
        return False, None

    def _consistent(self, op: LedgerOp, fac: dict[str, Any], lot: str, opening: str | None, fld: str) -> bool:
        """A lot produced again keeps how it entered the registry: opening stock or not, recycled or not. (A lot
        first produced at another facility is refused by :meth:`_produced`, without saying how it entered.)"""
        row = self.lots.get(lot)
        if row is None or self.legacy or row["facility_id"] != fac["id"]:
            return True
        if bool(row.get("opening_stock")) != bool(opening) or row.get("recycled") != op.attrs.get("recycled"):
            self._bad(
                op,
                "lot-conflict",
                f"lot {lot} was first recorded as {_entry(row.get('opening_stock'), row.get('recycled'))}; this "
                f"event records it as {_entry(opening, op.attrs.get('recycled'))}",
                fld,
            )
            return False
        return True

    def _produce(self, op: LedgerOp, fac: dict[str, Any]) -> None:
        allowed, opening = self._origination(op, fac)
        if not allowed:
            return
        share = 1.0 if certified_at(fac, op.event_time) else 0.0
        for j, it in enumerate(op.outputs):
            if not self._consistent(op, fac, it.lot, opening, f"quantityList[{j}]"):
                continue
            new = it.lot not in self.lots
            metal = self._produced(op, fac, it.lot, it.kg, share, f"quantityList[{j}]")
            if metal is None:
                continue
            row = self.lots[it.lot]
            if self.legacy:
                # as trace_0004's backfill marks them: a lot with an origin where material cannot originate
                if not row.get("opening_stock") and not originates(fac, row.get("recycled")):
                    row["opening_stock"] = LEGACY_OPENING_STOCK
            elif new and opening:
                row["opening_stock"] = opening
            self.sources.append(
                {
                    "lot_id": it.lot,
                    "event_hash": op.hash_id,
                    "facility_id": fac["id"],
                    "source_lot": None,
                    "metal_kg": metal,
                    "event_time": op.event_time,
                }
            )

    def _ship(self, op: LedgerOp, fac: dict[str, Any]) -> None:
        for j, it in enumerate(op.inputs):
            if (
                self._draw(
                    op, (fac["id"], it.lot, "stock"), it.kg, "over-shipment", "ships", f"quantityList[{j}]"
                )
                and op.counterpart
            ):
                self._add((op.counterpart, it.lot, "transit"), it.kg, op.event_time)

    def _receive(self, op: LedgerOp, fac: dict[str, Any]) -> None:
        for j, it in enumerate(op.outputs):
            if self._draw(
                op, (fac["id"], it.lot, "transit"), it.kg, "over-receipt", "receives", f"quantityList[{j}]"
            ):
                self._add((fac["id"], it.lot, "stock"), it.kg, op.event_time)

    def _transform(self, op: LedgerOp, fac: dict[str, Any]) -> None:
        process = op.attrs.get("process")
        if process not in self.processes:
            self._bad(
                op,
                "unknown-process",
                f"lodeline:process {process!r} is not in the process data",
                "lodeline:process",
            )
            return
        inputs: list[tuple[str, float, dict[str, Any]]] = []
        for j, it in enumerate(op.inputs):
            lot = self.lots.get(it.lot)
            if lot is None:
                self._bad(
                    op, "unknown-lot", f"input lot {it.lot} was never produced", f"inputQuantityList[{j}]"
                )
            elif self._draw(
                op,
                (fac["id"], it.lot, "stock"),
                it.kg,
                "over-consumption",
                "transforms",
                f"inputQuantityList[{j}]",
            ):
                inputs.append((it.lot, it.kg * lot["metal_fraction"], lot))
        if len(inputs) != len(op.inputs):
            return
        outputs = []
        for j, it in enumerate(op.outputs):
            row = self.lots.get(it.lot) or self._new_lot(op, it.lot, fac, f"outputQuantityList[{j}]")
            if row is None:
                return
            outputs.append((it, row))
        max_yield = float(self.processes[process]["max_yield"])
        for mineral in sorted({row["mineral"] for _, row in outputs}):
            in_metal = sum(m for _, m, lot in inputs if lot["mineral"] == mineral)
            out_metal = sum(it.kg * row["metal_fraction"] for it, row in outputs if row["mineral"] == mineral)
            if in_metal <= 0:
                self._bad(
                    op, "basis-mismatch", f"outputs contain {mineral} but no input does", "inputQuantityList"
                )
                return
            computed = out_metal / in_metal
            if computed > max_yield + 1e-9:
                self._bad(
                    op,
                    "yield-above-maximum",
                    f"{mineral} yield {computed:.4f} exceeds the {process} maximum {max_yield}",
                    "outputQuantityList",
                )
                return
            declared = op.attrs.get("declaredYield")
            if declared is not None and abs(float(declared) - computed) > YIELD_TOLERANCE:
                self._bad(
                    op,
                    "yield-mismatch",
                    f"declared yield {declared} but quantities give {computed:.4f}",
                    "lodeline:declaredYield",
                )
                return
            self._outputs(
                op,
                fac,
                mineral,
                inputs,
                [(it, r) for it, r in outputs if r["mineral"] == mineral],
                in_metal,
                computed,
            )

    def _outputs(
        self,
        op: LedgerOp,
        fac: dict[str, Any],
        mineral: str,
        inputs: list[tuple[str, float, Any]],
        outputs: list[tuple[Any, dict[str, Any]]],
        in_metal: float,
        yld: float,
    ) -> None:
        basis = [(lot_id, m, lot) for lot_id, m, lot in inputs if lot["mineral"] == mineral]
        certified_in = sum(m * lot["certified_fraction"] for _, m, lot in basis)
        credit = None
        if fac["custody_model"] == "mass_balance":
            # ISO 22095 mass balance: certified input metal (net of process loss) becomes credits for the
            # period; outputs claim certified metal from the credits until they run out.
            key = (fac["id"], quarter(op.event_time))
            credit = self.credits.setdefault(key, [0.0, 0.0])
            credit[0] += certified_in * yld
            self.touched_credits.add(key)
        for j, (it, row) in enumerate(outputs):
            out_metal = it.kg * row["metal_fraction"]
            if credit is None:
                certified = out_metal * certified_in / in_metal
            else:
                certified = max(0.0, min(out_metal, credit[0] - credit[1]))
                credit[1] += certified
            if (
                self._produced(op, fac, it.lot, it.kg, certified / out_metal, f"outputQuantityList[{j}]")
                is None
            ):
                return
            for lot_id, m, _lot in basis:
                self.sources.append(
                    {
                        "lot_id": it.lot,
                        "event_hash": op.hash_id,
                        "facility_id": fac["id"],
                        "source_lot": lot_id,
                        "metal_kg": out_metal * m / in_metal,
                        "event_time": op.event_time,
                    }
                )


def originates(facility: dict[str, Any], recycled: Any) -> bool:
    """Whether material can enter the registry at ``facility`` without being declared opening stock: at a mine,
    or at a recycler for lots of declared recycled feed (``recycled``)."""
    kind = facility.get("facility_type")
    return kind == "mine" or (kind == "recycler" and bool(recycled))


def journal_dates(moves: Iterable[tuple[str, str, str, str | None, str]]) -> dict[Key, str]:
    """The ``added_at`` that ``trace_0004``'s backfill gives each balance from the custody journal: the latest
    eventTime of a movement into it — produced or received into a facility's stock, shipped in transit to a
    facility. ``moves``: (lot, movement, facility, counterpart, event_time) of journal rows. The same rule as the
    migration's SQL, for the audit's replay of events captured before it."""
    dates: dict[Key, str] = {}
    for lot, movement, facility, counterpart, event_time in moves:
        if movement in ("produce", "receive"):
            key: Key = (facility, lot, "stock")
        elif movement == "ship" and counterpart is not None:
            key = (counterpart, lot, "transit")
        else:
            continue
        if event_time > dates.get(key, ""):
            dates[key] = event_time
    return dates


def _entry(opening: str | None, recycled: str | None) -> str:
    if opening:
        return "opening stock"
    return f"{recycled} recycled material" if recycled else "primary material"


def lot_owners(
    lot: str,
    lots: dict[str, dict[str, Any]],
    balances: dict[Key, float],
    facilities: dict[str, dict[str, Any]],
) -> set[str]:
    """The participants that own a lot: the operator of every facility that holds it (in stock, or in transit to
    it) and the operator of the facility that produced it. Pure; ``facilities`` must hold those facilities."""
    owners: set[str] = set()
    row = lots.get(lot)
    if row is not None and row["facility_id"] in facilities:
        owners.add(facilities[row["facility_id"]]["operator_id"])
    for (fid, held, _state), kg in balances.items():
        if held == lot and kg > EPS and fid in facilities:
            owners.add(facilities[fid]["operator_id"])
    return owners
