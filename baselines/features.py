"""A cache of frozen unit features, so feature-based methods never re-encode an item.

Logistic regression (and ProtoNets) score units with the frozen trunk output
``model.trunk(params, model.featurize(items))``. Evaluation episodes of one target language
share queries and overlap in support items, so the cache keeps each item's unit embeddings
keyed by ``(model key, lang, item_id, content)``. It is a plain object owned by one method
instance: no global state. Encoding is forward-only under ``torch.no_grad``; charging the
budget for it is the caller's decision (see ``bench.types.Budget``).

A cached item keeps its entry of ``Feats.spans`` (what ``decode`` needs) and its unit mask,
so :func:`collate` rebuilds a :class:`~bench.backbones.base.Feats` that ``model.decode`` and
``model.targets`` accept, provided they read only ``mask`` and ``spans`` (true of the ngram
backbone; ``x`` is replaced by the unit embeddings and ``extra`` is empty).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from bench.backbones.base import Feats, Item, Params, UnitModel


@dataclass(frozen=True)
class UnitFeatures:
    """One item's frozen unit embeddings ``h`` ``[U, H]``, unit ``mask`` ``[U]`` and span."""

    h: "torch.Tensor"
    mask: "torch.Tensor"
    span: Any


def fingerprint(params: "Params") -> str:
    """A stable hash of parameter names and values (SHA-1 of their bytes)."""
    digest = hashlib.sha1()
    for name in sorted(params):
        t = params[name].detach().contiguous().cpu()
        digest.update(name.encode())
        digest.update(str(tuple(t.shape)).encode())
        digest.update(t.numpy().tobytes())
    return digest.hexdigest()


def _item_key(item: "Item") -> tuple:
    return (item.lang, item.item_id, item.text, item.question, item.sentences)


class FeatureCache:
    """Unit embeddings per (model key, item). ``max_items`` bounds memory (oldest evicted)."""

    def __init__(self, batch_size: int = 64, max_items: int = 50_000) -> None:
        self.batch_size = batch_size
        self.max_items = max_items
        self._store: dict[tuple, UnitFeatures] = {}

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        self._store.clear()

    def encode(self, model: "UnitModel", params: "Params", items: Sequence["Item"], key: str) -> list[UnitFeatures]:
        """Frozen unit features of ``items`` under ``params``; only unseen items are encoded.

        ``key`` must change whenever ``params`` do (e.g. :func:`fingerprint`).
        """
        import torch

        keys = [(key, *_item_key(it)) for it in items]
        missing = list({k: it for k, it in zip(keys, items) if k not in self._store}.items())
        with torch.no_grad():
            for lo in range(0, len(missing), self.batch_size):
                chunk = missing[lo : lo + self.batch_size]
                batch = [it for _, it in chunk]
                feats = model.featurize(batch)
                if len(feats.spans) != len(batch):
                    raise ValueError(
                        f"{type(model).__name__}.featurize returned {len(feats.spans)} spans for "
                        f"{len(batch)} items; FeatureCache needs one Feats.spans entry per item"
                    )
                h = model.trunk(params, feats)
                for i, (k, _) in enumerate(chunk):
                    valid = feats.mask[i].nonzero()
                    n = int(valid.max()) + 1 if len(valid) else 0
                    self._store[k] = UnitFeatures(h[i, :n].clone(), feats.mask[i, :n].clone(), feats.spans[i])
        out = [self._store[k] for k in keys]
        while len(self._store) > self.max_items:
            self._store.pop(next(iter(self._store)))
        return out


def collate(units: Sequence[UnitFeatures]) -> tuple["torch.Tensor", "Feats"]:
    """Pad cached items into ``h`` ``[B, U, H]`` and the ``Feats`` that decoding needs."""
    import torch
    import torch.nn.functional as F

    from bench.backbones.base import Feats

    if not units:
        raise ValueError("collate needs at least one item")
    u = max(x.h.shape[0] for x in units)
    h = torch.stack([F.pad(x.h, (0, 0, 0, u - x.h.shape[0])) for x in units])
    mask = torch.zeros(len(units), u, dtype=torch.bool)
    for i, x in enumerate(units):
        mask[i, : x.mask.shape[0]] = x.mask
    return h, Feats(x=h, mask=mask, spans=tuple(x.span for x in units))
