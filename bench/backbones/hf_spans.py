"""Token-span bookkeeping for the HF encoder: sentence pooling and the best QA span."""

from __future__ import annotations

from typing import Sequence

import torch


def sentence_pooling(
    sentences: Sequence[Sequence[str]],
    offsets: Sequence[Sequence[Sequence[int]]],
    sequence_ids: Sequence[Sequence[int | None]],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean-pooling matrices ``[B, U, T]`` and the valid-unit mask ``[B, U]``.

    Document ``i`` is ``" ".join(sentences[i])``; token ``t`` belongs to the sentence whose
    character range holds its first character. A sentence with no token left after
    truncation is not a valid unit (its mask is False and decoding never picks it).
    """
    batch = len(sentences)
    units = max((len(s) for s in sentences), default=0)
    tokens = len(offsets[0]) if offsets else 0
    pool = torch.zeros(batch, max(units, 1), tokens)
    for i, sents in enumerate(sentences):
        bounds, pos = [], 0
        for s in sents:
            bounds.append((pos, pos + len(s)))
            pos += len(s) + 1
        j = 0
        for t, ((a, b), seq) in enumerate(zip(offsets[i], sequence_ids[i])):
            if seq is None or b <= a:
                continue
            while j < len(bounds) - 1 and a >= bounds[j][1] + 1:
                j += 1
            pool[i, j, t] = 1.0
    counts = pool.sum(-1)
    mask = counts > 0
    pool = pool / counts.clamp_min(1.0).unsqueeze(-1)
    return pool[:, :units], mask[:, :units]


def best_span(
    start: torch.Tensor,
    end: torch.Tensor,
    offsets: Sequence[tuple[int, int] | None],
    max_tokens: int,
) -> tuple[float, int, int] | None:
    """The highest ``start[i] + end[j]`` over context tokens with ``i <= j < i + max_tokens``.

    Returns (score, first character, end character) in the context, or None if the
    window has no context token.
    """
    ctx = torch.tensor([o is not None for o in offsets])
    if not bool(ctx.any()):
        return None
    n = len(offsets)
    i = torch.arange(n)
    allowed = (i[None, :] >= i[:, None]) & (i[None, :] - i[:, None] < max_tokens) & ctx[:, None] & ctx[None, :]
    scores = (start[:, None] + end[None, :]).masked_fill(~allowed, float("-inf"))
    flat = int(scores.argmax())
    a, b = divmod(flat, n)
    first, last = offsets[a], offsets[b]
    assert first is not None and last is not None
    return float(scores[a, b]), first[0], last[1]
