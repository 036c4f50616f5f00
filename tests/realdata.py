"""Small datasets in the upstream layouts, written by the tests (no real rows are copied),
and the location of the real data for the tests that read it when it is present."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

#: The real data (``../shared/data`` beside the repo here); tests skip when it is absent.
REAL = Path(os.environ.get("XLBENCH_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


def real(folder: str) -> Path:
    """The real dataset folder, or skip the test saying why."""
    path = REAL / folder
    if not path.is_dir():
        pytest.skip(
            f"real data not found at {path}: set XLBENCH_DATA to a folder holding {folder}/ "
            f"(a clone of the upstream repo named in its SOURCE.txt) to run this test"
        )
    return REAL


def write_table(path: Path, header: list[str], rows: list[list[object]], delimiter: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


SIB_LABELS = ["science/technology", "travel", "politics", "sports", "health", "entertainment", "geography"]
WORDS = {  # per label, a few made-up words so classes are separable
    0: "atom robot signal", 1: "beach hotel ticket", 2: "vote senate party", 3: "goal match coach",
    4: "virus clinic doctor", 5: "film song actor", 6: "river mountain desert",
}


def sentence(lang: str, item: int, label: int) -> str:
    return f"{lang} item {item} {WORDS[label % 7]}"


def write_sib(root: Path, langs: tuple[str, ...] = ("eng_Latn", "fra_Latn", "hau_Latn", "amh_Ethi",
                                                   "ibo_Latn", "zul_Latn", "lao_Laoo", "tel_Telu")) -> Path:
    """sib-200/: aligned ids, train 0-13, dev 100-106, test 200-213 in every language."""
    base = root / "sib-200"
    (base / "data" / "eng").mkdir(parents=True, exist_ok=True)
    (base / "data" / "eng" / "labels.txt").write_text("\n".join(SIB_LABELS) + "\n")
    splits = {"train": range(0, 14), "dev": range(100, 107), "test": range(200, 214)}
    for lang in langs:
        for split, ids in splits.items():
            rows = [[i, SIB_LABELS[i % 7], sentence(lang, i, i % 7)] for i in ids]
            write_table(base / "data" / "annotated" / lang / f"{split}.tsv", ["index_id", "category", "text"], rows, "\t")
    return base


def write_nusax(root: Path, langs: tuple[str, ...] = ("english", "indonesian", "javanese", "sundanese",
                                                     "balinese", "ngaju")) -> Path:
    base = root / "nusax"
    labels = ["negative", "neutral", "positive"]
    splits = {"train": range(0, 9), "valid": range(100, 106), "test": range(200, 209)}
    for lang in langs:
        for split, ids in splits.items():
            rows = [[i, sentence(lang, i, i % 3), labels[i % 3]] for i in ids]
            write_table(base / "datasets" / "sentiment" / lang / f"{split}.csv", ["id", "text", "label"], rows, ",")
    return base


MN_LABELS = {"ibo": ["business", "health", "sports"], "yor": ["health", "politics", "sports"],
             "amh": ["business", "politics", "sports"], "hau": ["health", "religion", "sports"],
             "lug": ["business", "health", "sports"], "som": ["health", "politics", "sports"]}  # lug, som: default dev


def write_masakhane(root: Path) -> Path:
    """masakhane-news/: ibo, yor with train; amh, hau target-only; few-shot sets for all."""
    base = root / "masakhane-news"
    header = ["category", "headline", "text", "url"]
    for lang, labels in MN_LABELS.items():
        (base / "data" / lang).mkdir(parents=True, exist_ok=True)
        (base / "data" / lang / "labels.txt").write_text("\n".join(labels) + "\n")
        splits = {"dev": range(100, 106), "test": range(200, 209)}
        if lang in ("ibo", "yor", "lug", "som"):
            splits["train"] = range(0, 12)
        for split, ids in splits.items():
            rows = [
                [labels[i % 3], f"{lang} headline {i}", f"{lang} story {i} begins here. It goes on. The end of {i}.", f"http://x/{lang}/{i}"]
                for i in ids
            ]
            write_table(base / "data" / lang / f"{split}.tsv", header, rows, "\t")
        few = [[labels[i % 3], f"{lang} headline {i}", f"{lang} story {i} begins here. It goes on. The end of {i}.", ] for i in (300, 301, 200)]
        write_table(base / "few_shot_data" / "5_samples" / lang / "train.tsv", header[:3], few, "\t")
    return base


def squad_doc(lang: str, articles: int = 8, paragraphs: int = 5) -> dict:
    data = []
    for a in range(articles):
        paras = []
        for p in range(paragraphs):
            context = f"{lang} article {a} paragraph {p}: the answer is word{a}{p} indeed."
            start = context.index(f"word{a}{p}")
            paras.append({"context": context, "qas": [
                {"id": f"q{a}-{p}", "question": f"{lang} what is in {a}/{p}?",
                 "answers": [{"text": f"word{a}{p}", "answer_start": start}]}]})
        data.append({"title": f"Article_{a}", "paragraphs": paras})
    return {"version": "1.1", "data": data}


def write_xquad(root: Path, langs: tuple[str, ...] = ("en", "de", "zh", "es", "vi")) -> Path:
    base = root / "xquad"
    base.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        (base / f"xquad.{lang}.json").write_text(json.dumps(squad_doc(lang), ensure_ascii=False))
    return base
