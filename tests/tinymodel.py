"""A tiny UnitModel for tests of the meta-learners: all three kinds, a few hundred weights.

Hashed character trigrams → ``EmbeddingBag`` (the "n-gram table", learned only in outer
loops) → one tanh layer (plus the pooled question for QA) → one linear head per unit head.
Also tiny synthetic data: :func:`tiny_source` and :func:`tiny_episode` build separable
problems for every kind (class / answer / summary sentence marked by a keyword).
"""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench.backbones.base import Feats, Item, Params, UnitModel
from bench.text import tokens
from bench.types import Answer, EvalEpisode, Example, Prediction, SourceData, TaskInfo, TaskKind

BUCKETS = 97


def _grams(text: str) -> list[int]:
    t = f"#{text.lower()}#"
    return [zlib.crc32(t[i : i + 3].encode()) % BUCKETS for i in range(max(1, len(t) - 2))]


class TinyModel(UnitModel):
    def __init__(self, info: TaskInfo, seed: int = 0, dim: int = 8, hidden: int = 12) -> None:
        super().__init__()
        self.info = info
        g = torch.Generator().manual_seed(seed)
        self.embed = nn.EmbeddingBag(BUCKETS, dim, mode="mean")
        classes = [info.num_labels] if info.kind == "classification" else [2] * (2 if info.kind == "qa" else 1)
        self.trunk_w = nn.Parameter(torch.randn(hidden, dim, generator=g) / dim**0.5)
        self.trunk_b = nn.Parameter(torch.zeros(hidden))
        self.question_w = nn.Parameter(torch.randn(hidden, dim, generator=g) / dim**0.5)
        self.head_w = nn.ParameterList(
            [nn.Parameter(torch.randn(c, hidden, generator=g) / hidden**0.5) for c in classes]
        )
        self.head_b = nn.ParameterList([nn.Parameter(torch.zeros(c)) for c in classes])
        with torch.no_grad():
            self.embed.weight.copy_(torch.randn(BUCKETS, dim, generator=g))

    def _bags(self, texts: Sequence[str]) -> torch.Tensor:
        ids = [_grams(t) for t in texts]
        flat = torch.tensor([i for row in ids for i in row], dtype=torch.long)
        offsets = torch.tensor(np.cumsum([0] + [len(r) for r in ids[:-1]]), dtype=torch.long)
        return self.embed(flat, offsets)

    def featurize(self, items: Sequence[Item]) -> Feats:
        kind = self.info.kind
        if kind == "classification":
            x = self._bags([it.text for it in items])[:, None, :]
            return Feats(x=x, mask=torch.ones(len(items), 1, dtype=torch.bool))
        units = [tokens(it.text) if kind == "qa" else list(it.sentences) for it in items]
        width = max(1, max(len(u) for u in units))
        texts = [u[0] if kind == "qa" else u for row in units for u in row]
        flat = self._bags(texts) if texts else torch.zeros(0, self.embed.embedding_dim)
        x = torch.zeros(len(items), width, flat.shape[-1])
        mask = torch.zeros(len(items), width, dtype=torch.bool)
        rows, cols = [], []
        for b, row in enumerate(units):
            rows += [b] * len(row)
            cols += list(range(len(row)))
        x = x.index_put((torch.tensor(rows, dtype=torch.long), torch.tensor(cols, dtype=torch.long)), flat)
        mask[rows, cols] = True
        extra = (self._bags([it.question or "" for it in items]),) if kind == "qa" else ()
        return Feats(x=x, mask=mask, extra=extra, spans=tuple(units))

    def trunk(self, params: Params, feats: Feats) -> torch.Tensor:
        pre = F.linear(feats.x, params["trunk_w"], params["trunk_b"])
        if self.info.kind == "qa":
            pre = pre + F.linear(feats.extra[0], params["question_w"])[..., None, :]
        return torch.tanh(pre) * feats.mask[..., None]

    def heads(self, params: Params, h: torch.Tensor) -> list[torch.Tensor]:
        return [
            F.linear(h, params[f"head_w.{i}"], params[f"head_b.{i}"]) for i in range(len(self.head_w))
        ]

    def targets(self, examples: Sequence[Example], feats: Feats) -> list[torch.Tensor]:
        kind = self.info.kind
        if kind == "classification":
            return [torch.tensor([[ex.label] for ex in examples], dtype=torch.long)]
        base = torch.where(feats.mask, 0, -100).long()
        if kind == "summarization":
            t = base.clone()
            for b, ex in enumerate(examples):
                for u, sent in enumerate(feats.spans[b]):
                    t[b, u] = int(sent in (ex.summary or ""))
            return [t]
        start, end = base.clone(), base.clone()
        for b, ex in enumerate(examples):
            a = ex.answers[0]
            toks = feats.spans[b]
            s = next(i for i, (_, ts, te) in enumerate(toks) if ts <= a.start < te)
            e = next(i for i, (_, ts, te) in enumerate(toks) if ts < a.start + len(a.text) <= te)
            start[b, s] = 1
            end[b, e] = 1
        return [start, end]

    def loss(self, logits: list[torch.Tensor], targets: list[torch.Tensor], feats: Feats) -> torch.Tensor:
        if self.info.kind != "qa":
            return sum(
                F.cross_entropy(lg.reshape(-1, lg.shape[-1]), t.reshape(-1), ignore_index=-100)
                for lg, t in zip(logits, targets)
            ) / len(logits)
        total = 0.0
        for lg, t in zip(logits, targets):
            score = (lg[..., 1] - lg[..., 0]).masked_fill(~feats.mask, -1e9)
            total = total + F.cross_entropy(score, t.argmax(-1))
        return total / len(logits)

    def decode(self, logits: list[torch.Tensor], feats: Feats) -> list[Prediction]:
        kind = self.info.kind
        if kind == "classification":
            return [Prediction(label=int(i)) for i in logits[0][:, 0].argmax(-1)]
        out = []
        for b, units in enumerate(feats.spans):
            if kind == "summarization":
                score = logits[0][b, : len(units), 1] - logits[0][b, : len(units), 0]
                keep = sorted(score.argsort(descending=True)[: self.info.summary_sentences].tolist())
                out.append(Prediction(text=" ".join(units[i] for i in keep)))
                continue
            s = (logits[0][b, : len(units), 1] - logits[0][b, : len(units), 0]).tolist()
            e = (logits[1][b, : len(units), 1] - logits[1][b, : len(units), 0]).tolist()
            best = max(
                ((i, j) for i in range(len(units)) for j in range(i, min(len(units), i + self.info.max_answer_tokens))),
                key=lambda ij: s[ij[0]] + e[ij[1]],
            )
            out.append(Prediction(text=" ".join(units[k][0] for k in range(best[0], best[1] + 1))))
        return out

    def adapted_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.named_parameters() if n != "embed.weight")


