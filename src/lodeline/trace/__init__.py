"""Traceability registry: EPCIS 2.0 capture, event hash IDs, custody ledger, origin shares, verifiable log."""
