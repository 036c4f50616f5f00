"""multilingual-e5-small as a UnitModel: a frozen (cached) lower part and trainable top layers.

The units, targets, losses and decoding are :class:`~bench.backbones.hf_encoder.EncoderUnits`'
(classification: the pooled sequence; QA: context tokens over overlapping windows;
extractive summarization: sentences). What differs is where the encoder is cut:

* ``featurize`` tokenizes every item (fast, Rust), looks each item up in the feature cache
  and runs the shared frozen encoder (``no_grad``, length-bucketed batches) on the misses
  only: in ``frozen`` mode the whole encoder plus pooling (``Feats.x`` are the unit features),
  under ``train_layers: N`` the lower ``12 - N`` layers (``Feats.x`` are token states).
* ``trunk`` is a pure function of ``params``: the identity in ``frozen`` mode, else
  ``torch.func.functional_call`` of the ``N`` adapted layers (``top.<j>.*``) followed by the
  pooling, so MAML differentiates through it to any order (``attention: eager``).

Parameters of a model: ``head.<i>.*`` and, under ``train_layers``, ``top.<j>.*``. The
shared encoder is not a parameter of any model.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Sequence, cast

import torch
from torch import nn

from bench.backbones.base import Feats, Item, Params
from bench.backbones.featurecache import item_key
from bench.backbones.hf_encoder import EncoderUnits, QAWindows
from bench.backbones.hf_runtime import additive_mask, autocast, oom_guard, qa_stride, resolve_device
from bench.backbones.hf_spans import sentence_pooling
from bench.types import TaskInfo


@dataclass(frozen=True)
class Tokenized:
    """One item's token ids per window (W = 1 except QA) and what its units need."""

    ids: tuple[tuple[int, ...], ...]
    offsets: tuple[tuple[tuple[int, int] | None, ...], ...] = ()  # QA: per window, context tokens
    pool: torch.Tensor | None = None  # summarization: [S, T] mean-pooling matrix
    units: torch.Tensor | None = None  # summarization: [S] sentences with a token


