"""Fixed, shared evaluation episodes (docs/architecture.md, "The protocol").

For each (task, role, language, shots K, episode index) the support set is drawn from a
seed that depends only on those values, and the query set from a seed that depends only on
(task, role, language, episode index) — the same queries at every K. The role (``dev`` for
tuning, ``target`` for reporting) is a seed input, so a dev episode is never a test one.
Every method therefore sees identical support and query sets, which makes all
comparisons paired. The seeds do not
depend on the run's seed: the run seed varies the *methods* (initialisation, sampling),
the episodes stay the benchmark's.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.seeding import generator
from bench.task import TargetData
from bench.types import ALL_SHOTS, EvalEpisode, EvalRole, Example, TaskInfo


@dataclass(frozen=True)
class ScoredEpisode:
    """An episode as methods see it, plus the query targets only the runner sees."""

    episode: EvalEpisode
    gold: tuple[Example, ...]


def build_episodes(
    task_label: str,
    info: TaskInfo,
    data: TargetData,
    shots: int,
    episodes: int,
    queries: int | None,
    role: EvalRole = "target",
) -> list[ScoredEpisode]:
    """The fixed episodes of one (task, role, language, shots): identical for every method."""
    if not data.test:
        return []
    count = 1 if shots == ALL_SHOTS else episodes
    out = []
    for index in range(count):
        q_rng = generator("queries", task_label, role, data.lang, index)
        test = list(data.test)
        if queries is not None and queries < len(test):
            picks = sorted(q_rng.choice(len(test), size=queries, replace=False).tolist())
            test = [test[i] for i in picks]
        support = _support(task_label, info, data, shots, index, role)
        episode = EvalEpisode(
            info=info,
            lang=data.lang,
            shots=shots,
            index=index,
            support=support,
            query=tuple(ex.as_query() for ex in test),
        )
        out.append(ScoredEpisode(episode, tuple(test)))
    return out


def _support(task_label: str, info: TaskInfo, data: TargetData, shots: int, index: int,
             role: EvalRole = "target") -> tuple[Example, ...]:
    if shots == ALL_SHOTS:
        return data.pool
    if shots == 0:
        return ()
    rng = generator("support", task_label, role, data.lang, shots, index)
    pool = list(data.pool)
    if info.kind != "classification":
        take = min(shots, len(pool))
        return tuple(pool[i] for i in sorted(rng.choice(len(pool), size=take, replace=False).tolist()))
    chosen: list[Example] = []
    for label in range(info.num_labels):
        members = [ex for ex in pool if ex.label == label]
        take = min(shots, len(members))
        if take:
            chosen += [members[i] for i in rng.choice(len(members), size=take, replace=False).tolist()]
    order = rng.permutation(len(chosen)).tolist()
    return tuple(chosen[i] for i in order)
