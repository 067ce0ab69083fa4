"""The passport's multi-proof (lodeline.passport.evidence): one node table proves many leaves of an RFC 9162 tree.
Checked against the tree's own root (tlog.merkle.root_hash over all leaves) and against the per-leaf audit paths:
every node the multi-proof carries is a node some leaf's path needs, and no node twice."""

from __future__ import annotations

import random

import pytest

from lodeline.passport.evidence import EvidenceError, multiproof_ranges, multiproof_root, node_key
from lodeline.tlog import merkle


def _tree(size: int) -> list[bytes]:
    return [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(size)]


def _mth(hashes: list[bytes], lo: int, hi: int) -> bytes:
    return merkle.root_hash(hashes[lo:hi])


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 13, 100, 1_000])
def test_multiproof_gives_the_root_and_is_smaller_than_the_paths(size: int) -> None:
    hashes = _tree(size)
    rng = random.Random(size)
    for count in (1, 2, max(1, size // 10), size):
        picked = sorted(rng.sample(range(size), min(count, size)))
        ranges = multiproof_ranges(picked, size)
        nodes = {node_key(lo, hi): _mth(hashes, lo, hi) for lo, hi in ranges}
        assert multiproof_root({i: hashes[i] for i in picked}, nodes, size) == merkle.root_hash(hashes)
        path_nodes = {r for i in picked for r in merkle.inclusion_proof_ranges(i, size)}
        assert set(ranges) <= path_nodes and len(set(ranges)) == len(ranges)
        assert len(ranges) <= sum(len(merkle.inclusion_proof_ranges(i, size)) for i in picked)
    # every leaf picked: nothing else is needed
    assert multiproof_ranges(range(size), size) == []


def test_a_changed_missing_or_extra_node_or_leaf_is_caught() -> None:
    size, picked = 100, [3, 17, 18, 64, 99]
    hashes = _tree(size)
    nodes = {node_key(lo, hi): _mth(hashes, lo, hi) for lo, hi in multiproof_ranges(picked, size)}
    leaves = {i: hashes[i] for i in picked}
    root = merkle.root_hash(hashes)
    some = sorted(nodes)[2]
    changed = dict(nodes) | {some: bytes(32)}
    assert multiproof_root(leaves, changed, size) != root
    assert multiproof_root(leaves | {17: hashes[16]}, nodes, size) != root
    with pytest.raises(EvidenceError, match=f"node {some} is missing"):
        multiproof_root(leaves, {k: v for k, v in nodes.items() if k != some}, size)
    with pytest.raises(EvidenceError, match="node 3-4 is not part of the proof"):
        multiproof_root(leaves, nodes | {"3-4": hashes[3]}, size)
    with pytest.raises(EvidenceError, match="within the checkpoint's tree"):
        multiproof_root({100: hashes[0]}, nodes, size)
    with pytest.raises(ValueError, match="outside a tree"):
        multiproof_ranges([100], size)
