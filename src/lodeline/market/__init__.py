"""Market intelligence: pure functions on Polars frames (no I/O). See docs/methods/market-indicators.md."""
