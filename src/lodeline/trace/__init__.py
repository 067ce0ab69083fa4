"""Traceability registry: EPCIS capture, custody ledger, origin shares and the tamper-evident Merkle log."""
