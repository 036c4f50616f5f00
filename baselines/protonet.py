"""Prototypical Networks (Snell, Swersky & Zemel, NeurIPS 2017, "Prototypical Networks for
Few-shot Learning"), on unit embeddings so they apply to every task kind.

A prototype is the mean unit embedding (``model.trunk``) of the support units of one class,
per head: classification — one prototype per label; QA — start / not-start and end /
not-end prototypes over the context tokens; summarization — in-summary / not over the
document sentences. Logits are negative squared Euclidean distances, shaped ``[B, U, C]``
like the model's own heads, so ``model.loss`` and ``model.decode`` apply unchanged (for QA
the decoder's score is ``logit[..., 1] − logit[..., 0]``, the difference of the distances
to the two prototypes). A class absent from the support set gets logit :data:`ABSENT`.

Training is episodic on source languages (:mod:`bench.sampling`: support and query from
one language; ``meta_batch`` episodes per Adam step, featurised and encoded in one pass;
the loss is averaged over the episodes). The model's heads are never used (timings of the
batched step: README, "Performance").

Budget: source training spends ``|support| + |query|`` example passes per episode (real
examples; episodes of languages with fewer classes are smaller and padded rows are not
charged; one ``meter.step`` per optimizer step, before it; the meta-batch shrinks to what
fits, so the spent passes end within one step of the cap). Prediction encodes the support set once
(``|support|`` forward passes; if the adaptation budget is smaller, only the support
prefix that fits is encoded). K = 0 is undefined (no prototypes): ``zero_shot = False``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Mapping, Sequence

from baselines.trained import ModelMethod
from bench.configcheck import Checked, bounded
from bench.method import MethodRole
from bench.sampling import episode_langs, episode_sizes, meta_batch_plan, source_episode
from bench.searchspace import Choice, IntRange, LogUniform, Space
from bench.types import KINDS, EvalEpisode, Prediction, SourceData, TaskKind

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from bench.backbones.base import UnitModel
    from bench.budget import Meter

ABSENT = -1e4  # logit of a class without support units (finite: no NaN in softmax/differences)


@dataclass(frozen=True)
class ProtoNetConfig(Checked):
    """ProtoNet's episodic-training settings. The defaults are the fallback of a tuned file
    and trial 0 of ``xlbench tune`` (``ProtoNet.search_space`` varies lr and the episode
    sizes on dev languages only); they were set for the default suite's 6000-pass budget
    and make no claim about any target language."""

    lr: float = bounded(1e-2, gt=0)  # Adam learning rate of episodic training (all parameters)
    meta_batch: int = bounded(2, ge=1, le=4096)  # episodes (source languages) per optimizer step
    shots: int = bounded(2, ge=1, le=100_000)  # support examples per episode (per class for classification)
    queries: int = bounded(3, ge=1, le=100_000)  # query examples per episode (per class for classification)


def classes_per_head(model: "UnitModel") -> list[int]:
    """Number of unit classes of each head (classification: labels; else 2 per head)."""
    info = model.info
    if info.kind == "classification":
        return [info.num_labels]
    return [2, 2] if info.kind == "qa" else [2]


def prototypes(
    h: "torch.Tensor", targets: Sequence["torch.Tensor"], classes: Sequence[int]
) -> list[tuple["torch.Tensor", "torch.Tensor"]]:
    """Per head ``(protos [..., C, H], present [..., C])`` from support units.

    ``h`` is ``[..., S, U, H]`` (leading task axes allowed), ``targets`` per head
    ``[..., S, U]`` with -100 for units that do not count.
    """
    import torch
    import torch.nn.functional as F

    out = []
    for t, c in zip(targets, classes):
        onehot = F.one_hot(t.clamp(min=0), c).to(h.dtype) * (t >= 0).unsqueeze(-1).to(h.dtype)
        sums = torch.einsum("...suc,...suh->...ch", onehot, h)
        counts = onehot.sum(dim=(-3, -2))
        out.append((sums / counts.clamp(min=1).unsqueeze(-1), counts > 0))
    return out


def proto_logits(
    h: "torch.Tensor", protos: Sequence[tuple["torch.Tensor", "torch.Tensor"]]
) -> list["torch.Tensor"]:
    """Per head ``-||h - p_c||²`` of query units ``h [..., Q, U, H]`` → ``[..., Q, U, C]``."""
    out = []
    for p, present in protos:
        p_ = p.unsqueeze(-3).unsqueeze(-3)  # [..., 1, 1, C, H]
        d = ((h.unsqueeze(-2) - p_) ** 2).sum(-1)
        keep = present.unsqueeze(-2).unsqueeze(-2)
        out.append((-d).masked_fill(~keep, ABSENT))
    return out


class ProtoNet(ModelMethod):
    """Prototypical networks over unit embeddings; see the module docstring."""

    Config: ClassVar[type] = ProtoNetConfig
    role: ClassVar[MethodRole] = "meta"  # a method under test (meta-learner)
    search_space: ClassVar[Mapping[str, Space]] = {
        "lr": LogUniform(1e-3, 3e-2),
        "meta_batch": Choice((1, 2, 4)),
        "shots": IntRange(1, 5),
        "queries": IntRange(2, 6),
    }
    kinds: ClassVar[frozenset[TaskKind]] = frozenset(KINDS)
    zero_shot: ClassVar[bool] = False

    def __init__(self, config, model_factory, task_info, rng) -> None:
        super().__init__(config, model_factory, task_info, rng)
        self._fpe: float | None = None

    def episode_loss(self, model: "UnitModel", episodes: Sequence[tuple]) -> "torch.Tensor":
        """Mean query loss of T episodes, encoded in one featurize + trunk pass (unequal
        episodes are padded with ignored rows: :func:`baselines.taskbatch.stack_tasks`)."""
        from baselines.taskbatch import stack_tasks
        from bench.backbones.base import Feats

        b = stack_tasks(model, episodes, sparse_grad=bool(getattr(model, "sparse_params", ())))
        t, s, q = b.tasks, b.support.x.shape[1], b.query.x.shape[1]
        flat = lambda f: Feats(f.x.flatten(0, 1), f.mask.flatten(0, 1), tuple(e.flatten(0, 1) for e in f.extra))  # noqa: E731
        params = model.params()
        hs = model.trunk(params, flat(b.support)).unflatten(0, (t, s))
        qf = flat(b.query)
        hq = model.trunk(params, qf).unflatten(0, (t, q))
        logits = proto_logits(hq, prototypes(hs, b.support_t, classes_per_head(model)))
        return model.loss(
            [lg.flatten(0, 1) for lg in logits], [tg.flatten(0, 1) for tg in b.query_t], qf
        )

    def train(self, source: SourceData, meter: "Meter") -> None:

        from baselines.taskbatch import descend, example_flops, optimizers

        c = self.config  # its ranges hold: ProtoNetConfig checks them when built (bench.configcheck)
        model = self.model_factory()
        langs = episode_langs(source, c.shots, c.queries)
        cost = {lang: sum(episode_sizes(source, lang, c.shots, c.queries)) for lang in langs}
        opts, _ = optimizers(model, c.lr)
        if langs and not _trunk_trains(model, source, langs[0]):
            self.model = model  # a frozen trunk (e5 frozen): prototypes of fixed features, nothing to learn
            return
        fpe = 0.0
        while True:
            chosen = meta_batch_plan(langs, cost, c.meta_batch, meter.remaining, self.rng)
            if not chosen:
                break
            episodes = [source_episode(source, lang, c.shots, c.queries, self.rng) for lang in chosen]
            fpe = fpe or example_flops(model, episodes[0][1])
            spent = sum(cost[lang] for lang in chosen)
            meter.step(spent, flops=fpe * spent)
            loss = self.episode_loss(model, episodes)
            meter.check_loss(loss.detach())  # NaN/inf: raises Diverged (recorded as 'diverged')
            descend(opts, loss)
        self.model = model

    def predict(self, episode: EvalEpisode, meter: "Meter") -> list[Prediction]:
        import torch

        from baselines.taskbatch import PREDICT_CHUNK, detached, example_flops

        model = self._trained()
        if not episode.query:
            return []
        if not episode.support:
            raise ValueError(
                "ProtoNet needs a support set (K = 0 is undefined; the runner records it as n/a)"
            )
        support = episode.support[: max(0, min(len(episode.support), meter.remaining))]
        if self._fpe is None:
            self._fpe = example_flops(model, support)
        meter.step(len(support), flops=self._fpe * len(support) / 3)  # forward only: ~1/3
        params = detached(model.params())
        out: list[Prediction] = []
        with torch.no_grad():
            classes = classes_per_head(model)
            if support:
                sf = model.featurize(support)
                protos = prototypes(model.trunk(params, sf), model.targets(support, sf), classes)
            else:  # no budget to encode anything: every class is absent
                dim = model.trunk(params, model.featurize(episode.query[:1])).shape[-1]
                protos = [(torch.zeros(c, dim), torch.zeros(c, dtype=torch.bool)) for c in classes]
            for i in range(0, len(episode.query), PREDICT_CHUNK):
                qf = model.featurize(episode.query[i : i + PREDICT_CHUNK])
                out.extend(model.decode(proto_logits(model.trunk(params, qf), protos), qf))
        return out


def _trunk_trains(model: "UnitModel", source: SourceData, lang: str) -> bool:
    """Whether the unit embeddings depend on a trainable parameter (one featurize of one item)."""
    item = source.train[lang][:1]
    return bool(model.trunk(model.params(), model.featurize(item)).requires_grad)
