"""The synthetic task family: determinism, distances, scripts, leakage, spans, transfer."""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from bench.errors import SuiteError, UnknownNameError
from bench.text import script_of, split_sentences, tokens
from tasks.synth.family import DEFAULT_TARGETS, build_family, draw_items
from tasks.synth.language import LanguageSpec, distance
from tasks.synth.qa import SynthQA
from tasks.synth.summarization import SynthSumm
from tasks.synth.topic import SynthTopic

SMALL = dict(n_train=120, n_pool=20, n_test=60)
TASKS = (SynthTopic, SynthQA, SynthSumm)


def _all(task):
    src = task.source()
    return src, {lang: task.target(lang) for lang in task.info().target_langs}


@pytest.mark.parametrize("cls", TASKS)
def test_same_seed_same_data_other_seed_other_data(cls):
    a = _all(cls(cls.Config(seed=3, **SMALL)))
    build_family.cache_clear()
    draw_items.cache_clear()
    b = _all(cls(cls.Config(seed=3, **SMALL)))
    assert a == b
    c = _all(cls(cls.Config(seed=4, **SMALL)))
    assert a[0].train["s1"] != c[0].train["s1"]
    assert a[1]["t1"].test != c[1]["t1"].test


def test_target_distances_increase_near_to_far_and_are_monotone_in_knobs():
    info = SynthTopic(SynthTopic.Config(**SMALL)).info()
    dists = [info.languages[t].distance for t in info.target_langs]
    assert len(info.target_langs) >= 5 and dists == sorted(dists) and len(set(dists)) == len(dists)
    assert max(info.languages[s].distance for s in info.source_langs) <= dists[0]
    base = LanguageSpec("x", replacement_rate=0.2, sound_changes=2)
    for bumped in (
        replace(base, replacement_rate=0.3),
        replace(base, sound_changes=3),
        replace(base, order="SOV"),
        replace(base, affix="prefix"),
        replace(base, script="Grek"),
    ):
        assert distance(bumped) > distance(base)
    assert distance(LanguageSpec("proto")) == 0.0


def test_non_latin_language_is_written_in_its_script():
    task = SynthTopic(SynthTopic.Config(**SMALL))
    info = task.info()
    scripts = {lang: info.languages[lang].script for lang in info.target_langs}
    assert any(s != "Latn" for s in scripts.values())
    for lang, script in scripts.items():
        text = " ".join(ex.text for ex in task.target(lang).test[:10])
        assert script_of(text) == script
        if script != "Latn":
            assert not any("LATIN" in unicodedata.name(ch, "") for ch in text)


@pytest.mark.parametrize("script", ["Grek", "Geor", "Cyrl"])
def test_every_script_splits_into_its_sentences(script):
    targets = (LanguageSpec("g", sound_changes=4, script=script),)
    task = SynthSumm(SynthSumm.Config(targets=targets, **SMALL))
    for ex in task.target("g").test:
        assert split_sentences(ex.text) == list(ex.sentences)
        assert script_of(ex.text) == script


@pytest.mark.parametrize("cls", TASKS)
def test_target_ids_never_meet_source_ids(cls):
    src, targets = _all(cls(cls.Config(**SMALL)))
    train_ids = {ex.item_id for exs in src.train.values() for ex in exs}
    assert len(train_ids) == SMALL["n_train"]  # translations share their item id
    for data in targets.values():
        pool, test = {ex.item_id for ex in data.pool}, {ex.item_id for ex in data.test}
        assert len(pool) == SMALL["n_pool"] and len(test) == SMALL["n_test"]
        assert not pool & test and not (pool | test) & train_ids
        assert all(ex.lang == data.lang for ex in data.pool + data.test)


def test_qa_answers_are_whole_token_spans_of_the_context():
    task = SynthQA(SynthQA.Config(**SMALL))
    src, targets = _all(task)
    examples = src.all() + tuple(ex for d in targets.values() for ex in d.pool + d.test)
    lengths = Counter()
    for ex in examples:
        (ans,) = ex.answers
        assert ex.text[ans.start : ans.start + len(ans.text)] == ans.text and ans.text
        spans = tokens(ex.text)
        starts, ends = {s for _, s, _ in spans}, {e for _, _, e in spans}
        assert ans.start in starts and ans.start + len(ans.text) in ends
        lengths[len(ans.text.split())] += 1
        assert ex.question.endswith("?") and 3 <= len(split_sentences(ex.text)) <= 6
    assert set(lengths) == {1, 2}  # names, nouns and adjective + noun answers


