"""Amaranth 0.5 components of the reuse engine; each block implements its golden/ twin exactly."""

from .fc_engine import FCEngine

__all__ = ["FCEngine"]
