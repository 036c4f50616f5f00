"""The synthetic language family and the task base class shared by the three synth tasks.

A family is the proto :class:`~tasks.synth.lexicon.Lexicon` plus every daughter
:class:`~tasks.synth.language.Language` of a :class:`SynthConfig`, built from one seed.
The defaults are 4 source languages close to the proto-language and 6 target languages
from near to far (``t3`` is written in Cyrillic); :func:`tasks.synth.language.distance`
gives each language's distance:

====  ===========  =====  =====  ======  ======  ========
code  replacement  sound  order  affix   script  distance
====  ===========  =====  =====  ======  ======  ========
s1    0.05         1      SVO    none    Latn    0.10
s2    0.08         2      SVO    none    Latn    0.18
s3    0.05         1      SVO    suffix  Latn    0.15
s4    0.10         2      SVO    none    Latn    0.20
t1    0.10         2      SVO    none    Latn    0.20
t2    0.25         3      SVO    suffix  Latn    0.45
t3    0.15         2      SVO    none    Cyrl    0.75
t4    0.40         4      SOV    suffix  Latn    0.80
t5    0.55         6      VSO    prefix  Latn    1.05
t6    0.75         8      VSO    prefix  Latn    1.35
d1    0.20         3      SVO    suffix  Latn    0.38
d2    0.30         3      SOV    none    Cyrl    0.95
d3    0.60         7      VSO    prefix  Latn    1.15
====  ===========  =====  =====  ======  ======  ========

``d1``-``d3`` are the dev languages (tuning only, never reported), generated like the
targets and spread over the same near-to-far range (one in Cyrillic, one SOV, one VSO).

:class:`SynthTask` generates each item once, abstractly, from a seed that depends only on
(task, seed, split, index), and renders it in every language: translations of one item
share its id. Source training items are ``train-NNNNN``; target items are ``pool-NNNNN``
(support pool) and ``test-NNNNN`` (test), so no target item is the translation of a
source training item, and pool and test are disjoint by construction. A dev language's
support pool is the ``pool-NNNNN`` items and its queries are ``dev-NNNNN`` items: a dev
episode holds no translation of a source-training or a target-test item.
"""

from __future__ import annotations

import difflib
from abc import abstractmethod
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar, Mapping

import numpy as np

from bench.configcheck import INT64_MAX, bounded
from bench.errors import SuiteError, UnknownNameError
from bench.seeding import generator
from bench.task import TargetData, Task
from bench.types import Example, LanguageInfo, SourceData, TaskInfo
from tasks.synth.language import Language, LanguageSpec, build_language, distance
from tasks.synth.lexicon import Lexicon, build_lexicon

DEFAULT_SOURCES: tuple[LanguageSpec, ...] = (
    LanguageSpec("s1", replacement_rate=0.05, sound_changes=1),
    LanguageSpec("s2", replacement_rate=0.08, sound_changes=2),
    LanguageSpec("s3", replacement_rate=0.05, sound_changes=1, affix="suffix"),
    LanguageSpec("s4", replacement_rate=0.10, sound_changes=2),
)
DEFAULT_TARGETS: tuple[LanguageSpec, ...] = (
    LanguageSpec("t1", replacement_rate=0.10, sound_changes=2),
    LanguageSpec("t2", replacement_rate=0.25, sound_changes=3, affix="suffix"),
    LanguageSpec("t3", replacement_rate=0.15, sound_changes=2, script="Cyrl"),
    LanguageSpec("t4", replacement_rate=0.40, sound_changes=4, order="SOV", affix="suffix"),
    LanguageSpec("t5", replacement_rate=0.55, sound_changes=6, order="VSO", affix="prefix"),
    LanguageSpec("t6", replacement_rate=0.75, sound_changes=8, order="VSO", affix="prefix"),
)
DEFAULT_DEVS: tuple[LanguageSpec, ...] = (
    LanguageSpec("d1", replacement_rate=0.20, sound_changes=3, affix="suffix"),
    LanguageSpec("d2", replacement_rate=0.30, sound_changes=3, order="SOV", script="Cyrl"),
    LanguageSpec("d3", replacement_rate=0.60, sound_changes=7, order="VSO", affix="prefix"),
)


