"""An on-disk cache of frozen encoder outputs, one file per (key, item), safe under concurrency.

The ``e5`` backbone's frozen part (the whole encoder in ``frozen`` mode, the lower layers
under ``train_layers: N``) is a pure function of the text and of a few settings, so its
output is computed once per text and reused by every method, seed and cell of every run
on this machine (or on a shared filesystem, by Slurm or Dask workers). The budget never
sees the cache: methods are charged the passes they make, whether a feature was read or
computed.

* **Key**: the SHA-256 of a canonical JSON of everything the output depends on (backbone
  weights hash, cut layer, task kind, text fields, prefix, pooling, max length, stride);
  the full key text is stored in the entry and checked on read.
* **Atomic writes**: an entry is written to a unique temporary file in the same folder,
  fsynced, then ``os.replace``-d into place; readers see the old state or the whole new
  entry, never part of one. Two workers encoding the same text both write the same bytes;
  the last rename wins.
* **Corruption**: an entry that does not parse, whose key differs, or whose payload digest
  does not match is removed and recomputed (counted in :attr:`CacheStats.corrupt`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import torch


def default_root() -> Path:
    """``$XLBENCH_CACHE``, else ``$XDG_CACHE_HOME/xlbench``, else ``~/.cache/xlbench``."""
    env = os.environ.get("XLBENCH_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "xlbench"


def item_key(parts: dict[str, Any]) -> tuple[str, str]:
    """(hex digest, canonical key text) of a key made of JSON-serialisable parts."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), text


@dataclass
class CacheStats:
    """Counters of one process (mutable on purpose: they count)."""

    hits: int = 0
    misses: int = 0
    written: int = 0
    corrupt: int = 0
    bytes_written: int = 0
    seen: set[str] = field(default_factory=set)

    @property
    def hit_rate(self) -> float:
        n = self.hits + self.misses
        return self.hits / n if n else 0.0

    def line(self, root: Path) -> str:
        return (
            f"e5 feature cache {root}: {self.hits} hits, {self.misses} misses "
            f"(hit rate {100 * self.hit_rate:.1f}%), {self.written} entries written "
            f"({self.bytes_written / 2**20:.1f} MiB), {self.corrupt} corrupt entries recomputed; "
            f"on disk {disk_usage(root) / 2**20:.1f} MiB"
        )


def disk_usage(root: Path) -> int:
    total = 0
    if root.exists():
        for dirpath, _, files in os.walk(root):
            for f in files:
                try:
                    total += os.stat(os.path.join(dirpath, f)).st_size
                except OSError:
                    pass
    return total


class FeatureCache:
    """Tensors by key under ``root`` (``root/ab/<digest>.safetensors``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.stats = CacheStats()

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.safetensors"

    def get(self, digest: str, key_text: str) -> "torch.Tensor | None":
        """The cached tensor, or None (absent, or corrupt: then the entry is removed)."""
        from safetensors import SafetensorError
        from safetensors.torch import load

        p = self.path(digest)
        try:
            raw = p.read_bytes()
        except FileNotFoundError:
            self.stats.misses += 1
            return None
        try:
            tensors = load(raw)
            meta = _metadata(raw)
            x = tensors["x"]
            ok = meta.get("key") == key_text and meta.get("sha256") == _digest(x)
        except (SafetensorError, KeyError, ValueError, RuntimeError, json.JSONDecodeError, UnicodeDecodeError):
            ok = False
        if not ok:
            self.stats.corrupt += 1
            self.stats.misses += 1
            try:
                p.unlink()
            except FileNotFoundError:
                pass
            return None
        self.stats.hits += 1
        return x

    def put(self, digest: str, key_text: str, x: "torch.Tensor") -> None:
        """Write one entry atomically (temp file in the same folder, fsync, rename)."""
        from safetensors.torch import save

        x = x.detach().to("cpu").contiguous()
        data = save({"x": x}, metadata={"key": key_text, "sha256": _digest(x)})
        p = self.path(digest)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{digest[:8]}.", suffix=".tmp", dir=p.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, p)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        self.stats.written += 1
        self.stats.bytes_written += len(data)


def _digest(x: "torch.Tensor") -> str:
    import torch

    h = hashlib.sha256(str((tuple(x.shape), str(x.dtype))).encode())
    h.update(x.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _metadata(raw: bytes) -> dict[str, str]:
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    return dict(header.get("__metadata__", {}))
