"""Hashed character n-grams: the input features of the ``ngram`` backbone.

Each word is wrapped in boundary markers (``<word>``) and cut into character n-grams
(Bojanowski et al. 2017, fastText subword units; Joulin et al. 2017); each n-gram is
hashed into a fixed number of buckets with CRC-32 of its UTF-8 bytes (Weinberger et al.
2009, the hashing trick). CRC-32 is stable across processes, machines and Python versions
(Python's ``hash`` is salted per process and must not be used). N-grams made only of
boundary markers are skipped.

Pure Python with a bounded memo of a pure function, so importing this module is cheap.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from typing import Iterable


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
