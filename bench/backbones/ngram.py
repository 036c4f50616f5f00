"""The ``ngram`` backbone: hashed character n-grams → EmbeddingBag → small MLP / conv trunk.

The CPU default of xlbench (docs/architecture.md, "Backbones"). Words are cut into character 1–4-grams
with boundary markers (fastText subword units, Bojanowski et al. 2017; Joulin et al. 2017),
hashed into 2^18 buckets (the hashing trick, Weinberger et al. 2009) and mean-pooled by an
``EmbeddingBag``. Languages that share spelling share n-grams, which is where cross-lingual
transfer comes from on this backbone.

Per kind (every kind is unit classification, see :mod:`bench.backbones.base`):

* classification — one unit per example: the bag of all its n-grams → MLP → one head.
* qa — one unit per context token (:func:`bench.text.tokens`, capped at ``max_tokens``);
  the question bag is pooled; the trunk sees ``[tok, q, tok*q]`` (question-aware, as in the
  attention-free baselines of Seo et al. 2017), a projection, a 1-D convolution over
  neighbouring tokens with a residual, then two heads (start, end).
* summarization — one unit per document sentence (capped at ``max_sentences``); the trunk
  sees ``[sent, doc, sent*doc, position]`` then the same conv; one head (in summary / not),
  trained on the greedy ROUGE oracle (Nallapati et al. 2017).

No dropout: a deterministic forward keeps functional inner loops and parity tests exact.
Initial weights depend only on (config, task info, seed) and never touch the global RNG.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from bench.backbones.base import Feats, Item, Params, UnitModel
from bench.backbones.hashing import TokenBags, text_bag, token_bags
from bench.backbones.units import (
    IGNORE,
    best_spans,
    oracle_units,
    span_loss,
    top_k_units,
    unit_cross_entropy,
    unit_score,
)
from bench.configcheck import Checked, ConfigError, bounded
from bench.seeding import derive_seed
from bench.types import Example, Prediction, TaskInfo

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

EMBED = "embed.weight"  # the n-gram table: outer loop only (no double-backward for EmbeddingBag)


@dataclass(frozen=True)
class Config(Checked):
    """Backbone hyper-parameters; defaults fit a 2-core CPU."""

    n_min: int = bounded(1, ge=1, le=32)  # shortest character n-gram (boundary markers "<", ">" included)
    n_max: int = bounded(4, ge=1, le=32)  # longest character n-gram
    buckets: int = bounded(2**18, ge=1, le=2**28)  # hashed n-gram buckets = rows of the embedding table
    dim: int = bounded(64, ge=1, le=65_536)  # n-gram embedding size D (unit input size)
    hidden: int = bounded(128, ge=1, le=65_536)  # unit embedding size H (trunk output, what ProtoNets/LogReg see)
    mlp_layers: int = bounded(2, ge=1, le=64)  # classification: Linear→ReLU layers of the trunk (>= 1)
    window: int = bounded(5, ge=1, le=255)  # qa/summarization: width of the contextual 1-D convolution (odd)
    max_tokens: int = bounded(256, ge=1, le=1_000_000)  # qa: context tokens kept; classification: tokens hashed per text
    max_sentences: int = bounded(64, ge=1, le=100_000)  # summarization: document sentences kept
    lowercase: bool = True  # case-fold text before hashing
    init_std: float = bounded(0.1, gt=0, le=100)  # std of the normal init of the n-gram embedding table

    def __post_init__(self) -> None:
        super().__post_init__()  # the declared ranges
        if self.window % 2 == 0:
            raise ConfigError(f"ngram Config.window must be a positive odd number, got {self.window}")
        if self.n_min > self.n_max:
            raise ConfigError(f"ngram Config needs n_min <= n_max, got n_min={self.n_min}, n_max={self.n_max}")


NgramConfig = Config  # the name the factory's signature uses (inside it, ``Config`` is the ClassVar)


class NgramBackbone:
    """Factory of :class:`NgramModel` s. The constructor stores only."""

    Config: ClassVar[type] = Config

    def __init__(self, config: NgramConfig = NgramConfig()) -> None:
        self.config = config

    def build(self, info: TaskInfo, seed: int) -> UnitModel:
        """A fresh model whose initial weights depend only on (config, info, seed)."""
        cfg = self.config
        cls = _MODELS.get(info.kind)
        if cls is None:
            raise ValueError(f"ngram backbone: unknown task kind {info.kind!r}; valid: {sorted(_MODELS)}")
        if info.kind == "classification" and info.num_labels < 2:
            raise ValueError(f"task {info.name!r}: classification needs >= 2 labels, got {info.labels!r}")
        init_seed = derive_seed("ngram-init", repr(cfg), info.name, info.kind, info.labels, seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(init_seed)
            return cls(cfg, info)


class NgramModel(UnitModel):
    """Shared parts: the n-gram table, bag building and the contextual conv trunk."""

    #: Parameters that receive sparse gradients when featurised with ``sparse_grad=True``
    #: (a trainer may then use ``torch.optim.SparseAdam`` for them: ~10x faster steps).
    sparse_params: ClassVar[tuple[str, ...]] = (EMBED,)
    out: nn.ModuleList  # the output heads, one Linear per head (set by each kind's model)

    def __init__(self, config: Config, info: TaskInfo) -> None:
        super().__init__()
        self.config = config
        self.info = info
        # _weight: skip EmbeddingBag's own N(0, 1) init of the 2^18-row table (drawn, then overwritten)
        self.embed = nn.EmbeddingBag(config.buckets, config.dim, mode="mean", _weight=torch.empty(config.buckets, config.dim))
        nn.init.normal_(self.embed.weight, std=config.init_std)

    # ---------------------------------------------------------------- featurisation
    def _text_bag(self, text: str, max_tokens: int | None) -> "np.ndarray":
        """The n-gram ids of one text (memoised per text: :func:`hashing.text_bag`)."""
        c = self.config
        return text_bag(text, c.n_min, c.n_max, c.buckets, c.lowercase, max_tokens)

    def _token_bags(self, text: str) -> TokenBags:
        c = self.config
        return token_bags(text, c.n_min, c.n_max, c.buckets, c.lowercase, c.max_tokens)

    def _embed_bags(self, ids: Sequence["np.ndarray"], lengths: "np.ndarray", sparse_grad: bool) -> torch.Tensor:
        """One ``[len(lengths), D]`` mean embedding per bag (an empty bag → zeros).

        ``ids`` are the bags' ids, concatenated in order; ``lengths`` the size of each bag.
        """
        import numpy as np

        flat = np.concatenate(ids) if len(ids) else np.zeros(0, dtype=np.int64)
        offsets = np.zeros(len(lengths), dtype=np.int64)
        if len(lengths) > 1:
            np.cumsum(lengths[:-1], out=offsets[1:])
        return F.embedding_bag(
            torch.from_numpy(flat), self.embed.weight, torch.from_numpy(offsets), mode="mean", sparse=sparse_grad
        )

    def _embed_texts(self, texts: Sequence[str], max_tokens: int | None, sparse_grad: bool) -> torch.Tensor:
        """One mean embedding per text (its first ``max_tokens`` words, all if None)."""
        import numpy as np

        bags = [self._text_bag(t, max_tokens) for t in texts]
        return self._embed_bags(bags, np.fromiter(map(len, bags), dtype=np.int64, count=len(bags)), sparse_grad)

    # ---------------------------------------------------------------- shared trunk
    def _contextual(self, params: Params, z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``[B, U, in]`` → Linear → ReLU → conv(window) → ReLU (+ residual), padding zeroed."""
        m = mask.unsqueeze(-1).to(z.dtype)
        h = F.relu(F.linear(z, params["proj.weight"], params["proj.bias"])) * m
        c = F.conv1d(h.transpose(1, 2), params["conv.weight"], params["conv.bias"], padding=self.config.window // 2)
        return (F.relu(c.transpose(1, 2)) + h) * m

    def _make_contextual(self, in_dim: int) -> None:
        c = self.config
        self.proj = nn.Linear(in_dim, c.hidden)
        self.conv = nn.Conv1d(c.hidden, c.hidden, c.window)

    def heads(self, params: Params, h: torch.Tensor) -> list[torch.Tensor]:
        return [F.linear(h, params[f"out.{i}.weight"], params[f"out.{i}.bias"]) for i in range(len(self.out))]

    def adapted_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.named_parameters() if n != EMBED)

    def loss(self, logits: list[torch.Tensor], targets: list[torch.Tensor], feats: Feats) -> torch.Tensor:
        return unit_cross_entropy(logits, targets)


