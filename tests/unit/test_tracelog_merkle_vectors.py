"""lodeline.tlog.merkle against RFC 9162 vectors (sizes 0-8, all indices) and hand-derived values."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

from lodeline.tlog import merkle

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
VECTORS = json.loads((GOLDEN / "data" / "merkle_vectors.json").read_text(encoding="utf-8"))
INPUTS = [bytes.fromhex(h) for h in VECTORS["inputs"]]
LEAVES = [merkle.leaf_hash(x) for x in INPUTS]
TREES = {t["tree_size"]: t for t in VECTORS["trees"]}


def h(hex_string: str) -> bytes:
    return bytes.fromhex(hex_string)


def test_checked_in_vectors_are_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("make_merkle_vectors", GOLDEN / "make_merkle_vectors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == VECTORS
    assert sorted(TREES) == list(range(9))


def test_leaf_hashes_match_vectors() -> None:
    assert [x.hex() for x in LEAVES] == VECTORS["leaf_hashes"]


@pytest.mark.parametrize("size", range(9))
def test_roots(size: int) -> None:
    assert merkle.root_hash(LEAVES[:size]).hex() == TREES[size]["root"]


@pytest.mark.parametrize("size", range(1, 9))
def test_inclusion_proofs_all_indices(size: int) -> None:
    root = h(TREES[size]["root"])
    for case in TREES[size]["inclusion"]:
        index, expected = case["index"], [h(x) for x in case["path"]]
        assert merkle.inclusion_proof(index, LEAVES[:size]) == expected, (size, index)
        assert merkle.verify_inclusion(LEAVES[index], index, size, expected, root)
        for other in range(size):
            if other != index:
                assert not merkle.verify_inclusion(LEAVES[other], index, size, expected, root)


@pytest.mark.parametrize("size", range(2, 9))
def test_consistency_proofs_all_old_sizes(size: int) -> None:
    new_root = h(TREES[size]["root"])
    for case in TREES[size]["consistency"]:
        old, old_root, expected = case["old_size"], h(case["old_root"]), [h(x) for x in case["proof"]]
        assert merkle.consistency_proof(old, LEAVES[:size]) == expected, (old, size)
        assert merkle.verify_consistency(old, size, old_root, new_root, expected)
        assert not merkle.verify_consistency(old, size, new_root, old_root, expected)
        if old + 1 < size:
            assert not merkle.verify_consistency(old + 1, size, old_root, new_root, expected)


EDGE_CASES = VECTORS["consistency_edge_cases"]


@pytest.mark.parametrize(
    "case",
    EDGE_CASES,
    ids=[
        f"{c['old_size']}-{c['new_size']}-{'ok' if c['valid'] else 'bad'}-{i}"
        for i, c in enumerate(EDGE_CASES)
    ],
)
def test_consistency_equal_sizes_and_from_empty(case: dict) -> None:
    """RFC 9162 defines PROOF(m, D[n]) for 0 < m < n only: between equal sizes, an empty proof verifies iff the
    roots match; from size 0 iff the old root is SHA-256(); any other proof fails (vectors from the generator)."""
    proof = [h(x) for x in case["proof"]]
    got = merkle.verify_consistency(
        case["old_size"], case["new_size"], h(case["old_root"]), h(case["new_root"]), proof
    )
    assert got is case["valid"]
    if case["valid"]:
        assert merkle.consistency_proof(case["old_size"], LEAVES[: case["new_size"]]) == proof


# --- hand-derived values (worked out from the RFC text, asserted literally) ---------------------------------

EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # SHA-256 of the empty string
LEAF0 = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"  # SHA-256(0x00)
LEAF1 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"  # SHA-256(0x00 0x00)
ROOT2 = "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
ROOT8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
MTH_2_4 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"  # MTH(D[2:4])
MTH_4_8 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"  # MTH(D[4:8])


def test_hand_derived_hashes() -> None:
    assert merkle.root_hash([]).hex() == EMPTY == hashlib.sha256(b"").hexdigest()
    assert merkle.leaf_hash(b"").hex() == LEAF0 == hashlib.sha256(b"\x00").hexdigest()
    assert merkle.leaf_hash(b"\x00").hex() == LEAF1
    # MTH(D[2]) = SHA-256(0x01 || MTH({d0}) || MTH({d1}))
    assert merkle.node_hash(h(LEAF0), h(LEAF1)).hex() == ROOT2
    assert hashlib.sha256(b"\x01" + h(LEAF0) + h(LEAF1)).hexdigest() == ROOT2
    # MTH(D[1]) is the leaf hash itself, and the 8-leaf root is the published CT test-data root.
    assert merkle.root_hash(LEAVES[:1]).hex() == LEAF0
    assert merkle.root_hash(LEAVES).hex() == ROOT8
    assert merkle.node_hash(merkle.node_hash(h(ROOT2), h(MTH_2_4)), h(MTH_4_8)).hex() == ROOT8


def test_hand_derived_proofs() -> None:
    # PATH(0, D[8]) = PATH(0, D[0:4]) : MTH(D[4:8]) = (PATH(0, D[0:2]) : MTH(D[2:4])) : MTH(D[4:8])
    #              = [MTH({d1}), MTH(D[2:4]), MTH(D[4:8])]
    assert [p.hex() for p in merkle.inclusion_proof(0, LEAVES)] == [LEAF1, MTH_2_4, MTH_4_8]
    # PATH(0, D[2]) = [MTH({d1})]; PATH(1, D[2]) = [MTH({d0})]; PATH(0, D[1]) = []
    assert [p.hex() for p in merkle.inclusion_proof(1, LEAVES[:2])] == [LEAF0]
    assert merkle.inclusion_proof(0, LEAVES[:1]) == []
    # PROOF(1, D[2]) = SUBPROOF(1, D[0:1], true) : MTH(D[1:2]) = [MTH({d1})]
    assert [p.hex() for p in merkle.consistency_proof(1, LEAVES[:2])] == [LEAF1]
    # PROOF(4, D[8]) = SUBPROOF(4, D[0:4], true) : MTH(D[4:8]) = [MTH(D[4:8])]
    assert [p.hex() for p in merkle.consistency_proof(4, LEAVES)] == [MTH_4_8]
    # PROOF(2, D[8]): m <= k=4 -> SUBPROOF(2, D[0:4], true) : MTH(D[4:8])
    #                 -> (SUBPROOF(2, D[0:2], true) : MTH(D[2:4])) : MTH(D[4:8]) = [MTH(D[2:4]), MTH(D[4:8])]
    assert [p.hex() for p in merkle.consistency_proof(2, LEAVES)] == [MTH_2_4, MTH_4_8]


# --- edge cases -----------------------------------------------------------------------------------------------


def test_inclusion_edge_cases_return_false() -> None:
    root = h(ROOT8)
    good = merkle.inclusion_proof(3, LEAVES)
    assert merkle.verify_inclusion(LEAVES[3], 3, 8, good, root)
    assert not merkle.verify_inclusion(LEAVES[3], 8, 8, good, root)  # index == size
    assert not merkle.verify_inclusion(LEAVES[3], -1, 8, good, root)
    assert not merkle.verify_inclusion(LEAVES[3], 0, 0, [], h(EMPTY))  # nothing is in the empty tree
    assert not merkle.verify_inclusion(LEAVES[3], 3, 8, good[:-1], root)  # too short
    assert not merkle.verify_inclusion(LEAVES[3], 3, 8, [*good, good[0]], root)  # too long
    assert not merkle.verify_inclusion(LEAVES[3], 3, 8, [*good[:-1], b"\x00" * 31], root)  # bad length
    assert not merkle.verify_inclusion(LEAVES[3][:16], 3, 8, good, root)
    assert not merkle.verify_inclusion(LEAVES[3], 3, 8, good, root[:31])
    # size 1: the root is the leaf hash and the proof is empty
    assert merkle.verify_inclusion(LEAVES[0], 0, 1, [], LEAVES[0])
    assert not merkle.verify_inclusion(LEAVES[0], 0, 1, [LEAVES[1]], LEAVES[0])


def test_consistency_edge_cases() -> None:
    r3, r8 = merkle.root_hash(LEAVES[:3]), merkle.root_hash(LEAVES)
    # equal sizes: empty proof and equal roots
    assert merkle.consistency_proof(8, LEAVES) == []
    assert merkle.verify_consistency(8, 8, r8, r8, [])
    assert not merkle.verify_consistency(8, 8, r8, r3, [])
    assert not merkle.verify_consistency(8, 8, r8, r8, [r8])
    # from the empty tree: empty proof, and the old root must be the empty-tree hash
    assert merkle.consistency_proof(0, LEAVES) == []
    assert merkle.verify_consistency(0, 8, h(EMPTY), r8, [])
    assert not merkle.verify_consistency(0, 8, r3, r8, [])
    assert not merkle.verify_consistency(0, 8, h(EMPTY), r8, [r8])
    assert merkle.verify_consistency(0, 0, h(EMPTY), h(EMPTY), [])
    # malformed
    proof = merkle.consistency_proof(3, LEAVES)
    assert merkle.verify_consistency(3, 8, r3, r8, proof)
    assert not merkle.verify_consistency(3, 8, r3, r8, [])  # RFC step 1: empty path fails
    assert not merkle.verify_consistency(8, 3, r8, r3, proof)  # old > new
    assert not merkle.verify_consistency(-1, 8, r3, r8, proof)
    assert not merkle.verify_consistency(3, 8, r3, r8, proof[:-1])
    assert not merkle.verify_consistency(3, 8, r3, r8, [*proof, proof[0]])
    assert not merkle.verify_consistency(3, 8, r3, r8, [*proof[:-1], b"short"])


def test_generation_rejects_out_of_range() -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_proof(8, LEAVES)
    with pytest.raises(ValueError):
        merkle.inclusion_proof(0, [])
    with pytest.raises(ValueError):
        merkle.consistency_proof(9, LEAVES)


def test_range_helpers_match_recursive_definitions() -> None:
    """The store builds proofs from perfect subtrees; those folds must equal the recursive proofs."""
    for size in range(1, 9):
        lookup = lambda s, size=size: merkle.perfect_subtree_hash(LEAVES[:size], *s)  # noqa: E731
        assert merkle.resolve_ranges([(0, size)], lookup) == [merkle.root_hash(LEAVES[:size])]
        for index in range(size):
            ranges = merkle.inclusion_proof_ranges(index, size)
            assert merkle.resolve_ranges(ranges, lookup) == merkle.inclusion_proof(index, LEAVES[:size])
        for old in range(size + 1):
            ranges = merkle.consistency_proof_ranges(old, size)
            assert merkle.resolve_ranges(ranges, lookup) == merkle.consistency_proof(old, LEAVES[:size])
    assert merkle.range_subtrees(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert merkle.range_subtrees(8, 13) == [(2, 2), (0, 12)]
    assert merkle.range_subtrees(4, 4) == []
    with pytest.raises(ValueError):
        merkle.range_subtrees(5, 3)
