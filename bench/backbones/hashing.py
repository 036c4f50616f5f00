"""Hashed character n-grams: the input features of the ``ngram`` backbone.

Each word is wrapped in boundary markers (``<word>``) and cut into character n-grams
(Bojanowski et al. 2017, fastText subword units; Joulin et al. 2017); each n-gram is
hashed into a fixed number of buckets with CRC-32 of its UTF-8 bytes (Weinberger et al.
2009, the hashing trick). CRC-32 is stable across processes, machines and Python versions
(Python's ``hash`` is salted per process and must not be used). N-grams made only of
boundary markers are skipped.

Pure Python with bounded memos of pure functions (per word, and per text: see
:func:`text_bag` and :func:`token_bags`), so importing this module is cheap.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


@lru_cache(maxsize=1 << 18)
def word_ngram_ids(word: str, n_min: int, n_max: int, buckets: int) -> tuple[int, ...]:
    """Bucket ids of the character ``n_min..n_max``-grams of ``<word>`` (stable hash)."""
    if n_min < 1 or n_max < n_min:
        raise ValueError(f"need 1 <= n_min <= n_max, got n_min={n_min}, n_max={n_max}")
    if buckets < 1:
        raise ValueError(f"buckets must be >= 1, got {buckets}")
    w = f"<{word}>"
    out: list[int] = []
    for n in range(n_min, n_max + 1):
        for i in range(len(w) - n + 1):
            gram = w[i : i + n]
            if gram in ("<", ">", "<>"):
                continue
            out.append(zlib.crc32(gram.encode("utf-8")) % buckets)
    return tuple(out)


def bag_ids(words: Iterable[str], n_min: int, n_max: int, buckets: int) -> list[int]:
    """The concatenated n-gram ids of several words (one bag)."""
    out: list[int] = []
    for w in words:
        out.extend(word_ngram_ids(w, n_min, n_max, buckets))
    return out


# --------------------------------------------------------------------------- per-text memo
# Featurising in Python (tokenising, cutting n-grams, building id lists) dominated the cost
# of a whole run: every training step and every evaluation episode re-hashed the same texts.
# The functions below return the ids of one text as read-only int64 NumPy arrays, memoised
# per (text, configuration): pure functions of their arguments, bounded in size.

TEXT_CACHE = 1 << 15  # texts kept by text_bag (short arrays: one bag per text)
TOKEN_CACHE = 1 << 13  # texts kept by token_bags (one bag per token: contexts are longer)


def _frozen(a: "np.ndarray") -> "np.ndarray":
    a.flags.writeable = False
    return a


def _words(text: str, lowercase: bool) -> list[tuple[str, int, int]]:
    from bench.text import tokens

    toks = tokens(text)
    return [(w.lower(), s, e) for w, s, e in toks] if lowercase else toks


@lru_cache(maxsize=TEXT_CACHE)
def text_bag(text: str, n_min: int, n_max: int, buckets: int, lowercase: bool, max_tokens: int | None) -> "np.ndarray":
    """The n-gram ids of the first ``max_tokens`` words of ``text`` (all if None), one bag."""
    import numpy as np

    words = _words(text, lowercase)
    if max_tokens is not None:
        words = words[:max_tokens]
    return _frozen(np.asarray(bag_ids((w for w, _, _ in words), n_min, n_max, buckets), dtype=np.int64))


@dataclass(frozen=True)
class TokenBags:
    """One bag per kept token of a text: ``ids`` flat, ``lengths`` per token, char offsets."""

    ids: "np.ndarray"
    lengths: "np.ndarray"
    offsets: tuple[tuple[int, int], ...]
    truncated: bool  # True if tokens beyond ``max_tokens`` were dropped


@lru_cache(maxsize=TOKEN_CACHE)
def token_bags(text: str, n_min: int, n_max: int, buckets: int, lowercase: bool, max_tokens: int) -> TokenBags:
    """Per-token n-gram bags of the first ``max_tokens`` tokens of ``text`` (QA contexts)."""
    import numpy as np

    words = _words(text, lowercase)
    kept = words[:max_tokens]
    per = [word_ngram_ids(w, n_min, n_max, buckets) for w, _, _ in kept]
    ids = np.fromiter((i for p in per for i in p), dtype=np.int64, count=sum(map(len, per)))
    lengths = np.fromiter(map(len, per), dtype=np.int64, count=len(per))
    return TokenBags(_frozen(ids), _frozen(lengths), tuple((s, e) for _, s, e in kept), len(words) > max_tokens)
