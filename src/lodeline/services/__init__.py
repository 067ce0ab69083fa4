"""Orchestration shared by the CLI and the API: load canonical tables from the store, call the pure
computation, attach provenance. No formatting here (that is the presentation layer's job)."""
