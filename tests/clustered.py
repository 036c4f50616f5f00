"""A vectorised simulator of xlbench's clustered score design, for the inference tests.

One simulated run has L target languages x S seeds x E episodes per (method, K). The
structure copies the benchmark's:

* every method sees the same episodes: a language effect, an episode (support set)
  effect and the item difficulty of the episode's queries are shared by every method;
* the languages of a parallel dataset are tested on the same N items: each (language,
  episode) draws its ``queries`` from those N items, so item difficulty and a
  method x item interaction are shared across languages;
* a method's advantage varies by language (method x language), by support set
  (method x episode, the same for every seed) and by seed within a language;
* under the null a method's mean advantage is 0 on these items (the method x item
  interaction is centred over the N items: inference is conditional on the test set).

:func:`simulate` returns a tidy score table for all simulations at once, one pseudo-task
per simulation (``task = "sim<i>"``), so one :func:`bench.inference.compare` call tests
them all and Holm's family stays within a simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Design:
    """Sizes and standard deviations (score points, 0-100 scale)."""

    langs: int = 6
    seeds: int = 3
    episodes: int = 20
    items: int = 150  # shared by every language (a parallel test set)
    queries: int = 40  # per episode, drawn from the items per (language, episode)
    shots: tuple[int, ...] = (1, 5)
    lang_sd: float = 8.0  # language difficulty (shared by methods)
    item_sd: float = 15.0  # item difficulty (shared by methods and languages)
    episode_sd: float = 3.0  # support-set effect (shared by methods)
    method_lang_sd: float = 1.5  # a method's advantage varies by language
    method_episode_sd: float = 2.0  # ... by support set (same for every seed)
    method_seed_sd: float = 1.0  # ... by seed, within a language
    method_item_sd: float = 10.0  # method x item interaction, shared across languages
    noise_sd: float = 1.0  # per (method, language, seed, episode)


def simulate(design: Design, effects: dict[str, float], sims: int, seed: int) -> pd.DataFrame:
    """Score rows for ``sims`` simulations; ``effects`` maps method -> planted mean advantage
    (the reference ``finetune`` is added with 0)."""
    d = design
    rng = np.random.default_rng(seed)
    methods = {"finetune": 0.0, **effects}
    n_m, n_k = len(methods), len(d.shots)
    shape = (sims, n_k, d.langs, d.episodes)
    # queries of each (sim, K, language, episode): q of the N shared items, no replacement
    picks = np.argsort(rng.random((*shape, d.items)), axis=-1)[..., : d.queries]
    item = rng.normal(0, d.item_sd, (sims, 1, 1, 1, d.items))
    shared = (rng.normal(0, d.lang_sd, (sims, 1, d.langs, 1))
              + rng.normal(0, d.episode_sd, shape)
              + np.take_along_axis(np.broadcast_to(item, (*shape, d.items)), picks, -1).mean(-1))
    gamma = rng.normal(0, d.method_item_sd, (sims, n_m, 1, 1, 1, d.items))
    gamma -= gamma.mean(axis=-1, keepdims=True)  # the null: no advantage on these items
    pm = np.broadcast_to(picks[:, None], (sims, n_m, *shape[1:], d.queries))
    item_part = np.take_along_axis(np.broadcast_to(gamma, (sims, n_m, *shape[1:], d.items)),
                                   pm, -1).mean(-1)  # (sims, M, K, L, E)
    delta = np.array(list(methods.values()))[None, :, None, None, None]
    method_part = (delta + item_part
                   + rng.normal(0, d.method_lang_sd, (sims, n_m, n_k, d.langs, 1))
                   + rng.normal(0, d.method_episode_sd, (sims, n_m, *shape[1:])))
    value = (50 + shared[:, None, :, :, None, :] + method_part[:, :, :, :, None, :]
             + rng.normal(0, d.method_seed_sd, (sims, n_m, n_k, d.langs, d.seeds, 1))
             + rng.normal(0, d.noise_sd, (sims, n_m, n_k, d.langs, d.seeds, d.episodes)))
    idx = np.indices(value.shape).reshape(value.ndim, -1)
    names = np.array(list(methods))
    return pd.DataFrame({
        "task": np.char.add("sim", idx[0].astype(str)), "kind": "classification",
        "method": names[idx[1]], "shots": np.asarray(d.shots)[idx[2]],
        "lang": np.char.add("l", idx[3].astype(str)), "seed": idx[4], "episode": idx[5],
        "budget": 100, "metric": "accuracy", "value": value.ravel(),
    })
