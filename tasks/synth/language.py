"""Daughter languages of the synthetic proto-language, one knob at a time.

A :class:`LanguageSpec` names a daughter language and sets its knobs; :func:`build_language`
turns it, the proto :class:`~tasks.synth.lexicon.Lexicon` and a seed into a
:class:`Language` (key -> surface word) that renders abstract :class:`Clause` s.

Knobs (every one is 0 / the proto value by default, so ``LanguageSpec("x")`` is the
proto-language itself):

* ``replacement_rate`` (0-1): each non-name word's root is replaced, with this probability,
  by a fresh root (lexical replacement; cognates are lost).
* ``sound_changes`` (0-:data:`MAX_SOUND_CHANGES`): how many rewrite rules, drawn from the
  ordered :data:`SOUND_CHANGES` catalogue, apply to every word (affixes included); the
  drawn rules apply in catalogue order (earlier rules feed later ones, as in historical
  phonology).
* ``order`` (``"SVO"`` | ``"SOV"`` | ``"VSO"``): constituent order of every clause; the
  proto-language is SVO. Adjectives precede nouns; adverbs end the clause.
* ``affix`` (``"none"`` | ``"suffix"`` | ``"prefix"``): a syllable drawn per language is
  attached to every noun, another to every verb (names and filler words take none).
* ``script`` (``"Latn"`` | ``"Cyrl"`` | ``"Grek"`` | ``"Geor"``): the final spelling, a
  letter-by-letter transliteration of the Latin phonemes (:data:`SCRIPTS`).

Homophones are avoided: if a word's surface form collides with an earlier key's, its root
is redrawn (as if replaced). Sentences start with a capital letter (Georgian: the Mtavruli
capital), names are capitalised, and sentences end in ``.`` (questions in ``?``), so
:func:`bench.text.split_sentences` recovers them.

**Distance.** :func:`distance` is the known scalar distance of a language from the
proto-language, monotone (non-decreasing) in every knob::

    d = replacement_rate + 0.05 * sound_changes + 0.15 * [order != SVO]
        + 0.05 * [affix != none] + 0.5 * [script != Latn]

The script term is large because a transliteration shares no characters with the source
languages, which is what surface models (character n-grams, bags of words) see. The source
languages sit near the proto-language (d <= 0.2 by default), so this stands in for the
distance from the source languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Literal, Mapping, Sequence

from bench.errors import SuiteError
from bench.seeding import generator
from tasks.synth.lexicon import CONSONANTS, VOWELS, Lexicon, fresh_root

WordOrder = Literal["SVO", "SOV", "VSO"]
Affix = Literal["none", "suffix", "prefix"]
Script = Literal["Latn", "Cyrl", "Grek", "Geor"]
ORDERS: tuple[WordOrder, ...] = ("SVO", "SOV", "VSO")
AFFIXES: tuple[Affix, ...] = ("none", "suffix", "prefix")

#: Ordered catalogue of sound changes: (name, regex pattern, replacement).
SOUND_CHANGES: tuple[tuple[str, str, str], ...] = (
    ("p > f", r"p", "f"),
    ("k > c / _[ei]", r"k(?=[ei])", "c"),
    ("t > d / V_V", r"(?<=[aeiou])t(?=[aeiou])", "d"),
    ("a > e / _Ci (umlaut)", r"a(?=[^aeiou]i)", "e"),
    ("b > v", r"b", "v"),
    ("s > z / V_V", r"(?<=[aeiou])s(?=[aeiou])", "z"),
    ("o > u", r"o", "u"),
    ("g > h", r"g", "h"),
    ("l > r", r"l", "r"),
    ("VrC > rVC (metathesis)", r"([aeiou])r(?=[^aeiou])", r"r\1"),
    ("e > i", r"e", "i"),
    ("k > x", r"k", "x"),
    ("d > t / _#", r"d$", "t"),
    ("m > n / _#", r"m$", "n"),
    ("i > y / _#", r"i$", "y"),
    ("j > z", r"j", "z"),
)
MAX_SOUND_CHANGES = len(SOUND_CHANGES)

_LATIN = "abcdefghijklmnopqrstuvwxyz"
#: Letter-by-letter transliterations of the Latin spelling (one letter each, bijective).
SCRIPTS: Mapping[str, str] = {
    "Latn": _LATIN,
    "Cyrl": "абцдефгхийклмнопярстувшжыз",
    "Grek": "αβψδεφγχιηκλμνοπθρστυωϝξϋζ",
    "Geor": "აბცდეფგჰიჯკლმნოპქრსტუვწხყზ",
}
_TABLES = {s: str.maketrans(_LATIN, letters) for s, letters in SCRIPTS.items() if s != "Latn"}


@dataclass(frozen=True)
class LanguageSpec:
    """A daughter language: its code and knobs (see the module docstring)."""

    code: str  # language code printed in tables, e.g. "t1"
    replacement_rate: float = 0.0  # fraction of non-name roots replaced by fresh roots
    sound_changes: int = 0  # rules drawn from SOUND_CHANGES, applied in catalogue order
    order: WordOrder = "SVO"  # constituent order of every clause
    affix: Affix = "none"  # noun and verb affixes: none, suffix or prefix
    script: Script = "Latn"  # spelling: Latn, Cyrl, Grek or Geor (transliteration)

    def __post_init__(self) -> None:
        problems = []
        if not self.code or not isinstance(self.code, str):
            problems.append(f"code must be a non-empty string, got {self.code!r}")
        if not 0.0 <= float(self.replacement_rate) <= 1.0:
            problems.append(f"replacement_rate must be in [0, 1], got {self.replacement_rate}")
        if not 0 <= int(self.sound_changes) <= MAX_SOUND_CHANGES:
            problems.append(
                f"sound_changes must be in [0, {MAX_SOUND_CHANGES}], got {self.sound_changes}"
            )
        if self.order not in ORDERS:
            problems.append(f"order must be one of {ORDERS}, got {self.order!r}")
        if self.affix not in AFFIXES:
            problems.append(f"affix must be one of {AFFIXES}, got {self.affix!r}")
        if self.script not in SCRIPTS:
            problems.append(f"script must be one of {tuple(SCRIPTS)}, got {self.script!r}")
        if problems:
            raise SuiteError(f"language {self.code!r}: " + "; ".join(problems))

    @classmethod
    def coerce(cls, value: "LanguageSpec | Mapping[str, object]") -> "LanguageSpec":
        """A spec from a spec or a mapping (as read from a suite YAML file)."""
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            known = {f.name for f in fields(cls)}
            unknown = sorted(set(value) - known)
            if unknown:
                raise SuiteError(
                    f"unknown language knob(s) {unknown}; valid knobs: {sorted(known)}"
                )
            from bench.configcheck import build

            return build(cls, value)  # the knobs' types checked like any config field
        raise SuiteError(f"a language must be a mapping of knobs, got {value!r}")


def distance(spec: LanguageSpec) -> float:
    """Known distance of ``spec`` from the proto-language (formula in the module docstring)."""
    d = (
        float(spec.replacement_rate)
        + 0.05 * int(spec.sound_changes)
        + 0.15 * (spec.order != "SVO")
        + 0.05 * (spec.affix != "none")
        + 0.5 * (spec.script != "Latn")
    )
    return round(d, 6)


@dataclass(frozen=True)
class Clause:
    """An abstract clause of lexicon keys; the language decides the order of S, V and O."""

    subject: tuple[str, ...]
    verb: tuple[str, ...]
    obj: tuple[str, ...] = ()
    tail: tuple[str, ...] = ()  # adverbs, always clause-final


@dataclass(frozen=True)
class Language:
    """A rendered daughter language: every lexicon key's surface word."""

    spec: LanguageSpec
    words: Mapping[str, str]  # key -> surface form (affixed, sound-changed, transliterated)
    rules: tuple[str, ...]  # names of the applied sound changes, in order
    replaced: frozenset[str]  # keys whose root was replaced (or redrawn as a homophone)

    @property
    def code(self) -> str:
        return self.spec.code

    def clause_words(self, clause: Clause) -> list[tuple[str, str]]:
        """``(role, word)`` pairs of ``clause`` in this language's constituent order."""
        parts = {"S": clause.subject, "V": clause.verb, "O": clause.obj}
        out: list[tuple[str, str]] = []
        for role in self.spec.order:
            out += [(role, self.words[k]) for k in parts[role]]
        out += [("T", self.words[k]) for k in clause.tail]
        return out

    def sentence(
        self, clauses: Sequence[Clause], end: str = "."
    ) -> tuple[str, dict[tuple[int, str], tuple[int, int]]]:
        """Render clauses joined by "and" into one sentence ending in ``end``.

        Returns the sentence and the character span ``[start, end)`` of each
        (clause index, role) with role in ``S V O T``.
        """
        words: list[tuple[tuple[int, str], str]] = []
        for i, clause in enumerate(clauses):
            if i:
                words.append(((i, "and"), self.words["func:and"]))
            words += [((i, role), w) for role, w in self.clause_words(clause)]
        text = ""
        spans: dict[tuple[int, str], tuple[int, int]] = {}
        for slot, word in words:
            if text:
                text += " "
            else:
                word = word[:1].upper() + word[1:]
            start = len(text)
            text += word
            s0, _ = spans.get(slot, (start, start))
            spans[slot] = (s0, len(text))
        return text + end, spans


