"""Explicit, stable seeds: every random choice derives from named values, never from state.

``derive_seed("episode", task, lang, shots, index)`` is the same on every machine and
Python version (it hashes the parts with SHA-256, not Python's salted ``hash``).
"""

from __future__ import annotations

import hashlib

import numpy as np


def derive_seed(*parts: object) -> int:
    """A 63-bit seed that depends only on ``parts`` (their ``repr``)."""
    digest = hashlib.sha256("\x1f".join(repr(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def generator(*parts: object) -> np.random.Generator:
    """A numpy Generator seeded by :func:`derive_seed` of ``parts``."""
    return np.random.default_rng(derive_seed(*parts))