class ClassificationModel(NgramModel):
    """One unit per example: mean n-gram embedding → MLP → ``num_labels`` logits."""

    def __init__(self, config: Config, info: TaskInfo) -> None:
        super().__init__(config, info)
        dims = [config.dim] + [config.hidden] * config.mlp_layers
        self.mlp = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.ModuleList([nn.Linear(config.hidden, info.num_labels)])

    def featurize(self, items: Sequence[Item], *, sparse_grad: bool = False) -> Feats:
        x = self._embed_texts([it.text for it in items], self.config.max_tokens, sparse_grad).unsqueeze(1)
        mask = torch.ones(len(items), 1, dtype=torch.bool)
        return Feats(x=x, mask=mask, spans=(None,) * len(items))

    def trunk(self, params: Params, feats: Feats) -> torch.Tensor:
        h = feats.x
        for i in range(len(self.mlp)):
            h = F.relu(F.linear(h, params[f"mlp.{i}.weight"], params[f"mlp.{i}.bias"]))
        return h

    def targets(self, examples: Sequence[Example], feats: Feats) -> list[torch.Tensor]:
        labels = []
        for ex in examples:
            if ex.label is None or not 0 <= ex.label < self.info.num_labels:
                raise ValueError(
                    f"example {ex.item_id!r} ({ex.lang}) has label {ex.label!r}; "
                    f"expected an index into {self.info.labels!r}"
                )
            labels.append(ex.label)
        return [torch.tensor(labels, dtype=torch.long).unsqueeze(1)]

    def decode(self, logits: list[torch.Tensor], feats: Feats) -> list[Prediction]:
        return [Prediction(label=int(i)) for i in logits[0][:, 0, :].argmax(-1).tolist()]