class E5Units(EncoderUnits):
    """Encoder units over a shared frozen encoder; see the module docstring."""

    def __init__(self, e5: Any, config: Any, info: TaskInfo, loaded: Any, head_seed: int, cache: Any) -> None:
        nn.Module.__init__(self)
        self.e5 = e5
        self.config = config
        self.info = info
        self.tokenizer = loaded.tokenizer
        object.__setattr__(self, "_lower", loaded.encoder)  # shared and frozen: not a submodule
        self._weights_hash = loaded.weights_hash
        self._cache = cache
        layers = loaded.encoder.encoder.layer
        self.frozen = e5.train_layers is None
        self.cut = len(layers) - (e5.train_layers or 0)
        self.top = nn.ModuleList()
        for i in range(self.cut, len(layers)):
            layer = copy.deepcopy(layers[i])
            for sub in layer.modules():
                cfg = getattr(sub, "config", None)
                if cfg is not None:
                    cfg._attn_implementation = e5.attention
            for p in layer.parameters():
                p.requires_grad_(True)
            self.top.append(layer)
        hidden = int(loaded.encoder.config.hidden_size)
        sizes = [info.num_labels] if info.kind == "classification" else [2, 2] if info.kind == "qa" else [2]
        if info.kind == "classification" and info.num_labels < 2:
            raise ValueError(f"classification task {info.name} has {info.num_labels} labels")
        self.head = nn.ModuleList(nn.Linear(hidden, c) for c in sizes)
        gen = torch.Generator().manual_seed(head_seed)
        with torch.no_grad():
            for lin in cast("list[nn.Linear]", list(self.head)):
                lin.weight.copy_(torch.randn(lin.weight.shape, generator=gen) * 0.02)
                lin.bias.zero_()
        self._token_types = False
        self.to(resolve_device(config.device))

    @property
    def device(self) -> torch.device:
        return cast(torch.device, self.head[0].weight.device)

    def adapted_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.named_parameters())

    # -- tokenization --------------------------------------------------------------------

    def tokenize(self, items: Sequence[Item]) -> list[Tokenized]:
        """Per item, unpadded token ids (and QA offsets / summarization pooling)."""
        kind, pre, tok, n = self.info.kind, self.e5.prefix, self.tokenizer, self.config.max_length
        if kind == "classification":
            pairs = [it.question for it in items]
            texts = [pre + it.text for it in items]
            if any(p is not None for p in pairs):
                enc = tok(texts, [p or "" for p in pairs], max_length=n, truncation="longest_first")
            else:
                enc = tok(texts, max_length=n, truncation=True)
            return [Tokenized((tuple(ids),)) for ids in enc["input_ids"]]
        if kind == "qa":
            enc = tok(
                [pre + (it.question or "") for it in items], [it.text for it in items], max_length=n,
                truncation="only_second", stride=qa_stride(self.config), return_overflowing_tokens=True,
                return_offsets_mapping=True,
            )
            ids: list[list[tuple[int, ...]]] = [[] for _ in items]
            offs: list[list[tuple]] = [[] for _ in items]
            for row, i in enumerate(enc["overflow_to_sample_mapping"]):
                ids[i].append(tuple(enc["input_ids"][row]))
                seq = enc.sequence_ids(row)
                offs[i].append(tuple((a, b) if s == 1 else None for s, (a, b) in zip(seq, enc["offset_mapping"][row])))
            return [Tokenized(tuple(w), tuple(o)) for w, o in zip(ids, offs)]
        sentences = [tuple(it.sentences) or (it.text,) for it in items]
        enc = tok([pre + " ".join(s) for s in sentences], max_length=n, truncation=True, return_offsets_mapping=True)
        out = []
        for i, sents in enumerate(sentences):
            seq = [None if s is None or a < len(pre) else s for s, (a, _) in zip(enc.sequence_ids(i), enc["offset_mapping"][i])]
            shifted = [(max(a - len(pre), 0), max(b - len(pre), 0)) for a, b in enc["offset_mapping"][i]]
            pool, mask = sentence_pooling([sents], [shifted], [seq])
            out.append(Tokenized((tuple(enc["input_ids"][i]),), pool=pool[0], units=mask[0]))
        return out

    def key(self, item: Item) -> tuple[str, str]:
        e5 = self.e5
        parts: dict[str, Any] = {
            "weights": self._weights_hash, "kind": self.info.kind, "part": "pooled" if self.frozen else f"layer{self.cut}",
            "prefix": e5.prefix, "max_length": self.config.max_length, "text": item.text, "question": item.question,
            "precision": self._precision(),
        }
        if self.info.kind == "qa":
            parts["stride"] = qa_stride(self.config)
        if self.info.kind == "summarization":
            parts["sentences"] = list(getattr(item, "sentences", ()) or ())
        if self.frozen and self.info.kind == "classification":
            parts["pooling"] = self.config.pooling
        return item_key(parts)

    def _precision(self) -> str:
        use_bf16 = self.config.dtype == "bfloat16" or (self.config.dtype == "auto" and self.device.type == "cuda")
        return "bf16" if use_bf16 else "fp32"

    # -- the frozen part -----------------------------------------------------------------

    def lower(self, ids: torch.Tensor, attn: torch.Tensor, layers: int) -> torch.Tensor:
        """Hidden states after the first ``layers`` layers of the shared encoder, ``[N, T, H]``."""
        enc = cast(Any, self._lower)
        mask = additive_mask(attn)
        with torch.no_grad(), autocast(self.device, self.config.dtype), oom_guard(self.config.model, self.device, tuple(ids.shape)):
            h = enc.embeddings(input_ids=ids)
            for layer in enc.encoder.layer[:layers]:
                out = layer(h, attention_mask=mask)
                h = out[0] if isinstance(out, tuple) else out
        return h.float()

    def _unit_output(self, tk: Tokenized, h: torch.Tensor, attn: torch.Tensor) -> torch.Tensor:
        """What the cache keeps for one item from its windows' states ``h`` ``[W, T, H]``."""
        if not self.frozen:
            return h
        kind = self.info.kind
        if kind == "qa":
            return h
        if kind == "summarization":
            return tk.pool.to(h.device) @ h[0]  # type: ignore[union-attr]
        if self.config.pooling == "cls":
            return h[:, 0]
        w = attn.unsqueeze(-1).to(h.dtype)
        return (h * w).sum(1) / w.sum(1).clamp_min(1.0)  # [1, H]

    def encode_items(self, toks: Sequence[Tokenized], keys: Sequence[tuple[str, str]]) -> list[torch.Tensor]:
        """Cached output per item; the misses are encoded in length-sorted batches."""
        out: dict[int, torch.Tensor] = {}
        todo: list[int] = []
        first: dict[str, int] = {}
        for i, (digest, text) in enumerate(keys):
            if digest in first:
                continue
            first[digest] = i
            hit = self._cache.get(digest, text) if self._cache is not None else None
            if hit is not None:
                out[i] = hit.to(self.device)
            else:
                todo.append(i)
        rows = [(i, w) for i in todo for w in range(len(toks[i].ids))]
        rows.sort(key=lambda r: len(toks[r[0]].ids[r[1]]))
        states: dict[tuple[int, int], torch.Tensor] = {}
        pad = int(self.tokenizer.pad_token_id)
        bs = self.e5.batch_size
        for lo in range(0, len(rows), bs):
            chunk = rows[lo : lo + bs]
            t = max(len(toks[i].ids[w]) for i, w in chunk)
            ids = torch.full((len(chunk), t), pad, dtype=torch.long)
            attn = torch.zeros(len(chunk), t, dtype=torch.long)
            for r, (i, w) in enumerate(chunk):
                seq = toks[i].ids[w]
                ids[r, : len(seq)] = torch.tensor(seq)
                attn[r, : len(seq)] = 1
            h = self.lower(ids.to(self.device), attn.to(self.device), self.cut)
            for r, (i, w) in enumerate(chunk):
                states[(i, w)] = h[r, : len(toks[i].ids[w])]
        for i in todo:
            tk = toks[i]
            t = max(len(s) for s in tk.ids)
            h = torch.zeros(len(tk.ids), t, states[(i, 0)].shape[-1], device=self.device)
            attn = torch.zeros(len(tk.ids), t, dtype=torch.long, device=self.device)
            for w, seq in enumerate(tk.ids):
                h[w, : len(seq)] = states[(i, w)]
                attn[w, : len(seq)] = 1
            out[i] = self._unit_output(tk, h, attn)
            if self._cache is not None:
                self._cache.put(*keys[i], out[i])
        return [out[first[d]] for d, _ in keys]

    # -- featurize -----------------------------------------------------------------------

    def featurize(self, items: Sequence[Item], **_: Any) -> Feats:
        toks = self.tokenize(items)
        got = self.encode_items(toks, [self.key(it) for it in items])
        kind, dev, n = self.info.kind, self.device, len(items)
        if kind == "classification":
            spans: tuple = (None,) * n
            if self.frozen:
                return Feats(torch.stack([g[0] for g in got]).unsqueeze(1), torch.ones(n, 1, dtype=torch.bool, device=dev), (), spans)
            h, attn = _stack_windows(got, toks)
            return Feats(h[:, 0], torch.ones(n, 1, dtype=torch.bool, device=dev), (attn[:, 0],), spans)
        if kind == "summarization":
            sentences = tuple(tuple(it.sentences) or (it.text,) for it in items)
            u = max(len(s) for s in sentences)
            mask = torch.zeros(n, u, dtype=torch.bool)
            for i, tk in enumerate(toks):
                mask[i, : len(tk.units)] = tk.units  # type: ignore[arg-type,assignment]
            if self.frozen:
                x = torch.zeros(n, u, got[0].shape[-1], device=dev)
                for i, g in enumerate(got):
                    x[i, : g.shape[0]] = g
                return Feats(x, mask.to(dev), (), sentences)
            h, attn = _stack_windows(got, toks)
            pool = torch.zeros(n, u, h.shape[2], device=dev)
            for i, tk in enumerate(toks):
                p = tk.pool
                pool[i, : p.shape[0], : p.shape[1]] = p  # type: ignore[union-attr,assignment]
            return Feats(h[:, 0], mask.to(dev), (attn[:, 0], pool), sentences)
        # qa
        h, attn = _stack_windows(got, toks)
        w_max, t = h.shape[1], h.shape[2]
        blank = (None,) * t
        spans = tuple(
            QAWindows(tuple(tuple(o) + (None,) * (t - len(o)) for o in tk.offsets) + (blank,) * (w_max - len(tk.offsets)), it.text, t)
            for tk, it in zip(toks, items)
        )
        mask = torch.tensor([[o is not None for win in s.offsets for o in win] for s in spans], dtype=torch.bool).reshape(n, w_max * t)
        if self.frozen:
            return Feats(h.reshape(n, w_max * t, -1), mask.to(dev), (), spans)
        return Feats(h, mask.to(dev), (attn,), spans)

    # -- forward -----------------------------------------------------------------------

    def trunk(self, params: Params, feats: Feats) -> torch.Tensor:
        h = self._trunk(params, feats)
        if self.e5.normalize and self.info.kind == "classification":
            h = torch.nn.functional.normalize(h, dim=-1)
        return h

    def _trunk(self, params: Params, feats: Feats) -> torch.Tensor:
        if self.frozen:
            return feats.x
        kind = self.info.kind
        h, attn = feats.x, feats.extra[0]
        lead = h.shape[:-2]
        h = h.reshape(-1, h.shape[-2], h.shape[-1])
        attn2 = attn.reshape(-1, attn.shape[-1])
        mask = additive_mask(attn2)
        with oom_guard(self.config.model, self.device, tuple(h.shape)), autocast(self.device, self.config.dtype):
            for j, layer in enumerate(self.top):
                prefix = f"top.{j}."
                lp = {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
                out = torch.func.functional_call(layer, lp, args=(h,), kwargs={"attention_mask": mask}, strict=False)
                h = out[0] if isinstance(out, tuple) else out
        h = h.float()
        if kind == "qa":
            return h.reshape(*lead[:-1], -1, h.shape[-1])  # [B, W*T, H]
        h = h.reshape(*lead, h.shape[-2], h.shape[-1])
        if kind == "summarization":
            return torch.matmul(feats.extra[1], h)
        if self.config.pooling == "cls":
            return h[..., :1, :]
        w = attn.unsqueeze(-1).to(h.dtype)
        return ((h * w).sum(-2) / w.sum(-2).clamp_min(1.0)).unsqueeze(-2)


def _stack_windows(got: Sequence[torch.Tensor], toks: Sequence[Tokenized]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-item ``[W_i, T_i, H]`` states -> ``[B, W, T, H]`` zero-padded, and attention ``[B, W, T]``."""
    n = len(got)
    w_max = max(g.shape[0] for g in got)
    t = max(g.shape[1] for g in got)
    dev = got[0].device
    h = torch.zeros(n, w_max, t, got[0].shape[-1], device=dev)
    attn = torch.zeros(n, w_max, t, dtype=torch.long, device=dev)
    for i, (g, tk) in enumerate(zip(got, toks)):
        h[i, : g.shape[0], : g.shape[1]] = g
        for w, seq in enumerate(tk.ids):
            attn[i, w, : len(seq)] = 1
    return h, attn
