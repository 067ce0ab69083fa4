"""Register a generated :class:`~lodeline.trace.generator.Chain` (participants, keys, facilities) and capture its
signed documents. Used by the tests and the benchmark (examples/trace/make_examples.py writes the same chains as files)."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from lodeline.trace import keys, parties
from lodeline.trace.capture import CaptureReport, capture
from lodeline.trace.generator import Chain


def demo_key(n: int, seed: int = 0) -> Ed25519PrivateKey:
    """Fixed demonstration key number ``n`` (deterministic, public knowledge: tests, benchmarks, examples only)."""
    return Ed25519PrivateKey.from_private_bytes(bytes([(seed + n + 1) % 256]) * 32)


def register(engine: Engine, chain: Chain, seed: int = 0) -> dict[str, Ed25519PrivateKey]:
    """Register the chain's participants (one deterministic key and the chain's company prefix each) and facilities;
    return the private keys."""
    private: dict[str, Ed25519PrivateKey] = {}
    for n, (pid, name, role) in enumerate(chain.participants):
        key = demo_key(n, seed)
        parties.add_participant(engine, pid, name, role, keys.public_b64(key), [chain.prefix_of(pid)])
        private[pid] = key
    for spec in chain.facilities.values():
        parties.add_facility(
            engine,
            spec.gln,
            name=spec.name,
            facility_type=spec.facility_type,
            country=spec.country,
            operator=spec.operator,
            latitude=spec.latitude,
            longitude=spec.longitude,
            custody_model=spec.custody_model,
            certs=spec.certifications,
        )
    return private


def document_bytes(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def capture_all(engine: Engine, chain: Chain, private: dict[str, Ed25519PrivateKey]) -> list[CaptureReport]:
    reports = []
    for pid, doc in chain.documents:
        data = document_bytes(doc)
        reports.append(capture(engine, data, participant=pid, signature=keys.sign(private[pid], data)))
    return reports