def _pad(rows: list[torch.Tensor], length: int, dim: int) -> torch.Tensor:
    """Stack ``[n_i, dim]`` rows into ``[B, length, dim]`` with zero padding."""
    out = []
    for r in rows:
        out.append(F.pad(r, (0, 0, 0, length - r.shape[0])) if r.shape[0] < length else r)
    return torch.stack(out) if out else torch.zeros(0, length, dim)


def _mask(lengths: list[int], length: int) -> torch.Tensor:
    return torch.arange(length).unsqueeze(0) < torch.tensor(lengths, dtype=torch.long).unsqueeze(1)


@dataclass(frozen=True)
class QASpan:
    """What QA decoding needs of one item: its context and kept token offsets."""

    context: str
    offsets: tuple[tuple[int, int], ...]
    truncated: bool  # True if tokens beyond ``max_tokens`` were dropped


class QAModel(NgramModel):
    """One unit per context token, question-aware conv trunk, start and end heads."""

    def __init__(self, config: Config, info: TaskInfo) -> None:
        super().__init__(config, info)
        self._make_contextual(3 * config.dim)
        self.out = nn.ModuleList([nn.Linear(config.hidden, 2), nn.Linear(config.hidden, 2)])

    def featurize(self, items: Sequence[Item], *, sparse_grad: bool = False) -> Feats:
        import numpy as np

        per = [self._token_bags(it.text) for it in items]
        spans = tuple(QASpan(it.text, b.offsets, b.truncated) for it, b in zip(items, per))
        lengths = [len(b.offsets) for b in per]
        qbags = [self._text_bag(it.question or "", None) for it in items]
        sizes = np.concatenate([b.lengths for b in per] + [np.fromiter(map(len, qbags), dtype=np.int64, count=len(qbags))])
        flat = self._embed_bags([b.ids for b in per] + qbags, sizes, sparse_grad)
        n_tok = sum(lengths)
        tok, q = flat[:n_tok], flat[n_tok:]
        t = max(lengths, default=0)
        rows = list(torch.split(tok, lengths)) if items else []
        x = _pad(rows, t, self.config.dim)
        return Feats(x=x, mask=_mask(lengths, t), extra=(q,), spans=spans)

    def trunk(self, params: Params, feats: Feats) -> torch.Tensor:
        x = feats.x
        q = feats.extra[0].unsqueeze(1).expand_as(x)
        return self._contextual(params, torch.cat([x, q, x * q], dim=-1), feats.mask)

    def targets(self, examples: Sequence[Example], feats: Feats) -> list[torch.Tensor]:
        golds = [_gold_tokens(ex, span) for ex, span in zip(examples, feats.spans)]
        rows = [i for i, g in enumerate(golds) if g is not None]  # no answer / truncated away: no loss
        spans = {i: g for i, g in enumerate(golds) if g is not None}
        has = torch.zeros(len(golds), dtype=torch.bool)
        has[rows] = True
        base = torch.where(feats.mask & has.unsqueeze(1), 0, IGNORE)
        start, end = base.clone(), base
        if rows:
            idx = torch.tensor(rows, dtype=torch.long)
            start[idx, torch.tensor([spans[i][0] for i in rows], dtype=torch.long)] = 1
            end[idx, torch.tensor([spans[i][1] for i in rows], dtype=torch.long)] = 1
        return [start, end]

    def loss(self, logits: list[torch.Tensor], targets: list[torch.Tensor], feats: Feats) -> torch.Tensor:
        return span_loss(logits, targets, feats.mask)

    def decode(self, logits: list[torch.Tensor], feats: Feats) -> list[Prediction]:
        best = best_spans(unit_score(logits[0]), unit_score(logits[1]), feats.mask, self.info.max_answer_tokens)
        out = []
        for span, ij in zip(feats.spans, best):
            if ij is None:
                out.append(Prediction(text=""))
            else:
                out.append(Prediction(text=span.context[span.offsets[ij[0]][0] : span.offsets[ij[1]][1]]))
        return out


