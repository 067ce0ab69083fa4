"""Audit the stored log: recompute the tree from the leaf data and check every stored hash and checkpoint.

What is checked (each failure is one :class:`Finding` naming the place):

- ``leaf-missing`` / ``leaf-extra``: a leaf row missing below the head's tree size, or one at or beyond it
  (so a changed head size shows up as one or the other).
- ``leaf-hash-mismatch``: a stored leaf hash is not SHA-256(0x00 || stored leaf data) (names the leaf index).
- ``subtree-mismatch`` / ``subtree-missing`` / ``subtree-extra``: a stored perfect-subtree hash is not the
  node hash of its two stored children, is absent, or lies beyond the tree (names level, node index and the
  leaf range it covers). Checking each row against its stored children names the changed row itself
  rather than all its ancestors.
- ``checkpoint-*``: for every checkpoint issued, the signed note must verify under the registry key
  (``checkpoint-signature``), its body must match the stored columns (``checkpoint-row-mismatch``), its
  size must be inside the log (``checkpoint-beyond-log``), and its root must equal the root recomputed from
  the leaf data at that size (``checkpoint-root-mismatch``, names the checkpoint id and size).
- With a leaf source hook: ``event-leaf-mismatch`` (the leaf data recomputed from a stored event differs
  from the stored leaf data), ``event-leaf-missing`` (an event's leaf index is not in the log) and
  ``leaf-without-event`` (a leaf no event accounts for and that is not a well-formed directory leaf: the
  registry's directory changes are leaves too, see :mod:`lodeline.trace.directory`, checked against the directory
  tables by :mod:`lodeline.trace.audit_directory`). Other capabilities append leaves of their own kinds
  (:mod:`lodeline.store.leaf_kinds`: a member's stock submission version is ``lodeline-stocks/v1:<sha256>``,
  docs/stocks.md): such a leaf is accounted for when a stored row at that index still yields it, else the kind's
  mismatch finding (``stock-leaf-mismatch``, …).

**The leaf source hook.** ``leaf_source(conn)`` is any callable that yields ``(leaf_index, leaf_data)`` for
every leaf it can recompute from its own records; the capture side passes one that re-derives each stored
event's EPCIS hash ID (``ni:///sha-256;…``) from the stored event itself, so a changed event is caught even if
its leaf row was left alone. The CLI picks it up from ``lodeline.trace.capture.leaf_data_from_events`` when
that function exists (see :data:`LEAF_SOURCE_HOOK`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection

from lodeline.errors import InvalidArgumentError, LodelineError
from lodeline.store import leaf_kinds
from lodeline.store import tracelog as store
from lodeline.tlog import merkle
from lodeline.trace import checkpoint, directory

#: "module:function" the CLI imports (when present) as the audit's leaf source hook.
LEAF_SOURCE_HOOK = "lodeline.trace.capture:leaf_data_from_events"

#: Values a stored node may be: (stored,) normally, () if missing, several if a mismatch leaves it open.
Candidates = tuple[bytes, ...]

LeafSource = Callable[[Connection], Iterable[tuple[int, bytes]]]

#: Leaves are recomputed in aligned blocks of 2**BLOCK_LEVEL; higher levels are built from the block roots.
BLOCK_LEVEL = 14
MAX_FINDINGS_PER_KIND = 1000


@dataclass(frozen=True)
class Finding:
    kind: str
    message: str
    leaf_index: int | None = None
    level: int | None = None
    node_index: int | None = None
    checkpoint_id: int | None = None
    tree_size: int | None = None


@dataclass
class AuditReport:
    tree_size: int
    leaves_checked: int = 0
    subtrees_checked: int = 0
    checkpoints_checked: int = 0
    events_checked: int = 0
    directory_leaves: int = 0  # leaves that are directory changes (lodeline.trace.directory), not events
    #: leaves of the other kinds (lodeline.store.leaf_kinds), by kind name, e.g. {"stocks": 3}
    kind_leaves: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    truncated: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings and not self.truncated

    def add(self, finding: Finding) -> None:
        count = sum(1 for f in self.findings if f.kind == finding.kind)
        if count >= MAX_FINDINGS_PER_KIND:
            self.truncated[finding.kind] = self.truncated.get(finding.kind, 0) + 1
            return
        self.findings.append(finding)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tree_size": self.tree_size,
            "leaves_checked": self.leaves_checked,
            "subtrees_checked": self.subtrees_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "events_checked": self.events_checked,
            "directory_leaves": self.directory_leaves,
            "kind_leaves": dict(sorted(self.kind_leaves.items())),
            "findings": [{k: v for k, v in asdict(f).items() if v is not None} for f in self.findings],
            "findings_not_listed": self.truncated,
        }


class _Recomputed:
    """Walks the tree bottom-up in aligned blocks, carrying two views of every level.

    ``hashes`` are recomputed from the stored leaf DATA (the truth checkpoints are compared against);
    ``stored`` are the stored hashes. Each stored subtree hash is checked against its two STORED children,
    so a changed subtree row is named exactly, instead of flagging every ancestor of a changed leaf.
    """

    def __init__(self, conn: Connection, report: AuditReport, wanted: set[merkle.Subtree]) -> None:
        self.conn, self.report = conn, report
        self.wanted: dict[int, list[int]] = {}
        for level, index in sorted(wanted):
            self.wanted.setdefault(level, []).append(index)
        self.kept: dict[merkle.Subtree, bytes] = {}
        self.block_roots: list[bytes] = []
        self.stored_block_roots: list[Candidates] = []

    def keep(self, level: int, first: int, hashes: Sequence[bytes]) -> None:
        indices = self.wanted.get(level, [])
        for idx in indices[bisect_left(indices, first) : bisect_left(indices, first + len(hashes))]:
            self.kept[(level, idx)] = hashes[idx - first]

    def build_levels(
        self, level: int, first: int, hashes: list[bytes], stored: list[Candidates], top_level: int | None
    ) -> None:
        """From one level (aligned at ``first``), build and check every complete level above it."""
        self.keep(level, first, hashes)
        while len(hashes) >= 2 and (top_level is None or level < top_level):
            pairs = range(0, len(hashes) - 1, 2)
            hashes = [merkle.node_hash(hashes[j], hashes[j + 1]) for j in pairs]
            from_children = [
                tuple(dict.fromkeys(merkle.node_hash(a, b) for a in stored[j] for b in stored[j + 1]))
                for j in pairs
            ]
            level, first = level + 1, first // 2
            self.keep(level, first, hashes)
            stored = self.compare(level, first, from_children)
        if top_level is not None and level == top_level and len(hashes) == 1:
            self.block_roots.append(hashes[0])
            self.stored_block_roots.append(stored[0])

    def compare(self, level: int, first: int, from_children: Sequence[Candidates]) -> list[Candidates]:
        """Check stored hashes at ``level`` against what their stored children give.

        Returns, per node, the candidate values its parent may legitimately have been built from: the stored
        hash when it matches its children; both the stored and the children's hash when it does not (either
        the row itself or something under it changed, and the parent's check tells which), so one changed row
        is reported once, not once per ancestor.
        """
        found = store.nodes_in_range(self.conn, level, first, first + len(from_children))
        self.report.subtrees_checked += len(from_children)
        out: list[Candidates] = []
        for offset, expected in enumerate(from_children):
            index = first + offset
            lo, hi = index << level, (index + 1) << level
            got = found.get(index)
            if got is None:
                out.append(expected)
                self.report.add(
                    Finding(
                        "subtree-missing",
                        f"no stored hash for subtree level {level}, index {index} (leaves {lo}-{hi - 1})",
                        level=level,
                        node_index=index,
                    )
                )
            elif not expected or got in expected:
                out.append((got,))
            else:
                out.append((got, *expected))
                below = "stored leaf hashes" if level == 1 else "stored child subtree hashes"
                self.report.add(
                    Finding(
                        "subtree-mismatch",
                        f"stored hash of subtree level {level}, index {index} (leaves {lo}-{hi - 1}) is not the "
                        f"node hash of its {below}: this row, or a row under it, was changed",
                        level=level,
                        node_index=index,
                    )
                )
        return out


def _check_structure(conn: Connection, report: AuditReport) -> None:
    size = report.tree_size
    counts = store.node_counts(conn)
    for level, (count, max_index) in sorted(counts.items()):
        expected = size >> level
        if max_index >= expected:
            report.add(
                Finding(
                    "subtree-extra",
                    f"{count - min(count, expected)} stored subtree hash(es) at level {level} lie beyond a tree "
                    f"of size {size} (max node index {max_index}, expected < {expected})",
                    level=level,
                    node_index=max_index,
                )
            )
    last = store.max_leaf_index(conn)
    if last is not None and last >= size:
        report.add(
            Finding(
                "leaf-extra",
                f"leaf rows exist beyond the tree size {size} (max leaf index {last})",
                leaf_index=last,
            )
        )


def _recompute_leaves(conn: Connection, report: AuditReport, rec: _Recomputed) -> None:
    size = report.tree_size
    block = 1 << BLOCK_LEVEL
    for start in range(0, size, block):
        stop = min(size, start + block)
        hashes: list[bytes] = []
        stored: list[Candidates] = []
        expected_index = start
        for index, stored_hash, data in store.iter_leaves(conn, start, stop):
            while expected_index < index:
                report.add(
                    Finding("leaf-missing", f"leaf {expected_index} is missing", leaf_index=expected_index)
                )
                hashes.append(merkle.EMPTY_ROOT)  # placeholder keeps positions; the roots above will differ
                stored.append(())
                expected_index += 1
            computed = merkle.leaf_hash(data)
            if computed != stored_hash:
                report.add(
                    Finding(
                        "leaf-hash-mismatch",
                        f"leaf {index}: stored leaf hash {stored_hash.hex()} is not SHA-256(0x00 || leaf data) "
                        f"= {computed.hex()}",
                        leaf_index=index,
                    )
                )
            hashes.append(computed)
            stored.append((stored_hash,))
            expected_index += 1
        while expected_index < stop:
            report.add(
                Finding("leaf-missing", f"leaf {expected_index} is missing", leaf_index=expected_index)
            )
            hashes.append(merkle.EMPTY_ROOT)
            stored.append(())
            expected_index += 1
        report.leaves_checked += stop - start
        rec.build_levels(0, start, hashes, stored, BLOCK_LEVEL)
    if rec.block_roots:
        rec.build_levels(BLOCK_LEVEL, 0, rec.block_roots, rec.stored_block_roots, None)


def _check_checkpoints(
    rows: list[dict[str, Any]], report: AuditReport, rec: _Recomputed, verifiers: list[checkpoint.Verifier]
) -> None:
    for row in rows:
        report.checkpoints_checked += 1
        cid, size = int(row["checkpoint_id"]), int(row["tree_size"])
        where = f"checkpoint {cid} (size {size})"
        try:
            body = checkpoint.open_checkpoint(str(row["note"]), verifiers)
        except LodelineError as exc:
            report.add(
                Finding(
                    "checkpoint-signature",
                    f"{where}: signed note does not verify: {exc.message}",
                    checkpoint_id=cid,
                    tree_size=size,
                )
            )
            continue
        if (body.tree_size, body.root_hash, body.origin) != (size, bytes(row["root_hash"]), row["origin"]):
            report.add(
                Finding(
                    "checkpoint-row-mismatch",
                    f"{where}: stored columns differ from the signed note (note says size {body.tree_size}, "
                    f"root {body.root_hash.hex()}, origin {body.origin})",
                    checkpoint_id=cid,
                    tree_size=size,
                )
            )
        if body.tree_size > report.tree_size:
            report.add(
                Finding(
                    "checkpoint-beyond-log",
                    f"{where}: signed size {body.tree_size} is larger than the log ({report.tree_size} leaves)",
                    checkpoint_id=cid,
                    tree_size=body.tree_size,
                )
            )
            continue
        subtrees = merkle.range_subtrees(0, body.tree_size)
        root = merkle.fold_subtrees([rec.kept[s] for s in subtrees])
        if root != body.root_hash:
            report.add(
                Finding(
                    "checkpoint-root-mismatch",
                    f"{where}: signed root {body.root_hash.hex()} differs from the root recomputed from the "
                    f"leaf data ({root.hex()})",
                    checkpoint_id=cid,
                    tree_size=body.tree_size,
                )
            )


def _check_leaf_source(conn: Connection, report: AuditReport, leaf_source: LeafSource) -> None:
    from_events: dict[int, bytes] = {}
    for index, data in leaf_source(conn):
        report.events_checked += 1
        if not 0 <= index < report.tree_size:
            report.add(
                Finding(
                    "event-leaf-missing", f"an event maps to leaf {index}, not in the log", leaf_index=index
                )
            )
        else:
            from_events[index] = data
    from_rows: dict[str, dict[int, bytes]] = {}
    for index, _stored_hash, stored_data in store.iter_leaves(conn, 0, report.tree_size):
        expected = from_events.pop(index, None)
        kind = leaf_kinds.kind_of(stored_data) if expected is None else None
        if kind is not None:
            if kind.name not in from_rows:
                from_rows[kind.name] = kind.stored(conn)
            if from_rows[kind.name].get(index) == stored_data:
                report.kind_leaves[kind.name] = report.kind_leaves.get(kind.name, 0) + 1
                continue
            report.add(
                Finding(
                    kind.mismatch,
                    f"leaf {index}: no stored {kind.name} row at this index yields it",
                    leaf_index=index,
                )
            )
        elif expected is None and directory.is_directory_leaf(stored_data):
            try:  # a directory change: accounted for by the directory audit (lodeline.trace.audit_directory)
                directory.parse_leaf(index, stored_data)
                report.directory_leaves += 1
                continue
            except InvalidArgumentError as exc:
                why = f"no stored event yields it, and it is not a directory leaf ({exc.message})"
                report.add(Finding("leaf-without-event", f"leaf {index}: {why}", leaf_index=index))
        elif expected is None:
            report.add(
                Finding("leaf-without-event", f"leaf {index}: no stored event yields it", leaf_index=index)
            )
        elif expected != stored_data:
            report.add(
                Finding(
                    "event-leaf-mismatch",
                    f"leaf {index}: stored leaf data {stored_data[:80]!r} differs from the data recomputed from "
                    f"its event {expected[:80]!r}",
                    leaf_index=index,
                )
            )
    for index in sorted(from_events):  # leaf rows missing: already reported as leaf-missing, name the event
        report.add(
            Finding(
                "event-leaf-missing", f"an event maps to leaf {index}, whose row is gone", leaf_index=index
            )
        )


def run_audit(
    conn: Connection, verifiers: list[checkpoint.Verifier], *, leaf_source: LeafSource | None = None
) -> AuditReport:
    """Recompute the whole tree from the stored leaf data and check every stored hash and checkpoint.

    ``verifiers`` are the registry key(s) checkpoints must be signed with. Run inside one transaction (a
    consistent snapshot) — the CLI uses a read transaction.
    """
    # Checkpoints first, then the size: the tree only grows, so every checkpoint read is within the size read
    # after it, even if appends commit meanwhile (the CLI also runs the audit in one snapshot).
    rows = store.checkpoints(conn)
    report = AuditReport(tree_size=store.tree_size(conn))
    wanted: set[merkle.Subtree] = set()
    for row in rows:
        size = min(int(row["tree_size"]), report.tree_size)
        wanted.update(merkle.range_subtrees(0, size))
    # A checkpoint whose note claims another size than its row is checked at the note's size too.
    for row in rows:
        try:
            note_size = checkpoint.parse_checkpoint(checkpoint.split_note(str(row["note"]))[0]).tree_size
        except LodelineError:
            continue
        wanted.update(merkle.range_subtrees(0, min(note_size, report.tree_size)))
    rec = _Recomputed(conn, report, wanted)
    _check_structure(conn, report)
    _recompute_leaves(conn, report, rec)
    _check_checkpoints(rows, report, rec, verifiers)
    if leaf_source is not None:
        _check_leaf_source(conn, report, leaf_source)
    return report