# --- tiny separable data --------------------------------------------------------------------

WORDS = ("sun", "rain", "snow", "wind")
FILLER = ("the", "a", "big", "small", "red", "old", "new", "blue", "far", "near")


def tiny_info(kind: TaskKind, langs: tuple[str, ...] = ("aa", "bb", "cc")) -> TaskInfo:
    return TaskInfo(
        name=f"tiny-{kind}",
        kind=kind,
        labels=WORDS[:3] if kind == "classification" else (),
        source_langs=langs,
        target_langs=("zz",),
    )


def tiny_example(kind: TaskKind, lang: str, i: int, rng: np.random.Generator) -> Example:
    """One item; the keyword (class word / answer / summary sentence) is language-marked."""
    fill = lambda n: " ".join(rng.choice(FILLER, size=n))  # noqa: E731
    iid = f"{lang}-{i}"
    if kind == "classification":
        label = int(rng.integers(3))
        return Example(iid, lang, f"{fill(2)} {WORDS[label]}{lang} {fill(2)}", label=label)
    if kind == "qa":
        ans = f"{WORDS[int(rng.integers(4))]}{lang}"
        pre = fill(int(rng.integers(1, 4)))
        text = f"{pre} {ans} {fill(2)}"
        return Example(iid, lang, text, question="where", answers=(Answer(ans, len(pre) + 1),))
    sents = [f"{fill(3)}." for _ in range(3)]
    k = int(rng.integers(3))
    sents[k] = f"{fill(1)} {WORDS[0]}{lang} {fill(1)}."
    return Example(iid, lang, " ".join(sents), summary=sents[k], sentences=tuple(sents))


def tiny_source(kind: TaskKind, n: int = 60, seed: int = 0) -> SourceData:
    info = tiny_info(kind)
    rng = np.random.default_rng(seed)
    return SourceData(info, {lg: tuple(tiny_example(kind, lg, i, rng) for i in range(n)) for lg in info.source_langs})


def tiny_episode(kind: TaskKind, shots: int, n_query: int = 12, seed: int = 1, lang: str = "aa") -> tuple[EvalEpisode, tuple[Example, ...]]:
    """An evaluation episode plus the gold query examples (for scoring in tests)."""
    info = tiny_info(kind)
    rng = np.random.default_rng(seed)
    exs = [tiny_example(kind, lang, 1000 + i, rng) for i in range(shots * 3 + n_query)]
    support, gold = tuple(exs[: shots * 3]), tuple(exs[shots * 3 :])
    ep = EvalEpisode(info, lang, shots, 0, support, tuple(e.as_query() for e in gold))
    return ep, gold
