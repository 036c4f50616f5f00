"""Unit losses and decoders shared by unit-classification backbones.

All losses are written without data-dependent Python control flow (no ``.item()``, no
``if tensor``), so they run under ``torch.func.grad`` and ``torch.func.vmap`` (MAML's
inner loop batched over tasks).

* :func:`unit_cross_entropy` — cross-entropy per unit, averaged over valid units
  (classification: one unit; summarization: one per sentence).
* :func:`span_loss` — extractive QA: for each head (start, end) a softmax over the tokens
  of ``logit[..., 1] - logit[..., 0]`` with the gold position (Rajpurkar et al. 2016;
  Seo et al. 2017, BiDAF), averaged over items that have a gold position.
* :func:`best_spans` — the highest-scoring valid span (start <= end, length <= max_len).
* :func:`top_k_units` — the k highest-scoring units, in document order.
* :func:`oracle_units` — the greedy ROUGE oracle of a document, memoised (summarization targets).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import torch

IGNORE = -100  # target of a padding unit (and of every unit of an item without a loss)
_NEG = -1e4  # score of a padding unit: exp() underflows to 0, never NaN


def unit_score(logits: torch.Tensor) -> torch.Tensor:
    """``[B, U, 2]`` → ``[B, U]`` log-odds of the positive class."""
    return logits[..., 1] - logits[..., 0]


def unit_cross_entropy(logits: Sequence[torch.Tensor], targets: Sequence[torch.Tensor]) -> torch.Tensor:
    """Mean over heads of the cross-entropy averaged over units whose target is not -100."""
    total = logits[0].new_zeros(())
    for lg, tg in zip(logits, targets):
        logp = lg.log_softmax(-1)
        valid = tg != IGNORE
        nll = -logp.gather(-1, tg.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        total = total + (nll * valid).sum() / valid.sum().clamp(min=1)
    return total / len(logits)


def span_loss(
    logits: Sequence[torch.Tensor], targets: Sequence[torch.Tensor], mask: torch.Tensor
) -> torch.Tensor:
    """Per head: NLL of the gold token under a softmax over the item's valid tokens.

    ``targets`` are ``[B, T]`` with 1 at the gold token, 0 elsewhere and -100 at padding;
    an item without a 1 (answer truncated away, unanswerable) contributes nothing.
    """
    total = logits[0].new_zeros(())
    for lg, tg in zip(logits, targets):
        score = unit_score(lg).masked_fill(~mask, _NEG)
        logp = score.log_softmax(-1)
        pos = (tg == 1).long()
        valid = pos.sum(-1) > 0
        gold = pos.argmax(-1)
        nll = -logp.gather(-1, gold.unsqueeze(-1)).squeeze(-1)
        total = total + (nll * valid).sum() / valid.sum().clamp(min=1)
    return total / len(logits)


def best_spans(
    start: torch.Tensor, end: torch.Tensor, mask: torch.Tensor, max_len: int
) -> list[tuple[int, int] | None]:
    """Per item, ``(i, j)`` maximising ``start[i] + end[j]`` with ``i <= j < i + max_len``.

    ``start``/``end`` are ``[B, T]`` scores, ``mask`` ``[B, T]``; ``None`` for an item
    without any valid token.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    b, t = start.shape
    if t == 0:
        return [None] * b
    pair = start.unsqueeze(2) + end.unsqueeze(1)  # [B, T, T]
    ones = torch.ones(t, t, dtype=torch.bool, device=start.device)
    band = torch.triu(ones) & ~torch.triu(ones, diagonal=max_len)
    ok = band.unsqueeze(0) & mask.unsqueeze(2) & mask.unsqueeze(1)
    pair = pair.masked_fill(~ok, float("-inf"))
    flat = pair.reshape(b, -1).argmax(-1).tolist()
    has = mask.any(-1).tolist()
    return [(f // t, f % t) if h else None for f, h in zip(flat, has)]


def top_k_units(score: torch.Tensor, mask: torch.Tensor, k: int) -> list[list[int]]:
    """Per item, the indices of the ``k`` best valid units, sorted in document order."""
    out: list[list[int]] = []
    masked = score.masked_fill(~mask, float("-inf"))
    for row, m in zip(masked, mask):
        n = min(k, int(m.sum()))
        if n <= 0:
            out.append([])
            continue
        idx = torch.sort(row, descending=True, stable=True).indices[:n].tolist()  # ties: earlier
        out.append(sorted(idx))
    return out


@lru_cache(maxsize=1 << 14)
def oracle_units(sentences: tuple[str, ...], summary: str, k: int) -> tuple[int, ...]:
    """:func:`bench.metrics.oracle_sentences`, memoised: training re-reads the same documents
    every epoch, and the greedy ROUGE oracle is pure Python."""
    from bench.metrics import oracle_sentences

    return oracle_sentences(sentences, summary, k)
