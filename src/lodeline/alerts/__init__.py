"""The joint alert mechanism (issue 14): indicators of supply stress, their fusion into alert levels, the backtest.

Pure computation over the canonical tables (no I/O). ``model`` holds the records the rest of the platform exchanges
with it (the lifecycle and delivery in ``store/alerts.py`` and ``services/alert_lifecycle.py`` store them).
"""
