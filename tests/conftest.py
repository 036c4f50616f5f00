"""Test-wide settings: one torch thread per test process.

Tests are many tiny ops, where intra-op threads only add contention (on a loaded 2-core
machine one QA predict took 21.6 s with default threading and 0.5 s with one thread).
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
