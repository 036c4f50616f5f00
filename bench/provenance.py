"""What produced a run, for its manifest: the machine, the numeric stack, every plugin.

Scores of the same code can differ across CPUs (vector units change float reassociation)
and BLAS builds, and a plugin is code too; the manifest records all of it so a reviewer can
tell two runs apart (:func:`bench.runner.write_manifest`):

* :func:`machine`: CPU model and flags, cores, OS, torch's build (its BLAS/LAPACK and
  vector ISA), intra/inter-op threads and the thread environment variables, numpy's BLAS;
* :func:`components`: for every task, method and backbone of the suite, the class path and
  the distribution and version that provide it (``xlbench`` for built-ins).
"""

from __future__ import annotations

import functools
import os
import platform
from typing import Any

#: Environment variables that set thread counts of the numeric libraries.
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
              "NUMEXPR_NUM_THREADS", "XLBENCH_THREADS")


def _cpuinfo() -> dict[str, Any]:
    """Model name and flags from /proc/cpuinfo (Linux); the platform's words elsewhere."""
    out: dict[str, Any] = {"model": platform.processor() or None, "flags": None}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "Model", "cpu model") and not out.get("_model_set"):
                    out["model"], out["_model_set"] = value.strip(), True
                elif key in ("flags", "Features") and out["flags"] is None:
                    out["flags"] = sorted(value.split())
                if line.strip() == "" and out["flags"] is not None and out.get("_model_set"):
                    break  # the first processor says it all
    except OSError:
        pass
    out.pop("_model_set", None)
    return out


def machine() -> dict[str, Any]:
    """The machine and numeric stack of this process (imports torch and numpy)."""
    import numpy
    import torch

    usable: int | None
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    out: dict[str, Any] = {
        "cpu": {**_cpuinfo(), "arch": platform.machine(), "logical_cores": os.cpu_count(), "usable_cores": usable},
        "os": platform.platform(),
        "torch": {
            "version": torch.__version__,
            "build": torch.__config__.show(),  # compiler, BLAS/LAPACK, CPU capability, CUDA
            "parallel": torch.__config__.parallel_info(),
            "cpu_capability": getattr(torch.backends.cpu, "get_cpu_capability", lambda: None)(),
            "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "cuda": torch.version.cuda,
            "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            if torch.cuda.is_available() else [],
        },
        "numpy": {"version": numpy.__version__, "blas": _numpy_blas(numpy)},
        "thread_env": {k: os.environ[k] for k in THREAD_ENV if k in os.environ},
    }
    return out


def _numpy_blas(numpy: Any) -> Any:
    try:
        info = numpy.show_config(mode="dicts")
        return info.get("Build Dependencies", info) if isinstance(info, dict) else None
    except Exception:  # older numpy: no dict mode; the version says enough
        return None


@functools.lru_cache(maxsize=1)
def _top_level() -> dict[str, list[str]]:
    from importlib.metadata import packages_distributions

    return dict(packages_distributions())  # scans every installed distribution: once


def distribution_of(target: str) -> tuple[str | None, str | None]:
    """(distribution, version) that provides the module of ``"module:Class"``; (None, None)
    when it is not installed from a distribution (a local folder on ``sys.path``)."""
    from importlib.metadata import PackageNotFoundError, version

    top = target.split(":", 1)[0].split(".", 1)[0]
    for dist in _top_level().get(top, []):
        try:
            return dist, version(dist)
        except PackageNotFoundError:
            continue
    return None, None


def components(suite: Any) -> list[dict[str, Any]]:
    """Every task, method and backbone of ``suite``: class path, origin, distribution, version."""
    from bench import registry

    tables = {kind: registry.entries(kind) for kind in ("task", "method", "backbone")}
    rows, seen = [], set()
    wanted = [("task", t.name) for t in suite.tasks] + [("backbone", t.backbone.name) for t in suite.tasks]
    wanted += [("method", m.name) for m in suite.methods]
    for kind, name in wanted:
        if (kind, name) in seen:
            continue
        seen.add((kind, name))
        entry = tables[kind].get(name)
        target = entry.target if entry is not None else name
        dist, ver = distribution_of(target)
        origin = entry.origin if entry is not None else "module path"
        rows.append({"kind": kind, "name": name, "target": target, "origin": origin,
                     "distribution": dist, "version": ver})
    return rows
