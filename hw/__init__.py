"""Amaranth 0.5 components of the reuse engine; each block implements its golden/ twin exactly."""

from .engine import ReuseEngine

__all__ = ["ReuseEngine"]
