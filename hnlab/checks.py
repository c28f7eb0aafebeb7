"""Argument checks shared by the core's entry points: one clear error for a bad count.

The lessons pass their parameters straight in (notebooks/03_benchmarks.ipynb), so a bool
where an int belongs (``True`` is an int to Python) is refused too.
"""

from __future__ import annotations


def is_int(value) -> bool:
    """True for a Python int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_count(name: str, value, low: int = 1, high: int | None = None) -> int:
    """``value`` if it is an int in ``[low, high]``; else one ValueError that names ``name``."""
    if not is_int(value) or value < low or (high is not None and value > high):
        if high is not None:
            wanted = f"an int between {low} and {high}"
        else:
            wanted = "a positive int" if low == 1 else f"an int >= {low}"
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return value
