"""How many worker processes and torch threads a run uses: the rule, in one place.

xlbench's default cells are many small CPU jobs (a small MLP / conv over n-gram features):
intra-op threads add synchronisation for little gain on such tensors, while independent
groups scale almost linearly across processes. So the local engine uses

* ``workers`` = the usable cores (``os.sched_getaffinity``), capped by the number of
  groups to run, unless the suite (``executor: {workers: N}``) or ``--workers N`` says;
* torch threads per worker = ``max(1, cores // workers)`` — one thread per worker when
  workers = cores — unless the environment variable ``XLBENCH_THREADS`` is set;
* the same count for the BLAS / OpenMP pools of NumPy, SciPy and scikit-learn
  (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` in the worker's
  environment, unless already set). This matters: with one OpenBLAS thread per core in
  each of two workers, an L-BFGS fit of the ``logreg`` baseline spent 25x more CPU
  spinning than computing (0.7 s vs 0.025 s per episode).

Override: ``xlbench run --workers 1`` with ``XLBENCH_THREADS=2`` gives one process using
both cores (better for a few large cells, e.g. the ``hf`` backbone on a CPU).
"""

from __future__ import annotations

import os

THREADS_ENV = "XLBENCH_THREADS"  # torch intra-op threads per worker process (int >= 1)


def usable_cores() -> int:
    """CPUs this process may run on (affinity-aware; at least 1)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def default_workers(groups: int, requested: int | None = None) -> int:
    """Worker processes for ``groups`` pending groups: ``requested``, else one per core."""
    if requested is not None:
        if int(requested) < 1:
            raise ValueError(f"workers must be >= 1, got {requested}")
        return max(1, min(int(requested), max(groups, 1)))
    return max(1, min(usable_cores(), max(groups, 1)))


def threads_per_worker(workers: int) -> int:
    """Torch threads for each of ``workers`` processes on this machine (env wins)."""
    env = env_threads()
    return env if env is not None else max(1, usable_cores() // max(1, workers))


def env_threads() -> int | None:
    """``XLBENCH_THREADS`` as an int, None if unset; a bad value is a clear error."""
    raw = os.environ.get(THREADS_ENV)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{THREADS_ENV}={raw!r}: expected a positive integer (torch threads per worker)")
    return value


BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")  # read once, at library load


def worker_env(workers: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of one of ``workers`` worker processes: ``base`` plus the thread counts.

    Variables already set in ``base`` win (a user's ``OMP_NUM_THREADS`` is respected).
    """
    env = dict(os.environ if base is None else base)
    n = str(threads_per_worker(workers))
    env.setdefault(THREADS_ENV, n)
    for name in BLAS_ENV:
        env.setdefault(name, env[THREADS_ENV])
    return env


def apply_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads to ``threads``, else ``XLBENCH_THREADS``; return the count.

    With neither, torch's own default is kept.
    """
    import torch

    n = threads if threads is not None else env_threads()
    if n is not None:
        if n < 1:
            raise ValueError(f"threads must be >= 1, got {n}")
        torch.set_num_threads(n)
    return torch.get_num_threads()
