"""A pretrained transformer encoder as a UnitModel for all three task kinds.

* classification: the CLS (or mean-pooled) token is the one unit -> ``Linear(H, labels)``;
  a sentence pair is tokenised as (``text``, ``question``).
* qa: (question, context) pairs; long contexts become overlapping windows (``stride``
  tokens shared), so ``feats.x`` has one row per *window*, not per item; each context
  token (and the CLS token, the target of a window without the answer) is a unit with a
  start and an end head; decoding takes the best span over all windows of an item
  (Devlin et al., NAACL 2019, §4.2; the standard transformers QA post-processing).
* summarization (extractive): every document sentence is a unit, the mean of its tokens;
  one binary head; targets are the greedy ROUGE oracle (``bench.metrics.oracle_sentences``;
  Nallapati et al., AAAI 2017) of ``info.summary_sentences`` sentences.

``trunk`` is ``torch.func.functional_call`` of the transformers module on the params dict,
so MAML and friends differentiate through it to any order (use ``attention="eager"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from bench.backbones.base import Feats, Item, Params, UnitModel
from bench.backbones.hf import HFConfig, autocast, oom_guard, qa_stride
from bench.backbones.hf_spans import best_span, sentence_pooling
from bench.types import Example, Prediction, TaskInfo


@dataclass(frozen=True)
class QAWindows:
    """Decoding info for QA windows (never a target)."""

    item_of: tuple[int, ...]  # window -> item index
    offsets: tuple[tuple[tuple[int, int] | None, ...], ...]  # window -> token -> context chars
    contexts: tuple[str, ...]  # item -> context


class EncoderUnits(UnitModel):
    """Encoder + unit heads. Parameters: ``encoder.*`` (pretrained) and ``head.<i>.*`` (seeded)."""

    units_are_generative = False

    def __init__(self, config: HFConfig, info: TaskInfo, encoder: nn.Module, tokenizer: Any, head_seed: int) -> None:
        super().__init__()
        self.config = config
        self.info = info
        self.encoder = encoder
        self.tokenizer = tokenizer
        hidden = int(encoder.config.hidden_size)
        if info.kind == "classification":
            if info.num_labels < 2:
                raise ValueError(f"classification task {info.name} has {info.num_labels} labels")
            sizes = [info.num_labels]
        elif info.kind == "qa":
            sizes = [2, 2]
        else:
            sizes = [2]
        self.head = nn.ModuleList(nn.Linear(hidden, c) for c in sizes)
        gen = torch.Generator().manual_seed(head_seed)
        std = float(getattr(encoder.config, "initializer_range", 0.02))
        with torch.no_grad():
            for lin in self.head:
                lin.weight.copy_(torch.randn(lin.weight.shape, generator=gen) * std)
                lin.bias.zero_()
        self._token_types = "token_type_ids" in getattr(tokenizer, "model_input_names", ())

    @property
    def device(self) -> torch.device:
        return self.head[0].weight.device

    # -- featurize ---------------------------------------------------------------------

    def featurize(self, items: Sequence[Item]) -> Feats:
        kind = self.info.kind
        if kind == "classification":
            return self._featurize_classification(items)
        if kind == "qa":
            return self._featurize_qa(items)
        return self._featurize_summarization(items)

    def _encode(self, *texts: list[str], **kw: Any) -> Any:
        return self.tokenizer(
            *texts, max_length=self.config.max_length, padding=True, return_tensors="pt", **kw
        )

    def _pack(self, enc: Any, mask: torch.Tensor, extra: tuple[torch.Tensor, ...] = (), spans: tuple = ()) -> Feats:
        ids = enc["input_ids"]
        types = enc["token_type_ids"] if "token_type_ids" in enc else torch.zeros_like(ids)
        dev = self.device
        return Feats(
            x=ids.to(dev),
            mask=mask.to(dev),
            extra=(enc["attention_mask"].to(dev), types.to(dev), *(e.to(dev) for e in extra)),
            spans=spans,
        )

    def _featurize_classification(self, items: Sequence[Item]) -> Feats:
        texts = [it.text for it in items]
        pairs = [it.question for it in items]
        if any(p is not None for p in pairs):
            enc = self._encode(texts, [p or "" for p in pairs], truncation="longest_first")
        else:
            enc = self._encode(texts, truncation=True)
        return self._pack(enc, torch.ones(len(items), 1, dtype=torch.bool))

    def _featurize_qa(self, items: Sequence[Item]) -> Feats:
        questions = [it.question or "" for it in items]
        contexts = [it.text for it in items]
        enc = self._encode(
            questions,
            contexts,
            truncation="only_second",
            stride=qa_stride(self.config),
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        item_of = tuple(int(i) for i in enc["overflow_to_sample_mapping"])
        n, t = enc["input_ids"].shape
        mask = torch.zeros(n, t, dtype=torch.bool)
        offsets = []
        for w in range(n):
            seq = enc.sequence_ids(w)
            offs = enc["offset_mapping"][w].tolist()
            row = tuple((int(o[0]), int(o[1])) if s == 1 else None for s, o in zip(seq, offs))
            offsets.append(row)
            mask[w] = torch.tensor([r is not None for r in row])
            mask[w, 0] = True  # the CLS unit: target of a window that misses the answer
        enc.pop("offset_mapping")
        return self._pack(enc, mask, spans=(QAWindows(item_of, tuple(offsets), tuple(contexts)),))

    def _featurize_summarization(self, items: Sequence[Item]) -> Feats:
        sentences = [tuple(it.sentences) or (it.text,) for it in items]
        docs = [" ".join(s) for s in sentences]
        enc = self._encode(docs, truncation=True, return_offsets_mapping=True)
        offsets = enc.pop("offset_mapping").tolist()
        pool, mask = sentence_pooling(sentences, offsets, [enc.sequence_ids(i) for i in range(len(items))])
        return self._pack(enc, mask, extra=(pool,), spans=(tuple(sentences),))

    # -- forward -----------------------------------------------------------------------

    def trunk(self, params: Params, feats: Feats) -> torch.Tensor:
        prefix = "encoder."
        enc_params = {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
        attn, types = feats.extra[0], feats.extra[1]
        kwargs: dict[str, Any] = {"input_ids": feats.x, "attention_mask": attn}
        if self._token_types:
            kwargs["token_type_ids"] = types
        with oom_guard(self.config.model, self.device, tuple(feats.x.shape)), autocast(self.device, self.config.dtype):
            out = torch.func.functional_call(self.encoder, enc_params, args=(), kwargs=kwargs, tie_weights=True, strict=False)
        h = out.last_hidden_state.float()
        if self.info.kind == "qa":
            return h
        if self.info.kind == "summarization":
            return torch.bmm(feats.extra[2], h)
        if self.config.pooling == "mean":
            w = attn.unsqueeze(-1).to(h.dtype)
            return ((h * w).sum(1) / w.sum(1).clamp_min(1.0)).unsqueeze(1)
        return h[:, :1]

    def heads(self, params: Params, h: torch.Tensor) -> list[torch.Tensor]:
        own = dict(self.head.named_parameters())
        out = []
        for i in range(len(self.head)):
            w = params.get(f"head.{i}.weight", own[f"{i}.weight"])
            b = params.get(f"head.{i}.bias", own[f"{i}.bias"])
            out.append(F.linear(h, w, b))
        return out

    # -- targets, loss, decode -----------------------------------------------------------

    def targets(self, examples: Sequence[Example], feats: Feats) -> list[torch.Tensor]:
        kind = self.info.kind
        fill = torch.where(feats.mask, 0, -100).long()
        if kind == "classification":
            labels = [ex.label for ex in examples]
            if any(lab is None for lab in labels):
                raise ValueError("classification targets need every example's label")
            return [torch.tensor(labels, device=self.device).view(-1, 1)]
        if kind == "summarization":
            from bench.metrics import oracle_sentences

            tgt = fill.clone()
            for i, (ex, sents) in enumerate(zip(examples, feats.spans[0])):
                for j in oracle_sentences(sents, ex.summary or "", self.info.summary_sentences):
                    if feats.mask[i, j]:
                        tgt[i, j] = 1
            return [tgt]
        windows: QAWindows = feats.spans[0]
        start, end = fill.clone(), fill.clone()
        for w, i in enumerate(windows.item_of):
            s_tok, e_tok = 0, 0  # CLS unless the window holds the whole first answer
            if examples[i].answers:
                ans = examples[i].answers[0]
                a, b = ans.start, ans.start + len(ans.text)
                toks = [(u, o) for u, o in enumerate(windows.offsets[w]) if o is not None]
                if toks and toks[0][1][0] <= a and toks[-1][1][1] >= b:
                    s_tok = next(u for u, o in toks if o[1] > a)
                    e_tok = next(u for u, o in reversed(toks) if o[0] < b)
            start[w, s_tok] = 1
            end[w, e_tok] = 1
        return [start, end]

    def loss(self, logits: list[torch.Tensor], targets: list[torch.Tensor], feats: Feats) -> torch.Tensor:
        if self.info.kind != "qa":
            total = logits[0].new_zeros(())
            for lg, tg in zip(logits, targets):
                total = total + F.cross_entropy(lg.reshape(-1, lg.shape[-1]).float(), tg.reshape(-1), ignore_index=-100)
            return total
        total = logits[0].new_zeros(())
        for lg, tg in zip(logits, targets):
            score = (lg[..., 1] - lg[..., 0]).float().masked_fill(~feats.mask, float("-inf"))
            total = total + F.cross_entropy(score, (tg == 1).long().argmax(-1))
        return total / len(logits)

    def decode(self, logits: list[torch.Tensor], feats: Feats) -> list[Prediction]:
        kind = self.info.kind
        if kind == "classification":
            return [Prediction(label=int(i)) for i in logits[0][:, 0].argmax(-1).tolist()]
        if kind == "summarization":
            return self._decode_summaries(logits[0], feats)
        windows: QAWindows = feats.spans[0]
        s_score = (logits[0][..., 1] - logits[0][..., 0]).float().detach().cpu()
        e_score = (logits[1][..., 1] - logits[1][..., 0]).float().detach().cpu()
        best: dict[int, tuple[float, str]] = {}
        for w, i in enumerate(windows.item_of):
            found = best_span(s_score[w], e_score[w], windows.offsets[w], self.info.max_answer_tokens)
            if found is None:
                continue
            score, a, b = found
            if i not in best or score > best[i][0]:
                best[i] = (score, windows.contexts[i][a:b])
        return [Prediction(text=best.get(i, (0.0, ""))[1]) for i in range(len(windows.contexts))]

    def _decode_summaries(self, lg: torch.Tensor, feats: Feats) -> list[Prediction]:
        score = (lg[..., 1] - lg[..., 0]).float().masked_fill(~feats.mask, float("-inf")).detach().cpu()
        preds = []
        for i, sents in enumerate(feats.spans[0]):
            valid = int(feats.mask[i].sum())
            k = min(self.info.summary_sentences, valid)
            chosen = sorted(score[i].topk(k).indices.tolist()) if k else []
            preds.append(Prediction(text=" ".join(sents[j] for j in chosen)))
        return preds

    def adapted_names(self) -> tuple[str, ...]:
        frozen: set[str] = set()
        if self.config.freeze_embeddings:
            for mod_name, mod in self.named_modules():
                if isinstance(mod, nn.Embedding):
                    frozen.update(f"{mod_name}.{p}" for p, _ in mod.named_parameters())
        return tuple(n for n, _ in self.named_parameters() if n not in frozen)