@dataclass(frozen=True)
class SynthConfig:
    """Knobs shared by every synth task (each task's ``Config`` extends this)."""

    seed: int = bounded(0, ge=0, le=INT64_MAX)  # seeds the proto lexicon, every language and every item
    sources: tuple[LanguageSpec, ...] = DEFAULT_SOURCES  # source languages (mappings allowed)
    targets: tuple[LanguageSpec, ...] = DEFAULT_TARGETS  # target languages (mappings allowed)
    devs: tuple[LanguageSpec, ...] = DEFAULT_DEVS  # dev languages, tuning only (mappings allowed)
    n_train: int = bounded(400, ge=1, le=1_000_000)  # training items per source language (parallel across sources)
    n_pool: int = bounded(100, ge=0, le=1_000_000)  # support-pool items per target language
    n_test: int = bounded(150, ge=1, le=1_000_000)  # test items per target language
    n_dev: int = bounded(100, ge=1, le=1_000_000)  # query items per dev language (dev-NNNNN; the support pool is pool-NNNNN)

    def __post_init__(self) -> None:
        for name in ("sources", "targets", "devs"):
            specs = tuple(LanguageSpec.coerce(s) for s in getattr(self, name))
            object.__setattr__(self, name, specs)
        codes = [s.code for s in self.sources + self.targets + self.devs]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise SuiteError(
                f"language codes must be unique across sources, targets and devs; repeated: {dupes}"
            )
        if not self.sources or not self.targets:
            raise SuiteError("a synth task needs at least one source and one target language")
        for name, low in (("n_train", 1), ("n_pool", 0), ("n_test", 1), ("n_dev", 1)):
            if int(getattr(self, name)) < low:
                raise SuiteError(f"{name} must be >= {low}, got {getattr(self, name)}")


@dataclass(frozen=True)
class Family:
    """The proto lexicon and every daughter language, by code."""

    seed: int
    lexicon: Lexicon
    languages: Mapping[str, Language] = field(default_factory=dict)


@lru_cache(maxsize=16)
def build_family(seed: int, specs: tuple[LanguageSpec, ...]) -> Family:
    """The family of ``specs`` (pure and memoised: the same arguments give the same family)."""
    lexicon = build_lexicon(generator("synth-lexicon", seed))
    languages = {s.code: build_language(s, lexicon, seed) for s in specs}
    return Family(seed=seed, lexicon=lexicon, languages=languages)


def language_infos(config: SynthConfig) -> dict[str, LanguageInfo]:
    """LanguageInfo (script, family "synthetic", distance) of every language of ``config``."""
    return {
        s.code: LanguageInfo(code=s.code, script=s.script, family="synthetic", distance=distance(s))
        for s in config.sources + config.targets + config.devs
    }


class SynthTask(Task):
    """Base of the synth tasks: draw abstract items from seeds, render them per language.

    Subclasses set ``name``, ``kind`` and ``Config`` and implement :meth:`draw` and
    :meth:`render`; they may extend :meth:`info` through :meth:`info_fields`.
    """

    name: ClassVar[str]
    config: SynthConfig

    @abstractmethod
    def draw(self, rng: np.random.Generator) -> Any:
        """One abstract item (lexicon keys only, no surface forms)."""

    @abstractmethod
    def render(self, item: Any, lang: Language, item_id: str) -> Example:
        """The example of ``item`` in ``lang``."""

    def info_fields(self) -> dict[str, Any]:
        """Extra TaskInfo fields (labels, summary_sentences, ...)."""
        return {}

    def info(self) -> TaskInfo:
        return TaskInfo(
            name=self.name,
            kind=self.kind,
            source_langs=tuple(s.code for s in self.config.sources),
            target_langs=tuple(s.code for s in self.config.targets),
            dev_langs=tuple(s.code for s in self.config.devs),
            languages=language_infos(self.config),
            **self.info_fields(),
        )

    def family(self) -> Family:
        c = self.config
        return build_family(int(c.seed), c.sources + c.targets + c.devs)

    def items(self, split: str, count: int) -> tuple[tuple[str, Any], ...]:
        """``(item_id, item)`` for ``count`` items of ``split``; seeds depend on the index only."""
        return draw_items(type(self), self.config, split, count)

    def source(self) -> SourceData:
        fam = self.family()
        items = self.items("train", self.config.n_train)
        train = {
            s.code: tuple(self.render(item, fam.languages[s.code], iid) for iid, item in items)
            for s in self.config.sources
        }
        return SourceData(info=self.info(), train=train)

    def target(self, lang: str) -> TargetData:
        return self._evaluated(lang, "target", self.config.targets, "test", self.config.n_test)

    def dev(self, lang: str) -> TargetData:
        return self._evaluated(lang, "dev", self.config.devs, "dev", self.config.n_dev)

    def _evaluated(self, lang: str, role: str, specs: tuple[LanguageSpec, ...], split: str,
                   count: int) -> TargetData:
        codes = [s.code for s in specs]
        if lang not in codes:
            close = difflib.get_close_matches(lang, codes, n=3)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UnknownNameError(
                f"{self.name} has no {role} language {lang!r}; {role} languages: {codes}.{hint}"
            )
        language = self.family().languages[lang]
        pool = self.items("pool", self.config.n_pool)
        test = self.items(split, count)
        return TargetData(
            lang=lang,
            pool=tuple(self.render(item, language, iid) for iid, item in pool),
            test=tuple(self.render(item, language, iid) for iid, item in test),
        )


@lru_cache(maxsize=32)
def draw_items(
    cls: type[SynthTask], config: SynthConfig, split: str, count: int
) -> tuple[tuple[str, Any], ...]:
    """The abstract items of a split (pure and memoised; items are frozen dataclasses)."""
    task = cls(config)
    return tuple(
        (f"{split}-{i:05d}", task.draw(generator("synth-item", cls.name, config.seed, split, i)))
        for i in range(count)
    )
