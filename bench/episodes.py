"""Fixed, shared evaluation episodes (docs/architecture.md, "The protocol").

For each (task, target language, episode index) the support pool is put in an order drawn
from a seed that depends only on those values; the support set at K takes the first K of
that order (per class for classification, items for the other kinds), so support sets are
*nested across K* (the K = 5 set of an episode contains its K = 1 set) and learning curves
are paired. The query set depends only on (task, language, episode index) — the same
queries at every K. Every method therefore sees identical support and query sets, which
makes all comparisons paired. The role (``dev`` for tuning, ``target`` for reporting) is
a seed input, so a dev episode is never a test one. The seeds do not depend on the run's seed: the run seed
varies the *methods* (initialisation, sampling), the episodes stay the benchmark's.

**What K means.** Classification: K examples *per class* (a class with fewer examples in
the pool gives all it has). QA and summarization: K *items*. :attr:`ScoredEpisode.realised`
records what an episode really got, per class (classification) or in total (other kinds),
and the runner stores it with every cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.seeding import generator
from bench.task import TargetData
from bench.types import ALL_SHOTS, EvalEpisode, EvalRole, Example, TaskInfo


@dataclass(frozen=True)
class ScoredEpisode:
    """An episode as methods see it, plus the query targets only the runner sees.

    ``realised`` is the support size actually drawn: one count per class for
    classification (index = label id), a single item count for the other kinds.
    """

    episode: EvalEpisode
    gold: tuple[Example, ...]
    realised: tuple[int, ...] = ()


def shot_unit(kind: str) -> str:
    """What one shot is for a task kind: ``"per class"`` or ``"items"`` (captions say it)."""
    return "per class" if kind == "classification" else "items"


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
        support = support_set(task_label, info, data, shots, index, role)
        episode = EvalEpisode(
            info=info,
            lang=data.lang,
            shots=shots,
            index=index,
            support=support,
            query=tuple(ex.as_query() for ex in test),
        )
        out.append(ScoredEpisode(episode, tuple(test), realised_shots(info, support)))
    return out


def realised_shots(info: TaskInfo, support: tuple[Example, ...]) -> tuple[int, ...]:
    """Support examples per class (classification) or the item count (other kinds)."""
    if info.kind != "classification":
        return (len(support),)
    counts = [0] * info.num_labels
    for ex in support:
        if ex.label is not None and 0 <= ex.label < len(counts):
            counts[ex.label] += 1
    return tuple(counts)


def support_set(task_label: str, info: TaskInfo, data: TargetData, shots: int,
                index: int, role: EvalRole = "target") -> tuple[Example, ...]:
    """The support set of episode ``index`` at ``shots``: a prefix of the episode's order.

    The order of the pool (per class for classification) is drawn once per (task,
    language, episode index), independent of K, so the set at a larger K contains the set
    at every smaller K. The presentation order is shuffled with a seed that includes K.
    """
    if shots == ALL_SHOTS:
        return data.pool
    if shots == 0:
        return ()
    rng = generator("support-order", task_label, role, data.lang, index)
    pool = list(data.pool)
    if info.kind != "classification":
        order = rng.permutation(len(pool)).tolist()
        return tuple(pool[i] for i in sorted(order[:shots]))
    chosen: list[Example] = []
    for label in range(info.num_labels):
        members = [ex for ex in pool if ex.label == label]
        order = rng.permutation(len(members)).tolist()  # drawn for every class, K or not
        chosen += [members[i] for i in order[:shots]]
    shuffle = generator("support-shuffle", task_label, role, data.lang, index, shots)
    return tuple(chosen[i] for i in shuffle.permutation(len(chosen)).tolist())
