"""Stress tests and emergency exercises: supply networks, scenarios, the monthly engine, stockpile
release optimisation (HiGHS), Monte Carlo with a Gaussian copula (numpy, optionally on Dask), exercises.

Pure computation: the only database access is :mod:`lodeline.sim.store` (a thin loader over
``lodeline.store.canonical.read_table``).
"""
