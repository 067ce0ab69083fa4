"""Properties of lodeline.tlog.merkle: proofs verify, any flipped bit fails; cross-check with pymerkle."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree
from pymerkle import verify_consistency as pm_verify_consistency

from lodeline.tlog import merkle


def leaves_of(size: int) -> list[bytes]:
    # distinct leaf data, so a proof for one index cannot also fit another by symmetry
    return [merkle.leaf_hash(f"ni:///sha-256;{i:064x}?ver=CBV2.0".encode()) for i in range(size)]


def flip(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(min_value=1, max_value=300))
    return size, draw(st.integers(min_value=0, max_value=size - 1))


@st.composite
def old_and_new(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(st.integers(min_value=0, max_value=300))
    return draw(st.integers(min_value=0, max_value=new)), new


@settings(max_examples=200, deadline=None)
@given(tree_and_index(), st.integers(min_value=0), st.data())
def test_inclusion_verifies_and_any_flipped_bit_fails(
    case: tuple[int, int], bit: int, data: st.DataObject
) -> None:
    size, index = case
    leaves = leaves_of(size)
    root = merkle.root_hash(leaves)
    proof = merkle.inclusion_proof(index, leaves)
    assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
    assert not merkle.verify_inclusion(flip(leaves[index], bit), index, size, proof, root)
    assert not merkle.verify_inclusion(leaves[index], index, size, proof, flip(root, bit))
    if proof:
        which = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bad = [*proof[:which], flip(proof[which], bit), *proof[which + 1 :]]
        assert not merkle.verify_inclusion(leaves[index], index, size, bad, root)
        assert not merkle.verify_inclusion(leaves[index], index, size, proof[:-1], root)
    if size > 1:
        other = data.draw(st.integers(min_value=0, max_value=size - 1).filter(lambda i: i != index))
        assert not merkle.verify_inclusion(leaves[index], other, size, proof, root)


@settings(max_examples=200, deadline=None)
@given(old_and_new(), st.integers(min_value=0), st.data())
def test_consistency_verifies_and_any_flipped_bit_fails(
    case: tuple[int, int], bit: int, data: st.DataObject
) -> None:
    old, new = case
    leaves = leaves_of(new)
    old_root, new_root = merkle.root_hash(leaves[:old]), merkle.root_hash(leaves)
    proof = merkle.consistency_proof(old, leaves)
    assert merkle.verify_consistency(old, new, old_root, new_root, proof)
    assert not merkle.verify_consistency(old, new, flip(old_root, bit), new_root, proof)
    if old > 0:  # every tree is consistent with the empty tree, whatever its root
        assert not merkle.verify_consistency(old, new, old_root, flip(new_root, bit), proof)
    if proof:
        which = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bad = [*proof[:which], flip(proof[which], bit), *proof[which + 1 :]]
        assert not merkle.verify_consistency(old, new, old_root, new_root, bad)
        assert not merkle.verify_consistency(old, new, old_root, new_root, proof[:-1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=70), st.data())
def test_agrees_with_pymerkle(entries: list[bytes], data: st.DataObject) -> None:
    """pymerkle (security mode, sha256) uses the RFC 9162 prefixes 0x00/0x01 and the same tree shape."""
    tree = InmemoryTree(algorithm="sha256")
    assert tree.security  # leaf/node prefixes on: RFC 9162 hashing
    for entry in entries:
        tree.append_entry(entry)
    leaves = [merkle.leaf_hash(e) for e in entries]
    size = len(entries)
    for n in range(size + 1):
        assert tree.get_root(n) == merkle.root_hash(leaves[:n])
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    pm_path = [bytes.fromhex(x) for x in tree.prove_inclusion(index + 1, size).serialize()["path"]]
    # pymerkle's path starts with the leaf itself, then the RFC 9162 audit path
    assert pm_path[0] == leaves[index]
    assert pm_path[1:] == merkle.inclusion_proof(index, leaves)
    old = data.draw(st.integers(min_value=1, max_value=size))
    ours = merkle.consistency_proof(old, leaves)
    assert merkle.verify_consistency(old, size, tree.get_root(old), tree.get_root(size), ours)
    pm_verify_consistency(
        merkle.root_hash(leaves[:old]), merkle.root_hash(leaves), tree.prove_consistency(old, size)
    )
