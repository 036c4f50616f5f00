"""A pretrained transformer encoder as a UnitModel for all three task kinds.

* classification: the CLS (or mean-pooled) token is the one unit -> ``Linear(H, labels)``;
  a sentence pair is tokenised as (``text``, ``question``).
* qa: (question, context) pairs; a long context becomes ``W`` overlapping windows
  (``stride`` tokens shared): ``feats.x`` is ``[B, W, T]`` (item-major; windows of shorter
  contexts are padding) and the units are the ``W*T`` tokens, valid where they are context.
  Start and end are softmaxes over all the item's context tokens (the gold span is taken in
  the first window that holds it whole); decoding takes the best span within a window over
  all windows (Devlin et al., NAACL 2019, §4.2; the transformers QA post-processing).
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
from bench.backbones.hf_runtime import HFConfig, adapted_names, additive_mask, autocast, oom_guard, qa_stride
from bench.backbones.hf_spans import best_span, sentence_pooling
from bench.types import Example, Prediction, TaskInfo


@dataclass(frozen=True)
class QAWindows:
    """Decoding info of one QA item (never a target): its ``Feats.spans`` entry."""

    offsets: tuple[tuple[tuple[int, int] | None, ...], ...]  # window -> token -> context chars
    context: str
    window: int  # tokens per window (T); unit w*T + t is token t of window w


class EncoderUnits(UnitModel):
    """Encoder + unit heads. Parameters: ``encoder.*`` (pretrained) and ``head.<i>.*`` (seeded)."""

    def __init__(self, config: HFConfig, info: TaskInfo, encoder: nn.Module, tokenizer: Any, head_seed: int) -> None:
        super().__init__()
        self.config = config
        self.info = info
        self.encoder = encoder
        self.tokenizer = tokenizer
        model_config: Any = encoder.config  # a transformers PretrainedConfig
        hidden = int(model_config.hidden_size)
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
                assert isinstance(lin, nn.Linear)
                lin.weight.copy_(torch.randn(lin.weight.shape, generator=gen) * std)
                lin.bias.zero_()
        self._token_types = "token_type_ids" in getattr(tokenizer, "model_input_names", ())

    @property
    def device(self) -> torch.device:
        weight: Any = self.head[0].weight
        return weight.device

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
        return self._pack(enc, torch.ones(len(items), 1, dtype=torch.bool), spans=(None,) * len(items))

    def _featurize_qa(self, items: Sequence[Item]) -> Feats:
        contexts = [it.text for it in items]
        enc = self._encode(
            [it.question or "" for it in items],
            contexts,
            truncation="only_second",
            stride=qa_stride(self.config),
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        item_of = [int(i) for i in enc["overflow_to_sample_mapping"]]
        n, t = len(items), enc["input_ids"].shape[1]
        w_max = max(item_of.count(i) for i in range(n)) if n else 1
        ids = torch.full((n, w_max, t), int(self.tokenizer.pad_token_id))
        attn = torch.zeros(n, w_max, t, dtype=torch.long)
        types = torch.zeros(n, w_max, t, dtype=torch.long)
        offsets: list[list[tuple]] = [[] for _ in range(n)]
        for row, i in enumerate(item_of):
            w = len(offsets[i])
            ids[i, w], attn[i, w] = enc["input_ids"][row], enc["attention_mask"][row]
            if "token_type_ids" in enc:
                types[i, w] = enc["token_type_ids"][row]
            offs = enc["offset_mapping"][row].tolist()
            offsets[i].append(tuple((o[0], o[1]) if s == 1 else None for s, o in zip(enc.sequence_ids(row), offs)))
        blank = (None,) * t
        spans = tuple(tuple(o) + (blank,) * (w_max - len(o)) for o in offsets)
        mask = torch.tensor([[o is not None for win in item for o in win] for item in spans], dtype=torch.bool)
        dev = self.device
        return Feats(
            x=ids.to(dev),
            mask=mask.reshape(n, w_max * t).to(dev),
            extra=(attn.to(dev), types.to(dev)),
            spans=tuple(QAWindows(o, c, t) for o, c in zip(spans, contexts)),
        )

    def _featurize_summarization(self, items: Sequence[Item]) -> Feats:
        sentences = [tuple(it.sentences) or (it.text,) for it in items]
        docs = [" ".join(s) for s in sentences]
        enc = self._encode(docs, truncation=True, return_offsets_mapping=True)
        offsets = enc.pop("offset_mapping").tolist()
        pool, mask = sentence_pooling(sentences, offsets, [enc.sequence_ids(i) for i in range(len(items))])
        return self._pack(enc, mask, extra=(pool,), spans=tuple(sentences))

    # -- forward -----------------------------------------------------------------------

    def trunk(self, params: Params, feats: Feats) -> torch.Tensor:
        prefix = "encoder."
        enc_params = {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
        ids, attn, types = feats.x, feats.extra[0], feats.extra[1]
        if ids.dim() == 3:  # qa: [B, W, T] windows -> [B*W, T] sequences
            ids, attn, types = (t.reshape(-1, t.shape[-1]) for t in (ids, attn, types))
        kwargs: dict[str, Any] = {"input_ids": ids, "attention_mask": additive_mask(attn)}
        if self._token_types:
            kwargs["token_type_ids"] = types
        with oom_guard(self.config.model, self.device, tuple(ids.shape), self.config.gradient_checkpointing), autocast(self.device, self.config.dtype):
            out = torch.func.functional_call(self.encoder, enc_params, args=(), kwargs=kwargs, tie_weights=True, strict=False)
        h = out.last_hidden_state.float()
        if self.info.kind == "qa":
            return h.reshape(*feats.x.shape[:-2], -1, h.shape[-1])
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
            for i, (ex, sents) in enumerate(zip(examples, feats.spans)):
                for j in oracle_sentences(sents, ex.summary or "", self.info.summary_sentences):
                    if feats.mask[i, j]:
                        tgt[i, j] = 1
            return [tgt]
        start, end = fill.clone(), fill.clone()
        for i, (ex, span) in enumerate(zip(examples, feats.spans)):
            found = self._gold_tokens(ex, span.offsets) if ex.answers else None
            if found is None:  # no answer, or no window holds it whole: the item is ignored
                start[i], end[i] = -100, -100
                continue
            w, a, b = found
            start[i, w * span.window + a] = 1
            end[i, w * span.window + b] = 1
        return [start, end]

    @staticmethod
    def _gold_tokens(ex: Example, windows: Sequence[Sequence[tuple[int, int] | None]]) -> tuple[int, int, int] | None:
        """(window, start token, end token) of the first answer in the first window holding it."""
        ans = ex.answers[0]
        a, b = ans.start, ans.start + len(ans.text)
        for w, offs in enumerate(windows):
            toks = [(u, o) for u, o in enumerate(offs) if o is not None]
            if toks and toks[0][1][0] <= a and toks[-1][1][1] >= b:
                s_tok = next(u for u, o in toks if o[1] > a)
                e_tok = next(u for u, o in reversed(toks) if o[0] < b)
                return w, s_tok, e_tok
        return None

    def loss(self, logits: list[torch.Tensor], targets: list[torch.Tensor], feats: Feats) -> torch.Tensor:
        if self.info.kind != "qa":
            total = logits[0].new_zeros(())
            for lg, tg in zip(logits, targets):
                total = total + F.cross_entropy(lg.reshape(-1, lg.shape[-1]).float(), tg.reshape(-1), ignore_index=-100)
            return total
        total = logits[0].new_zeros(())
        for lg, tg in zip(logits, targets):
            score = (lg[..., 1] - lg[..., 0]).float().masked_fill(~feats.mask, -1e30)
            logp = torch.log_softmax(score, -1)
            gold = (tg == 1).float()
            has = gold.sum(-1)
            total = total + -(logp * gold).sum() / has.sum().clamp_min(1.0)
        return total / len(logits)

    def decode(self, logits: list[torch.Tensor], feats: Feats) -> list[Prediction]:
        kind = self.info.kind
        if kind == "classification":
            return [Prediction(label=int(i)) for i in logits[0][:, 0].argmax(-1).tolist()]
        if kind == "summarization":
            return self._decode_summaries(logits[0], feats)
        s_all = (logits[0][..., 1] - logits[0][..., 0]).float().detach().cpu()
        e_all = (logits[1][..., 1] - logits[1][..., 0]).float().detach().cpu()
        preds = []
        for i, span in enumerate(feats.spans):
            t, units = span.window, len(span.offsets) * span.window
            pad = (0, max(0, units - s_all.shape[1]))  # callers may cut trailing padding units
            s_i, e_i = (F.pad(v[i], pad, value=float("-inf"))[:units] for v in (s_all, e_all))
            best: tuple[float, str] = (float("-inf"), "")
            for w, offs in enumerate(span.offsets):
                found = best_span(s_i[w * t : (w + 1) * t], e_i[w * t : (w + 1) * t], offs, self.info.max_answer_tokens)
                if found is not None and found[0] > best[0]:
                    best = (found[0], span.context[found[1] : found[2]])
            preds.append(Prediction(text=best[1]))
        return preds

    def _decode_summaries(self, lg: torch.Tensor, feats: Feats) -> list[Prediction]:
        score = (lg[..., 1] - lg[..., 0]).float().masked_fill(~feats.mask, float("-inf")).detach().cpu()
        preds = []
        for i, sents in enumerate(feats.spans):
            valid = int(feats.mask[i].sum())
            k = min(self.info.summary_sentences, valid)
            chosen = sorted(score[i].topk(k).indices.tolist()) if k else []
            preds.append(Prediction(text=" ".join(sents[j] for j in chosen)))
        return preds

    def adapted_names(self) -> tuple[str, ...]:
        return adapted_names(self, self.config.freeze_embeddings)