def test_summary_is_in_the_document_and_not_the_lead():
    task = SynthSumm(SynthSumm.Config(**SMALL))
    info = task.info()
    k = info.summary_sentences
    assert k == task.config.k
    src, targets = _all(task)
    examples = src.all() + tuple(ex for d in targets.values() for ex in d.test)
    lead = 0
    for ex in examples:
        assert split_sentences(ex.text) == list(ex.sentences)
        assert 5 <= len(ex.sentences) <= 8
        picked = [s for s in ex.sentences if s in ex.summary]
        assert len(picked) == k and " ".join(picked) == ex.summary
        lead += picked == list(ex.sentences[:k])
    assert lead < 0.25 * len(examples)


def _bow_accuracy(train, test, n_labels):
    vocab = {w: i for i, w in enumerate(sorted({w for ex in train for w in _words(ex.text)}))}

    def vec(text):
        v = np.zeros(len(vocab))
        for w in _words(text):
            if w in vocab:
                v[vocab[w]] += 1
        return v / max(np.linalg.norm(v), 1e-9)

    x = np.stack([vec(ex.text) for ex in train])
    y = np.array([ex.label for ex in train])
    centroids = np.stack([x[y == c].mean(0) for c in range(n_labels)])
    pred = np.stack([vec(ex.text) for ex in test]) @ centroids.T
    return float(np.mean(pred.argmax(1) == np.array([ex.label for ex in test])))


def _words(text):
    return [t.lower() for t, _, _ in tokens(text) if t.isalpha()]


def test_bag_of_words_transfer_degrades_with_distance():
    task = SynthTopic(SynthTopic.Config(n_train=300, n_pool=0, n_test=200))
    info = task.info()
    train = task.source().all()
    near, far = info.target_langs[0], info.target_langs[-1]
    acc_near = _bow_accuracy(train, task.target(near).test, info.num_labels)
    acc_far = _bow_accuracy(train, task.target(far).test, info.num_labels)
    assert len(info.labels) >= 6
    assert acc_near > 1.0 / info.num_labels + 0.3
    assert acc_near > acc_far + 0.15


def test_topic_labels_cover_every_class():
    task = SynthTopic(SynthTopic.Config(**SMALL))
    assert set(ex.label for ex in task.target("t1").test) == set(range(6))


def test_bad_knobs_fail_loudly_and_mappings_are_accepted():
    cfg = SynthTopic.Config(targets=({"code": "z", "order": "SOV", "script": "Geor"},), **SMALL)
    assert cfg.targets == (LanguageSpec("z", order="SOV", script="Geor"),)
    with pytest.raises(SuiteError, match="order must be one of"):
        LanguageSpec("z", order="OSV")
    with pytest.raises(SuiteError, match="valid knobs"):
        SynthTopic.Config(targets=({"code": "z", "sound_change": 2},))
    with pytest.raises(SuiteError, match="unique"):
        SynthTopic.Config(targets=DEFAULT_TARGETS + (LanguageSpec("s1"),))
    with pytest.raises(UnknownNameError, match="t1"):
        SynthTopic(SynthTopic.Config(**SMALL)).target("t7")


def test_each_knob_changes_the_surface_as_documented():
    from bench.seeding import generator
    from tasks.synth.language import Clause, build_language
    from tasks.synth.lexicon import build_lexicon

    lex = build_lexicon(generator("lex", 1))
    proto = build_language(LanguageSpec("p"), lex, seed=1)
    assert all(proto.words[k].lower() == r for k, r in lex.roots.items())
    clause = Clause(subject=("name:01",), verb=("rel:owns",), obj=("object:02",), tail=("adv:03",))
    sov = build_language(LanguageSpec("o", order="SOV"), lex, seed=1)
    vso = build_language(LanguageSpec("v", order="VSO"), lex, seed=1)
    assert [r for r, _ in sov.clause_words(clause)] == ["S", "O", "V", "T"]
    assert [r for r, _ in vso.clause_words(clause)] == ["V", "S", "O", "T"]
    pre = build_language(LanguageSpec("a", affix="prefix"), lex, seed=1)
    assert pre.words["object:02"].endswith(lex.roots["object:02"])
    assert pre.words["object:02"] != lex.roots["object:02"]
    assert pre.words["adv:03"] == lex.roots["adv:03"]  # filler words take no affix
    far = build_language(LanguageSpec("r", replacement_rate=0.5, sound_changes=6), lex, seed=1)
    non_names = [k for k, p in lex.pos.items() if p != "name"]
    assert 0.4 < len(far.replaced & set(non_names)) / len(non_names) < 0.65
    assert len(far.rules) == 6
    kept = [k for k in non_names if k not in far.replaced]
    assert sum(far.words[k] != lex.roots[k] for k in kept) > 0.5 * len(kept)
    assert len(set(far.words.values())) == len(far.words)  # no homophones
