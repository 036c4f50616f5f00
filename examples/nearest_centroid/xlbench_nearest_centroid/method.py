"""NearestCentroid: SimpleShot on frozen, source-trained unit features.

Wang et al. 2019, "SimpleShot: Revisiting Nearest-Neighbor Classification for Few-Shot
Learning" (arXiv:1911.04623): train an ordinary classifier on the base (here: source)
data, freeze it, and classify a few-shot query by its nearest class centroid of support
features after *CL2N* — subtract the mean base-class feature, then L2-normalise. It is the
non-episodic counterpart of Prototypical Networks (Snell et al. 2017, NeurIPS): the same
nearest-mean rule without meta-training, which makes it a clean probe of whether episodic
training (``protonet``) buys anything over plain transfer (``finetune``) at a matched budget.

Every kind reduces to unit classification (docs/architecture.md), so one rule covers all three: per
head, one centroid per unit class (classification: per label; QA: start / not-start and
end / not-end tokens; summarization: in-summary / not sentences); a unit's logit for class
c is minus its squared distance to centroid c, and the model's own decoder turns logits
into predictions (QA: best span; summarization: top-k sentences).

Budget:

* source: ``n`` passes paid up front for the centering pass (``n = min(center_examples,
  cap // 4, source size)``; the forward pass over ``n`` source examples runs after
  training), then source training (:func:`source_train`: Adam on shuffled source
  mini-batches, one pass per example) spends the rest until the cap.
* adapt: encoding the support costs one pass per example (a forward pass that informs
  adaptation, see ``bench.types.Budget``). If the cap affords fewer, only the first
  affordable support examples make centroids; if none, the source-trained head predicts.
  Query encoding is inference and is not charged. K = 0 is n/a (no centroids).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Mapping

from bench import (
    KINDS,
    BudgetExhausted,
    Choice,
    EvalEpisode,
    LogUniform,
    Method,
    MethodRole,
    Prediction,
    SourceData,
    Space,
    TaskKind,
)

MEAN = "simpleshot.mean"  # the state() key of the centering vector
_ABSENT = -1e9  # logit of a unit class the support set does not contain


@dataclass(frozen=True)
class NearestCentroidConfig:
    """Options of NearestCentroid (every field defaulted; a suite may override any of them)."""

    lr: float = 3e-3  # Adam learning rate of source training
    batch_size: int = 32  # source examples per optimizer step
    weight_decay: float = 0.0  # AdamW weight decay during source training
    center: bool = True  # CL2N: subtract the mean source unit feature before normalising
    normalize: bool = True  # CL2N: L2-normalise unit features (False: plain Euclidean, "UN")
    center_examples: int = 512  # source examples encoded for the centering mean (<= cap // 4)


class NearestCentroid(Method):
    """SimpleShot (CL2N nearest class centroid) on the frozen source-trained trunk."""

    Config: ClassVar[type] = NearestCentroidConfig
    role: ClassVar[MethodRole] = "transfer"  # a standard transfer baseline
    # All `xlbench tune` needs: the ranges it may vary (trial 0 is always the defaults).
    search_space: ClassVar[Mapping[str, Space]] = {
        "lr": LogUniform(1e-3, 3e-2),
        "batch_size": Choice((16, 32, 64)),
    }
    kinds: ClassVar[frozenset[TaskKind]] = frozenset(KINDS)
    zero_shot: ClassVar[bool] = False  # no support, no centroids

    def __init__(self, config, model_factory, task_info, rng) -> None:
        super().__init__(config, model_factory, task_info, rng)  # store only: no model here
        self.model = None
        self.mean = None

    # ---------------------------------------------------------------- source
    def train(self, source: SourceData, meter) -> None:
        import torch

        examples = source.all()
        self.model = self.model_factory()
        n = min(self.config.center_examples, meter.cap // 4, len(examples)) if self.config.center else 0
        if n:
            meter.step(n)  # the centering pass below, paid before any work
        source_train(self.model, examples, meter, self.rng, self.config.lr, self.config.batch_size,
                     self.config.weight_decay)
        hidden = self._trunk(self.model.featurize(examples[:1]))[0].shape[-1]
        self.mean = torch.zeros(hidden)
        if n:
            picks = sorted(self.rng.choice(len(examples), size=n, replace=False).tolist())
            self.mean = self._mean_feature([examples[i] for i in picks])

    def _trunk(self, feats):
        import torch

        with torch.no_grad():
            return self.model.trunk(self.model.params(), feats), feats.mask.bool()

    def _mean_feature(self, items):
        h, mask = self._trunk(self.model.featurize(items))
        return h[mask].mean(0)

    def state(self):
        model = self._trained()
        return {**{k: v.detach().clone() for k, v in model.state_dict().items()}, MEAN: self.mean.clone()}

    def load_state(self, state) -> None:
        state = dict(state)
        self.mean = state.pop(MEAN)
        self.model = self.model_factory()
        self.model.load_state_dict(state)

    def _trained(self):
        if self.model is None or self.mean is None:
            raise RuntimeError("NearestCentroid: call train() or load_state() before predict()")
        return self.model

    # ---------------------------------------------------------------- episodes
    def predict(self, episode: EvalEpisode, meter) -> list[Prediction]:
        import torch

        model = self._trained()
        q_feats = model.featurize(episode.query)
        afford = min(len(episode.support), meter.remaining)
        if afford == 0:  # nothing to build centroids from: the source-trained head predicts
            with torch.no_grad():
                return model.predict(model.params(), q_feats)
        meter.step(afford)  # encoding the support: one forward pass per example
        support = list(episode.support[:afford])
        s_feats = model.featurize(support)
        s_h, s_mask = self._trunk(s_feats)
        q_h, _ = self._trunk(q_feats)
        s_z, q_z = self._cl2n(s_h), self._cl2n(q_h)
        with torch.no_grad():
            heads = model.heads(model.params(), s_h[:1])  # class count per head
        logits = []
        for head, target in zip(heads, model.targets(support, s_feats)):
            classes = head.shape[-1]
            out = torch.full((*q_z.shape[:2], classes), _ABSENT)
            for c in range(classes):
                units = s_z[(target == c) & s_mask]
                if len(units):
                    out[..., c] = -((q_z - units.mean(0)) ** 2).sum(-1)
            logits.append(out)
        return model.decode(logits, q_feats)

    def _cl2n(self, h):
        import torch

        if self.config.center:
            h = h - self.mean
        if self.config.normalize:
            h = torch.nn.functional.normalize(h, dim=-1)
        return h


def source_train(model, examples, meter, rng, lr: float, batch_size: int, weight_decay: float) -> None:
    """AdamW on all parameters over shuffled mini-batches of ``examples`` until ``meter``
    refuses a step (each example one pass, paid before its step; the last batch takes what
    is left of the budget). Plain PyTorch on the backbone's unit model: a plugin needs
    nothing from the built-in methods."""
    import torch

    if not examples or meter.remaining <= 0:
        return
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    while True:
        order = rng.permutation(len(examples))
        for lo in range(0, len(examples), batch_size):
            batch = [examples[int(i)] for i in order[lo: lo + min(batch_size, meter.remaining)]]
            if not batch:
                return
            try:
                meter.step(len(batch))  # pay before the work
            except BudgetExhausted:
                return
            feats = model.featurize(batch)
            loss = model.loss(model.logits(model.params(), feats), model.targets(batch, feats), feats)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"source training diverged (loss {loss.item()}); lower lr (now {lr})")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