def _sound_change(word: str, rules: Sequence[tuple[str, str, str]]) -> str:
    for _, pattern, repl in rules:
        word = re.sub(pattern, repl, word)
    return word


def build_language(spec: LanguageSpec, lexicon: Lexicon, seed: int) -> Language:
    """Derive the daughter language ``spec`` from ``lexicon``; deterministic in ``seed``."""
    rng = generator("synth-language", seed, spec)
    picks = rng.choice(MAX_SOUND_CHANGES, size=int(spec.sound_changes), replace=False)
    rules = tuple(SOUND_CHANGES[i] for i in sorted(int(p) for p in picks))
    affixes = {
        pos: CONSONANTS[int(rng.integers(len(CONSONANTS)))] + VOWELS[int(rng.integers(5))]
        for pos in ("noun", "verb")
    }
    if affixes["noun"] == affixes["verb"]:
        affixes["verb"] = affixes["verb"][0] + ("i" if affixes["verb"][1] != "i" else "o")
    taken = set(lexicon.roots.values())
    table = _TABLES.get(spec.script)
    used: set[str] = set()
    words: dict[str, str] = {}
    replaced: set[str] = set()
    for key, proto in lexicon.roots.items():
        pos = lexicon.pos[key]
        root = proto
        if pos != "name" and rng.random() < spec.replacement_rate:
            root = fresh_root(rng, taken)
            replaced.add(key)
        while True:
            form = root
            if spec.affix != "none" and pos in affixes:
                form = form + affixes[pos] if spec.affix == "suffix" else affixes[pos] + form
            form = _sound_change(form, rules)
            if table is not None:
                form = form.translate(table)
            if form not in used:
                break
            root = fresh_root(rng, taken)  # homophone: redraw
            replaced.add(key)
        used.add(form)
        words[key] = form[:1].upper() + form[1:] if pos == "name" else form
    return Language(
        spec=spec,
        words=MappingProxyType(words),
        rules=tuple(r[0] for r in rules),
        replaced=frozenset(replaced),
    )
