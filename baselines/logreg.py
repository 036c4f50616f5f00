"""Logistic regression on frozen unit features: the classical feature-based baseline.

Like the SQuAD logistic-regression baseline (Rajpurkar et al. 2016, EMNLP, "SQuAD: 100,000+
Questions for Machine Comprehension of Text"), a linear classifier is fitted per episode on
the support set's unit features:

* ``features="encoder"`` — the trunk of a model source-trained exactly like ``finetune``
  (:func:`baselines.finetune.source_train`, called, not copied) is frozen; at predict time
  scikit-learn ``LogisticRegression`` is fitted per head on the support units
  (classification: one multinomial LR; qa: binary start and end LRs over tokens, decoded by
  the model's own span decoder on the LR log-probabilities; summarization: one binary LR
  over sentences, decoded top-k).
* ``features="tfidf"`` — classification only: word + character TF-IDF of the support texts
  (:func:`baselines.tfidf.tfidf_vectorizer`, the NusaX baseline of Winata et al. 2023).
  Source data are ignored: it spends nothing on source training.

Budget (adapt): encoding the support costs ``len(support)`` passes (encoder only; a forward
pass that informs adaptation costs 1, see ``bench.types.Budget``); fitting costs
``len(support) × iterations`` per head, with ``max_iter`` capped so the fit fits in what is
left, recorded after fitting from the solver's ``n_iter_``. If not even one iteration fits,
nothing is spent and it predicts the majority support label (qa: the first tokens;
summarization: the lead sentences). Query encoding is inference and is not charged.
K = 0 is undefined (no support to fit on).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Mapping, Sequence

from baselines.features import FeatureCache, collate, fingerprint
from baselines.finetune import SourceTraining, source_train
from bench.configcheck import bounded
from bench.errors import XlbenchError
from bench.method import Method, MethodRole
from bench.searchspace import Choice, LogUniform, Space
from bench.types import KINDS, EvalEpisode, Prediction, SourceData, TaskInfo, TaskKind

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from bench.backbones.base import UnitModel
    from bench.budget import Meter

_ABSENT = -1e9  # log-probability given to a class the support set does not contain


@dataclass(frozen=True)
class LogRegConfig(SourceTraining):
    """Logistic regression on unit features (source-training fields used by "encoder" only).

    Defaults are the fallback of a tuned file and trial 0 of ``xlbench tune``
    (``LogReg.search_space``, scored on dev languages only)."""

    features: Literal["encoder", "tfidf"] = "encoder"  # frozen source-trained trunk, or support TF-IDF (classification only)
    C: float = bounded(1.0, gt=0)  # inverse L2 strength of scikit-learn LogisticRegression
    max_iter: int = bounded(100, ge=1, le=1_000_000)  # most L-BFGS iterations per head (further capped by the adapt budget)
    standardize: bool = True  # encoder features: StandardScaler before the LR (MTEB's protocol: false)


class LogReg(Method):
    """Per-episode logistic regression on frozen encoder (or TF-IDF) unit features."""

    Config: ClassVar[type] = LogRegConfig
    role: ClassVar[MethodRole] = "transfer"  # a standard transfer baseline
    search_space: ClassVar[Mapping[str, Space]] = {
        "lr": LogUniform(1e-3, 3e-2),  # source training of the "encoder" trunk
        "C": LogUniform(1e-2, 1e2),
        "max_iter": Choice((50, 100, 200)),
    }
    kinds: ClassVar[frozenset[TaskKind]] = frozenset(KINDS)
    zero_shot: ClassVar[bool] = False

    def __init__(self, config: LogRegConfig, model_factory, task_info, rng) -> None:
        super().__init__(config, model_factory, task_info, rng)
        self._model: UnitModel | None = None
        self._key = ""
        self._cache = FeatureCache()

    def config_not_applicable(self, info: TaskInfo) -> str | None:
        if self.config.features == "tfidf" and info.kind != "classification":
            return f"LogReg(features='tfidf') supports classification only, not {info.kind}; use features='encoder'"
        if self.config.features not in ("encoder", "tfidf"):
            return f"LogReg.features must be 'encoder' or 'tfidf', got {self.config.features!r}"
        return None

    def _check(self) -> None:
        reason = self.config_not_applicable(self.info)
        if reason is not None:
            raise XlbenchError(reason)

    # ---------------------------------------------------------------- source
    def train(self, source: SourceData, meter: "Meter") -> None:
        self._check()
        if self.config.features == "tfidf":
            return  # TF-IDF ignores source data and spends nothing
        model = self.model_factory()
        source_train(model, source.all(), meter, self.rng, self.config)
        self._set_model(model)

    def state(self) -> dict[str, "torch.Tensor"]:
        if self.config.features == "tfidf":
            return {}
        return {k: v.detach().clone() for k, v in self._trained().state_dict().items()}

    def load_state(self, state: dict[str, "torch.Tensor"]) -> None:
        self._check()
        if self.config.features == "tfidf":
            return
        model = self.model_factory()
        model.load_state_dict(state)
        self._set_model(model)

    def _set_model(self, model: "UnitModel") -> None:
        self._model = model
        self._key = fingerprint(dict(model.state_dict()))
        self._cache.clear()

    def _trained(self) -> "UnitModel":
        if self._model is None:
            raise RuntimeError("LogReg(features='encoder'): call train() or load_state() before predict()")
        return self._model

    # ---------------------------------------------------------------- episodes
    def predict(self, episode: EvalEpisode, meter: "Meter") -> list[Prediction]:
        self._check()
        if not episode.support:
            raise XlbenchError(
                f"LogReg needs a support set; episode {episode.index} of {episode.lang} has none "
                "(K = 0 is recorded as n/a: check not_applicable before predicting)"
            )
        if self.config.features == "tfidf":
            return self._predict_tfidf(episode, meter)
        return self._predict_encoder(episode, meter)

    def _predict_tfidf(self, episode: EvalEpisode, meter: "Meter") -> list[Prediction]:
        from baselines.tfidf import tfidf_vectorizer

        support = episode.support
        y = [ex.label for ex in support]
        n = len(support)
        iters = min(self.config.max_iter, meter.remaining // n)
        if len(set(y)) < 2 or iters < 1:
            return [Prediction(label=_majority(y))] * len(episode.query)
        vec = tfidf_vectorizer()
        x = vec.fit_transform([ex.text for ex in support])
        clf = _fit(x, y, self.config.C, iters, scale=False)
        n_iter = int(max(clf[-1].n_iter_))
        meter.step(n * n_iter, flops=4.0 * x.nnz * len(clf[-1].classes_) * n_iter)
        labels = clf.predict(vec.transform([q.text for q in episode.query]))
        return [Prediction(label=int(v)) for v in labels]

    def _predict_encoder(self, episode: EvalEpisode, meter: "Meter") -> list[Prediction]:
        import torch

        model = self._trained()
        support, n = episode.support, len(episode.support)
        heads = 1 if self.info.kind != "qa" else 2
        iters = min(self.config.max_iter, (meter.remaining - n) // (n * heads))
        params = {k: v.detach() for k, v in model.params().items()}
        h_q, feats_q = collate(self._cache.encode(model, params, episode.query, self._key))
        if iters < 1:  # cannot afford one pass of encoding + one iteration: spend nothing
            return self._fallback(model, support, h_q, feats_q)
        meter.step(n)  # encoding the support: one forward pass per example
        h_s, feats_s = collate(self._cache.encode(model, params, support, self._key))
        targets = model.targets(support, feats_s)
        logits, spent, flops = [], 0, 0.0
        for tg in targets:
            classes = self.info.num_labels if self.info.kind == "classification" else 2
            valid = tg != -100
            x, y = h_s[valid].numpy(), tg[valid].numpy()
            lg = torch.full((*h_q.shape[:2], classes), _ABSENT)
            if len(set(y.tolist())) < 2:  # one class in the support: always predict it
                lg[..., int(y[0]) if len(y) else 0] = 0.0
            else:
                clf = _fit(x, y, self.config.C, iters, scale=self.config.standardize)
                n_iter = int(max(clf[-1].n_iter_))
                spent += n * n_iter
                flops += 4.0 * x.size * len(clf[-1].classes_) * n_iter
                q = feats_q.mask
                logp = torch.as_tensor(_log_proba(clf, h_q[q].numpy()), dtype=torch.float32)
                cols = torch.as_tensor(clf[-1].classes_, dtype=torch.long)
                rows = lg[q]
                rows[:, cols] = logp
                lg[q] = rows
            logits.append(lg)
        if spent:
            meter.step(spent, flops=flops)
        return model.decode(logits, feats_q)

    def _fallback(self, model: "UnitModel", support: Sequence, h_q: "torch.Tensor", feats_q: Any) -> list[Prediction]:
        """Nothing fits in the budget: majority label, or constant unit scores (lead / first span)."""
        import torch

        if self.info.kind == "classification":
            return [Prediction(label=_majority([ex.label for ex in support]))] * h_q.shape[0]
        heads = 2 if self.info.kind == "qa" else 1
        return model.decode([torch.zeros(*h_q.shape[:2], 2) for _ in range(heads)], feats_q)


def _majority(labels: Sequence[int | None]) -> int:
    """The most frequent label (ties: the smallest)."""
    counts: dict[int, int] = {}
    for v in labels:
        if v is None:
            raise ValueError("support example without a label")
        counts[v] = counts.get(v, 0) + 1
    return min(counts, key=lambda v: (-counts[v], v))


def _log_proba(clf: Any, x: Any) -> Any:
    """Class log-probabilities from the decision function (finite, unlike log(predict_proba))."""
    import numpy as np
    from scipy.special import log_softmax

    d = clf.decision_function(x)
    if d.ndim == 1:  # binary: d is the log-odds of classes_[1]
        d = np.stack([np.zeros_like(d), d], axis=1)
    return log_softmax(d, axis=1)


def _fit(x: Any, y: Any, c: float, max_iter: int, *, scale: bool) -> Any:
    """A fitted pipeline ``[StandardScaler →] LogisticRegression(lbfgs)``; ``[-1]`` is the LR.

    A ConvergenceWarning is expected when the budget caps ``max_iter`` and is not an error.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    steps = ([StandardScaler(with_mean=True)] if scale else []) + [LogisticRegression(C=c, max_iter=max_iter)]
    clf = make_pipeline(*steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x, y)
    return clf
