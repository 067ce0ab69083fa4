"""Merkle tree hashing, proofs and proof verification exactly as RFC 9162 §2.1 (pure, no I/O).

Definitions (RFC 9162 §2.1.1), with ``D[n]`` the list of ``n`` inputs and ``k`` the largest power of two
strictly smaller than ``n``::

    MTH({})      = SHA-256()                                  (the empty tree)
    MTH({d0})    = SHA-256(0x00 || d0)                        (leaf hash)
    MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  (node hash)

Proof *generation* (``inclusion_proof``, ``consistency_proof``) follows the recursive definitions PATH and
SUBPROOF of §2.1.3.1 and §2.1.4.1 literally, over a list of leaf hashes. The ``*_ranges`` variants return the
same proofs as leaf ranges ``[lo, hi)`` whose MTH forms each proof element, and ``range_subtrees`` splits such
a range into complete (perfect) subtrees: that is how the store-backed log builds proofs from stored subtree
hashes with O(log n) reads. Proof *verification* implements the iterative algorithms of §2.1.3.2 and
§2.1.4.2 step by step and returns ``False`` (never raises) for any malformed input.

Edge cases the RFC leaves to the implementation, resolved as transparency-dev/merkle does: a consistency
proof between equal sizes, or from the empty tree, is the empty list; it verifies when the proof is empty
and (for equal sizes) the two roots are equal, or (from size 0) the old root is the empty-tree hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

#: A perfect subtree: ``(level, index)`` covers leaves ``[index * 2**level, (index + 1) * 2**level)``.
Subtree = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``): where MTH splits ``D[n]``."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    n = hi - lo
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[lo]
    k = split_point(n)
    return node_hash(_mth(hashes, lo, lo + k), _mth(hashes, lo + k, hi))


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the tree whose leaves have these (already leaf-hashed) values; SHA-256() if empty."""
    return _mth(leaf_hashes, 0, len(leaf_hashes))


# --- proofs as ranges: the recursive definitions of §2.1.3.1 and §2.1.4.1 ---------------------------------


def _path_ranges(m: int, lo: int, hi: int) -> list[tuple[int, int]]:
    # PATH(m, D[lo:hi]); m is relative to lo.
    n = hi - lo
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return [*_path_ranges(m, lo, lo + k), (lo + k, hi)]
    return [*_path_ranges(m - k, lo + k, hi), (lo, lo + k)]


def inclusion_proof_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTH form PATH(index, D[tree_size]), deepest first. Raises ValueError if invalid."""
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf index {index} is outside a tree of size {tree_size}")
    return _path_ranges(index, 0, tree_size)


def _subproof_ranges(m: int, lo: int, hi: int, complete: bool) -> list[tuple[int, int]]:
    # SUBPROOF(m, D[lo:hi], b); m is relative to lo.
    n = hi - lo
    if m == n:
        return [] if complete else [(lo, hi)]
    k = split_point(n)
    if m <= k:
        return [*_subproof_ranges(m, lo, lo + k, complete), (lo + k, hi)]
    return [*_subproof_ranges(m - k, lo + k, hi, False), (lo, lo + k)]


def consistency_proof_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTH form PROOF(old_size, D[new_size]). Empty when ``old_size`` is 0 or equal."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    return _subproof_ranges(old_size, 0, new_size, True)


def range_subtrees(lo: int, hi: int) -> list[Subtree]:
    """Split ``[lo, hi)`` into perfect subtrees, largest first, such that MTH(D[lo:hi]) = fold of them.

    Holds for every range that is a node of an RFC 9162 tree (``lo`` is a multiple of the power of two
    at least ``hi - lo``), which every range returned by the ``*_ranges`` functions is.
    """
    if not 0 <= lo <= hi:
        raise ValueError(f"not a leaf range: [{lo}, {hi})")
    out: list[Subtree] = []
    pos = lo
    remaining = hi - lo
    while remaining:
        level = remaining.bit_length() - 1
        out.append((level, pos >> level))
        pos += 1 << level
        remaining -= 1 << level
    return out


def fold_subtrees(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its perfect subtrees (largest first): they combine right to left."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def perfect_subtree_hash(leaf_hashes: Sequence[bytes], level: int, index: int) -> bytes:
    """MTH of the perfect subtree ``(level, index)`` of ``leaf_hashes``."""
    lo = index << level
    return _mth(leaf_hashes, lo, lo + (1 << level))


def resolve_ranges(
    ranges: Sequence[tuple[int, int]], subtree_hash: Callable[[Subtree], bytes]
) -> list[bytes]:
    """MTH of each range, given a lookup for perfect-subtree hashes."""
    return [fold_subtrees([subtree_hash(s) for s in range_subtrees(lo, hi)]) for lo, hi in ranges]


# --- proofs over a list of leaf hashes --------------------------------------------------------------------


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]) of RFC 9162 §2.1.3.1: sibling hashes from the leaf up to the root."""
    return [_mth(leaf_hashes, lo, hi) for lo, hi in inclusion_proof_ranges(index, len(leaf_hashes))]


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(old_size, D[n]) of RFC 9162 §2.1.4.1 (empty when ``old_size`` is 0 or ``n``)."""
    return [_mth(leaf_hashes, lo, hi) for lo, hi in consistency_proof_ranges(old_size, len(leaf_hashes))]


# --- verification: RFC 9162 §2.1.3.2 and §2.1.4.2 --------------------------------------------------------


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == HASH_SIZE


def root_from_inclusion_proof(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes | None:
    """The root implied by an inclusion proof (§2.1.3.2 steps 1-4), or None if the proof is malformed."""
    if not (_is_hash(leaf) and all(_is_hash(p) for p in proof)):
        return None
    if index < 0 or index >= tree_size:  # step 1
        return None
    fn, sn = index, tree_size - 1  # step 2
    r = bytes(leaf)  # step 3
    for p in proof:  # step 4
        if sn == 0:  # 4a
            return None
        if fn & 1 or fn == sn:  # 4b
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1  # 4c
        sn >>= 1
    if sn != 0:  # step 5
        return None
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True iff ``proof`` shows the leaf ``leaf_hash`` at ``index`` in the tree of ``tree_size`` with ``root``."""
    computed = root_from_inclusion_proof(leaf_hash, index, tree_size, proof)
    return computed is not None and _is_hash(root) and computed == bytes(root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True iff ``proof`` shows the tree (``old_size``, ``old_root``) is a prefix of (``new_size``, ``new_root``)."""
    if not (_is_hash(old_root) and _is_hash(new_root) and all(_is_hash(p) for p in proof)):
        return False
    if old_size < 0 or new_size < old_size:
        return False
    if old_size == 0:
        # Every tree extends the empty tree; nothing to prove.
        return len(proof) == 0 and bytes(old_root) == EMPTY_ROOT
    if old_size == new_size:
        return len(proof) == 0 and bytes(old_root) == bytes(new_root)
    if not proof:  # step 1
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 2: first is an exact power of 2
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:  # 6a
            return False
        if fn & 1 or fn == sn:  # 6b
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1  # 6c
        sn >>= 1
    # step 7
    return fr == bytes(old_root) and sr == bytes(new_root) and sn == 0
