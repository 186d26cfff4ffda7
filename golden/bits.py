"""Bit arithmetic the sizes of golden and hw share."""

__all__ = ["ceil_log2"]


def ceil_log2(n):
    """Bits to address ``n`` items (0 for one)."""
    return max(0, (int(n) - 1).bit_length())
