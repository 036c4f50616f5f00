"""An encoder-decoder checkpoint (mT5, mBART) as a generative model for abstractive summarization.

Xue et al., NAACL 2021, "mT5: A Massively Multilingual Pre-trained Text-to-Text
Transformer"; Liu et al., TACL 2020 (mBART). Fine-tuning, MAML and Reptile train it with
the teacher-forced cross-entropy of the reference summary; :meth:`Seq2SeqUnits.predict`
generates (greedy, or beam search with ``num_beams``).

Units of a generative model are *output positions*: for a support example the unit inputs
are the previous reference tokens (teacher forcing) and the targets are the next tokens, so
``featurize`` of an :class:`~bench.types.Example` reads its summary, while a
:class:`~bench.types.Query` (no summary) has zero units and is only ever generated from.
The unit "embedding" returned by ``trunk`` is the next-token logits ``[B, U, V]`` (the
vocabulary head is part of the pretrained model), so ``heads`` is the identity.
Methods that classify unit embeddings (ProtoNet, logistic regression) do not apply: the
runner asks ``HFBackbone.is_generative()`` before building and records the cell as n/a.
The factory is ``hf`` / ``hf-seq2seq`` in :mod:`bench.backbones.hf`.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from bench.backbones.base import Feats, Item, Params, UnitModel
from bench.backbones.hf_runtime import HFConfig, adapted_names, additive_mask, autocast, oom_guard
from bench.types import Example, Prediction, TaskInfo


class _Generate(nn.Module):
    """Lets ``functional_call`` run ``generate`` with a params dict (it calls ``forward``)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, **kwargs: Any) -> torch.Tensor:
        generate: Any = self.model.generate  # a transformers GenerationMixin method
        return generate(**kwargs)


class Seq2SeqUnits(UnitModel):
    """Generative summarizer. Parameters: ``s2s.*`` (the pretrained encoder-decoder)."""

    def __init__(self, config: HFConfig, info: TaskInfo, model: nn.Module, tokenizer: Any) -> None:
        super().__init__()
        if info.kind != "summarization":
            raise ValueError(f"a seq2seq backbone serves summarization only, not {info.kind}")
        self.config = config
        self.info = info
        self.s2s = model
        self.tokenizer = tokenizer
        model_config: Any = model.config  # a transformers PretrainedConfig
        self._start = int(model_config.decoder_start_token_id)
        self._pad = int(tokenizer.pad_token_id)

    @property
    def device(self) -> torch.device:
        return next(self.s2s.parameters()).device

    @staticmethod
    def _source(item: Item) -> str:
        return item.text or " ".join(item.sentences)

    def _labels(self, summaries: Sequence[str]) -> torch.Tensor:
        enc = self.tokenizer(
            text_target=list(summaries), max_length=self.config.max_target_length, truncation=True, padding=True, return_tensors="pt"
        )
        return enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)

    def featurize(self, items: Sequence[Item]) -> Feats:
        enc = self.tokenizer(
            [self._source(it) for it in items], max_length=self.config.max_length, truncation=True, padding=True, return_tensors="pt"
        )
        summaries = [getattr(it, "summary", None) for it in items]
        if all(s is not None for s in summaries) and items:
            labels = self._labels(summaries)  # type: ignore[arg-type]
            decoder_in = torch.cat([torch.full_like(labels[:, :1], self._start), labels[:, :-1]], dim=1)
            decoder_in = decoder_in.masked_fill(decoder_in == -100, self._pad)
            mask = labels != -100
        else:  # queries: nothing to teacher-force; predict() generates
            decoder_in = torch.full((len(items), 0), self._pad, dtype=torch.long)
            mask = torch.zeros(len(items), 0, dtype=torch.bool)
        dev = self.device
        return Feats(
            x=enc["input_ids"].to(dev),
            mask=mask.to(dev),
            extra=(enc["attention_mask"].to(dev), decoder_in.to(dev)),
            spans=(None,) * len(items),
        )

    def _split(self, params: Params) -> Params:
        return {k[4:]: v for k, v in params.items() if k.startswith("s2s.")}

    def trunk(self, params: Params, feats: Feats) -> torch.Tensor:
        if feats.extra[1].shape[1] == 0:
            raise ValueError("seq2seq logits need teacher-forcing inputs (support examples); use predict() for queries")
        dec = feats.extra[1]
        causal = torch.ones(dec.shape[-1], dec.shape[-1], device=dec.device).tril()
        kwargs = {
            "input_ids": feats.x,
            "attention_mask": additive_mask(feats.extra[0]),  # 4-D masks: no data-dependent
            "decoder_input_ids": dec,  # branches in transformers' mask builders (vmap-safe)
            "decoder_attention_mask": ((1.0 - causal) * -1e30).expand(dec.shape[0], 1, -1, -1),
            "use_cache": False,
        }
        with oom_guard(self.config.model, self.device, tuple(feats.x.shape), self.config.gradient_checkpointing), autocast(self.device, self.config.dtype):
            out = torch.func.functional_call(self.s2s, self._split(params), args=(), kwargs=kwargs, tie_weights=True, strict=False)
        return out.logits.float()

    def heads(self, params: Params, h: torch.Tensor) -> list[torch.Tensor]:
        return [h]

    def targets(self, examples: Sequence[Example], feats: Feats) -> list[torch.Tensor]:
        if any(ex.summary is None for ex in examples):
            raise ValueError("seq2seq targets need every example's summary")
        return [self._labels([ex.summary or "" for ex in examples]).to(self.device)]

    def loss(self, logits: list[torch.Tensor], targets: list[torch.Tensor], feats: Feats) -> torch.Tensor:
        lg, tg = logits[0], targets[0]
        return F.cross_entropy(lg.reshape(-1, lg.shape[-1]), tg.reshape(-1), ignore_index=-100)

    def decode(self, logits: list[torch.Tensor], feats: Feats) -> list[Prediction]:
        """Teacher-forced argmax (diagnostics only; real predictions come from :meth:`predict`)."""
        ids = logits[0].argmax(-1).masked_fill(~feats.mask, self._pad)
        return [Prediction(text=t) for t in self.tokenizer.batch_decode(ids.tolist(), skip_special_tokens=True)]

    def predict(self, params: Params, feats: Feats) -> list[Prediction]:
        """Generate a summary per item (greedy, or beam search with ``num_beams``)."""
        gen = _Generate(self.s2s)
        gp = {f"model.{k}": v for k, v in self._split(params).items()}
        kwargs = {
            "input_ids": feats.x,
            "attention_mask": feats.extra[0],
            "max_new_tokens": self.config.max_target_length,
            "num_beams": self.config.num_beams,
            "do_sample": False,
        }
        with torch.no_grad(), oom_guard(self.config.model, self.device, tuple(feats.x.shape), self.config.gradient_checkpointing), autocast(self.device, self.config.dtype):
            out = torch.func.functional_call(gen, gp, args=(), kwargs=kwargs, tie_weights=True, strict=False)
        return [Prediction(text=t.strip()) for t in self.tokenizer.batch_decode(out.tolist(), skip_special_tokens=True)]

    def adapted_names(self) -> tuple[str, ...]:
        return adapted_names(self, self.config.freeze_embeddings)