def _gold_tokens(ex: Example, span: QASpan) -> tuple[int, int] | None:
    """Token indices (start, end) covering the first answer, or None if not all kept."""
    if not ex.answers or not span.offsets:
        return None
    a0 = ex.answers[0].start
    a1 = a0 + len(ex.answers[0].text)
    if span.truncated and a1 > span.offsets[-1][1]:
        return None
    inside = [k for k, (s, e) in enumerate(span.offsets) if e > a0 and s < a1]
    if not inside:
        return None
    return inside[0], inside[-1]


class SummarizationModel(NgramModel):
    """One unit per document sentence; document-aware conv trunk; in-summary head."""

    POSITION_FEATURES: ClassVar[int] = 2  # relative position i/(S-1) and 1/(i+1)

    def __init__(self, config: Config, info: TaskInfo) -> None:
        super().__init__(config, info)
        self._make_contextual(3 * config.dim + self.POSITION_FEATURES)
        self.out = nn.ModuleList([nn.Linear(config.hidden, 2)])

    def featurize(self, items: Sequence[Item], *, sparse_grad: bool = False) -> Feats:
        cap = self.config.max_sentences
        texts: list[str] = []
        lengths: list[int] = []
        sents: list[tuple[str, ...]] = []
        for it in items:
            if not it.sentences:
                raise ValueError(
                    f"summarization item {it.item_id!r} ({it.lang}) has no sentences; the task must "
                    "split each document (bench.text.split_sentences) into Example.sentences"
                )
            kept = tuple(it.sentences[:cap])
            texts.extend(kept)
            lengths.append(len(kept))
            sents.append(kept)
        t = max(lengths, default=0)
        flat = self._embed_texts(texts, None, sparse_grad) if texts else torch.zeros(0, self.config.dim)
        x = _pad(list(torch.split(flat, lengths)) if items else [], t, self.config.dim)
        mask = _mask(lengths, t)
        m = mask.unsqueeze(-1).to(x.dtype)
        doc = (x * m).sum(1) / m.sum(1).clamp(min=1)
        idx = torch.arange(t, dtype=x.dtype).unsqueeze(0)
        denom = (torch.tensor(lengths, dtype=x.dtype).unsqueeze(1) - 1).clamp(min=1)
        rel = idx / denom  # [B, S]
        pos = torch.stack([rel, (1.0 / (idx + 1)).expand_as(rel)], dim=-1) * m
        return Feats(x=x, mask=mask, extra=(doc, pos), spans=tuple(sents))

    def trunk(self, params: Params, feats: Feats) -> torch.Tensor:
        x = feats.x
        doc, pos = feats.extra
        d = doc.unsqueeze(1).expand_as(x)
        return self._contextual(params, torch.cat([x, d, x * d, pos], dim=-1), feats.mask)

    def targets(self, examples: Sequence[Example], feats: Feats) -> list[torch.Tensor]:
        b, t = feats.mask.shape
        y = torch.full((b, t), IGNORE, dtype=torch.long)
        for i, (ex, kept) in enumerate(zip(examples, feats.spans)):
            if ex.summary is None:
                raise ValueError(f"summarization example {ex.item_id!r} ({ex.lang}) has no reference summary")
            y[i, : len(kept)] = 0
            for j in oracle_units(tuple(ex.sentences), ex.summary, self.info.summary_sentences):
                if j < len(kept):
                    y[i, j] = 1
        return [y]

    def decode(self, logits: list[torch.Tensor], feats: Feats) -> list[Prediction]:
        picks = top_k_units(unit_score(logits[0]), feats.mask, self.info.summary_sentences)
        return [Prediction(text=" ".join(kept[j] for j in idx)) for kept, idx in zip(feats.spans, picks)]


_MODELS: dict[str, type[NgramModel]] = {
    "classification": ClassificationModel,
    "qa": QAModel,
    "summarization": SummarizationModel,
}
