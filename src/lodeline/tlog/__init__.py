"""Transparency-log primitives that are pure maths (no I/O, no Lodeline imports): the RFC 9162 Merkle tree hasher,
its proofs and their verification. It sits below both ``store`` (which keeps the tree's nodes) and ``trace`` (which
builds the registry's log and checkpoints on it)."""
