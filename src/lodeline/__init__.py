"""Lodeline: critical-mineral supply-chain cooperation platform."""

__version__ = "0.1.0"
