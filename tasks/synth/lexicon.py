"""The proto-language lexicon: a few hundred word roots drawn from a phoneme inventory.

Every word is addressed by a language-independent *key* (``"topic:sport:n03"``,
``"name:07"``, ``"rel:owns"``, ...); a daughter language (:mod:`tasks.synth.language`)
maps each key to its own surface form. Sentences are built from keys, so one abstract
item renders as parallel translations in every language.

Inventory (proto-language, Latin letters): consonants ``p t k b d g m n s l r v h j``,
vowels ``a e i o u``, codas ``n s r l m k t``. A root is 2-3 syllables of shape CV or CVC
(the first syllable may be onsetless), all roots distinct.

Categories (part of speech in brackets; nouns and verbs take a language's affixes):

* ``topic:<topic>:nNN`` [noun] and ``topic:<topic>:vNN`` [verb]: concept words of the
  :data:`TOPICS` (:data:`TOPIC_NOUNS` nouns and :data:`TOPIC_VERBS` verbs per topic);
* ``adj:NN`` [adj], ``adv:NN`` [adv], ``func:<word>`` [func]: shared filler words;
* ``name:NN`` [name]: person names (capitalised, never replaced, no affixes);
* ``place:NN``, ``object:NN``, ``job:NN`` [noun]: fact arguments (QA, summaries);
* ``rel:<relation>`` [verb]: fact relations (:data:`RELATIONS`);
* ``event:NN`` [verb]: "main event" verbs (summaries);
* ``q:who``, ``q:what``, ``q:where`` [func]: question words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping

import numpy as np

Pos = Literal["noun", "verb", "adj", "adv", "func", "name"]

CONSONANTS = "ptkbdgmnslrvhj"
VOWELS = "aeiou"
CODAS = "nsrlmkt"

#: Topic names (labels of the classification task; a task uses the first ``n_topics``).
TOPICS: tuple[str, ...] = (
    "sport", "food", "weather", "music", "health", "travel", "politics", "science",
)
TOPIC_NOUNS = 20  # concept nouns per topic
TOPIC_VERBS = 8  # concept verbs per topic
N_ADJ = 16  # shared adjectives (filler)
N_ADV = 12  # shared adverbs (filler, also the tail of fact sentences)
FUNCTION_WORDS: tuple[str, ...] = ("and", "also", "the", "this", "very", "then")
N_NAMES = 40  # person names
N_PLACES = 24
N_OBJECTS = 24
N_JOBS = 16
N_EVENTS = 10  # main-event verbs of the summarization task
#: Fact relations and the argument category each takes.
RELATIONS: Mapping[str, str] = {
    "lives_in": "place",
    "visited": "place",
    "owns": "object",
    "sells": "object",
    "works_as": "job",
    "became": "job",
}
QUESTION_WORDS: Mapping[str, str] = {"place": "q:where", "object": "q:what", "job": "q:what"}
WHO = "q:who"


@dataclass(frozen=True)
class Lexicon:
    """The proto-language: key -> root, and key -> part of speech (insertion-ordered)."""

    roots: Mapping[str, str]
    pos: Mapping[str, Pos]

    def keys(self, prefix: str) -> tuple[str, ...]:
        """Every key starting with ``prefix`` (in lexicon order)."""
        return tuple(k for k in self.roots if k.startswith(prefix))


def draw_root(rng: np.random.Generator) -> str:
    """One root: 2-3 syllables of shape (C)V(C), onset obligatory after the first."""
    parts: list[str] = []
    for i in range(int(rng.integers(2, 4))):
        if i > 0 or rng.random() < 0.85:
            parts.append(CONSONANTS[int(rng.integers(len(CONSONANTS)))])
        parts.append(VOWELS[int(rng.integers(len(VOWELS)))])
        if rng.random() < 0.3:
            parts.append(CODAS[int(rng.integers(len(CODAS)))])
    return "".join(parts)


def fresh_root(rng: np.random.Generator, taken: set[str]) -> str:
    """A root not in ``taken`` (which it then joins)."""
    while True:
        root = draw_root(rng)
        if root not in taken:
            taken.add(root)
            return root


def lexicon_keys() -> list[tuple[str, Pos]]:
    """Every key of the lexicon with its part of speech, in a fixed order."""
    out: list[tuple[str, Pos]] = []
    for topic in TOPICS:
        out += [(f"topic:{topic}:n{i:02d}", "noun") for i in range(TOPIC_NOUNS)]
        out += [(f"topic:{topic}:v{i:02d}", "verb") for i in range(TOPIC_VERBS)]
    out += [(f"adj:{i:02d}", "adj") for i in range(N_ADJ)]
    out += [(f"adv:{i:02d}", "adv") for i in range(N_ADV)]
    out += [(f"func:{w}", "func") for w in FUNCTION_WORDS]
    out += [(f"name:{i:02d}", "name") for i in range(N_NAMES)]
    out += [(f"place:{i:02d}", "noun") for i in range(N_PLACES)]
    out += [(f"object:{i:02d}", "noun") for i in range(N_OBJECTS)]
    out += [(f"job:{i:02d}", "noun") for i in range(N_JOBS)]
    out += [(f"rel:{r}", "verb") for r in RELATIONS]
    out += [(f"event:{i:02d}", "verb") for i in range(N_EVENTS)]
    out.append((WHO, "func"))
    out += [(q, "func") for q in sorted(set(QUESTION_WORDS.values()))]
    return out


def build_lexicon(rng: np.random.Generator) -> Lexicon:
    """The proto lexicon: a distinct fresh root for every key of :func:`lexicon_keys`."""
    taken: set[str] = set()
    roots: dict[str, str] = {}
    pos: dict[str, Pos] = {}
    for key, p in lexicon_keys():
        roots[key] = fresh_root(rng, taken)
        pos[key] = p
    return Lexicon(roots=roots, pos=pos)
