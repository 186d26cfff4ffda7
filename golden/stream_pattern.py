"""Stream patterns: which cycles a stream source presents a beat (valid) or a sink accepts one
(ready). golden's cycle model and every RTL harness read the same pattern, so both see the
same bubbles and backpressure.
"""

import numpy as np

__all__ = ["Pattern"]


class Pattern:
    """Seeded per-cycle bits: bit t says whether a stream source presents a beat (valid) or a
    sink accepts (ready) in cycle t. Shared by golden and every RTL harness so both see the
    same bubbles and backpressure.

    ``probability`` is the chance of a 1 (1.0: no bubbles / no backpressure).
    """

    CHUNK = 4096

    def __init__(self, probability=1.0, seed=0):
        if not 0.0 < probability <= 1.0:
            raise ValueError(f"probability = {probability} is out of range: allowed (0, 1]")
        self.probability = float(probability)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._bits = np.zeros(0, dtype=bool)

    @classmethod
    def always(cls):
        return cls(1.0)

    @classmethod
    def cycle(cls, bits):
        """A fixed repeating pattern, e.g. ``[1, 1, 1, 0]``."""
        p = cls(1.0)
        p._fixed = np.asarray(bits, dtype=bool)
        if not p._fixed.any():
            raise ValueError("a fixed pattern needs at least one 1")
        return p

    def __getitem__(self, t):
        fixed = getattr(self, "_fixed", None)
        if fixed is not None:
            return bool(fixed[t % len(fixed)])
        if self.probability == 1.0:
            return True
        while t >= len(self._bits):
            self._bits = np.concatenate([self._bits,
                                         self._rng.random(self.CHUNK) < self.probability])
        return bool(self._bits[t])

    def next_one(self, t):
        """First cycle >= t whose bit is 1."""
        while not self[t]:
            t += 1
        return t
