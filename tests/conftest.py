"""Test-wide settings: one torch thread per test process.

Tests are many tiny ops, where intra-op threads only add contention (on a loaded 2-core
machine one QA predict took 21.6 s with default threading and 0.5 s with one thread).
"""

import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


def _one_torch_thread():
    """Set one torch intra-op thread, yield, restore the previous count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def one_thread_module():
    """One torch intra-op thread for a whole test module (restored after it): tiny tensors
    only add synchronisation with more threads, and stall on a busy CPU. A module opts in
    with ``pytestmark = pytest.mark.usefixtures("one_thread_module")``."""
    yield from _one_torch_thread()


@pytest.fixture
def one_thread():
    """Like :func:`one_thread_module`, for one test (tests that change threads themselves)."""
    yield from _one_torch_thread()
