"""Project register, comparison, commitments ledger and recycling monitor (issue 15): pure computation.

``schema`` (the one project record), ``conversion`` (capacity to contained metal / LCE), ``register`` (records
built from parsed rows, de-duplication with the merge explained), ``metrics`` (normalised comparison),
``returns`` (NPV, IRR, social-dividend-adjusted return), ``commitments`` (the financing ledger), ``recycling``.
No I/O: the parsers are in ``lodeline.data.sources.policy_projects``; the store half in ``lodeline.store.projects``.
"""
