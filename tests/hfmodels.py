"""Tiny random-init transformers checkpoints for offline tests (nothing is downloaded).

``tiny_encoder_dir()`` writes an XLM-R-like encoder (hidden 32, 2 layers, 2 heads) and a
WordPiece tokenizer trained here on generated sentences; ``tiny_seq2seq_dir()`` an
mT5-like encoder-decoder with a Unigram tokenizer. Both are written once per test session
(cached) with ``save_pretrained`` to temporary directories that ``hf:<path>`` loads.
"""

from __future__ import annotations

import functools
import tempfile

import numpy as np

WORDS = (
    "the cat sat on mat dog runs park today market price rain river city news goal team "
    "sport health school teacher music film vote leader game coin bank farm food water "
    "le chat est sur tapis chien court parc jour marche prix pluie ville equipe ecole "
    "paka anakaa juu ya mkeka mbwa anakimbia soko bei mvua mji habari timu shule chakula"
).split()


def sentences(n: int = 300, seed: int = 0) -> list[str]:
    """Deterministic pseudo-sentences over a small multilingual word list."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(3, 12)))) for _ in range(n)]


def _encoder_tokenizer():  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(sentences() + [" ".join(WORDS)], trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tok.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]"
    )


def _seq2seq_tokenizer():  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=200, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>")
    tok.train_from_iterator(sentences() + [" ".join(WORDS)], trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


@functools.lru_cache(maxsize=None)
def tiny_encoder_dir() -> str:
    """A saved XLM-R-like encoder + tokenizer (random weights from seed 0)."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    tokenizer = _encoder_tokenizer()
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=600,
        pad_token_id=tokenizer.pad_token_id,
        type_vocab_size=1,
    )
    torch.manual_seed(0)
    path = tempfile.mkdtemp(prefix="xlbench-tiny-xlmr-")
    XLMRobertaModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@functools.lru_cache(maxsize=None)
def tiny_seq2seq_dir() -> str:
    """A saved mT5-like encoder-decoder + tokenizer (random weights from seed 0)."""
    import torch
    from transformers import MT5Config, MT5ForConditionalGeneration

    tokenizer = _seq2seq_tokenizer()
    config = MT5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=16,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=2,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    path = tempfile.mkdtemp(prefix="xlbench-tiny-mt5-")
    MT5ForConditionalGeneration(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
