"""``xlbench new-task NAME``: a task as YAML with every field commented, ready to run.

Writes ``NAME/`` (never over an existing folder)::

    NAME/NAME.yaml        the task spec (tasks/taskspec.py), every field commented
    NAME/data/<lang>/{train,dev,test}.tsv
                          a small made-up dataset in the layout the spec reads, so that
                          `xlbench check-task` and the suite below run at once; replace it
    NAME/suite.yaml       a small suite on the task (three methods, a few minutes on a CPU)
    NAME/NAME_plugin.py   a Python skeleton for what YAML cannot express (a subclass of
                          YamlTask with a per-record hook), named with {file: ..., class: ...}
"""

from __future__ import annotations

import csv
import keyword
import re
from pathlib import Path
from string import Template

from bench.errors import XlbenchError

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

SPEC = Template('''\
# $name: a declarative xlbench task. Check it with `xlbench check-task $name/$name.yaml`.
# Every key is validated (an unknown key stops the run with a did-you-mean) and every file is
# read before any training (a missing file, column or label stops it naming file and line).
name: $name                  # identity of the task: seeds its episodes (a suite `label:` does not)
kind: classification         # classification | qa (extractive span) | summarization (extractive)
format: tsv                  # csv | tsv | jsonl | json | squad (SQuAD v1.1/2.0 JSON, fixed field map)
root: data                   # the data folder, relative to this file; or instead:
# folder: $name              #   DIR/$name/ under --data-dir DIR or $$XLBENCH_DATA (DIR itself if it is the clone)
# upstream: https://github.com/OWNER/REPO   # where the data come from (printed in hints)
path: "{lang}/{split}.tsv"   # file template below the data folder: {lang} and {split}
# records: data.rows         # json only: the key holding the list of records (dots walk into objects)
fields:                      # which column (tables) or key (JSON; dots walk into objects) holds what
  id: id                     #   item id: shared by the translations of an item when parallel: id
  text: text                 #   classification: the text
  label: label               #   classification: the label value
  # question: question       #   qa: the question
  # context: context         #   qa: the passage the answer is a span of
  # answers: answers         #   qa: [{text, answer_start}] or {text: [...], answer_start: [...]}
  # answer: answer           #   qa: one answer text per record, with answer_start: its offset
  # document: document       #   summarization: the document
  # summary: summary         #   summarization: the reference summary
  # sentences: sentences     #   summarization: a list of sentences (else split from the document)
  # group: article           #   article id: never split across roles (with split_by_group)
labels: [health, music, sports]   # label-id order; omit to read the sorted values from the data (logged)
languages:                   # the {lang} values, in three roles
  source: [src_a, src_b]     #   trained on (their train split)
  dev: [dev_c]               #   tuning and model selection only; never a target
  target: [tgt_d, tgt_e]     #   reported: K-shot support pool + test split
splits: {train: train, dev: dev, test: test}   # the {split} value of each role
# split_by_group: {source: 32, pool: 4}   # for a path without {split}: groups (fields.group) in file
#                                         # order: first N train, next M feed pools, the rest test
target_pool: train           # which split feeds a target's support pool: train | dev
parallel: id                 # id: translations share fields.id (the leakage check uses it);
                             # content: ids are a hash of the text; none: not parallel
caps: {source: null, pool: null, test: null}   # at most N items per language (a hash sample by id)
# max_skipped: 0.05          # qa: stop if a file has more than this fraction of bad records
# summary_sentences: 1       # summarization: sentences an extractive model picks
# max_sentences: null        # summarization: keep a document's first N sentences
# max_answer_tokens: 30      # qa: the longest span a decoder may return
''')

SUITE = Template('''\
# A small suite on $name: `xlbench run --suite $name/suite.yaml`, then
# `xlbench report --suite $name/suite.yaml`.
name: $name
backbone: {name: ngram, config: {buckets: 16384}}
seeds: [0]
shots: [0, 1, 5]
episodes: 3
queries: 20
budget: {source_examples: 600, adapt_examples: 100}
tasks: [$name.yaml]          # or {file: $name.yaml, label: ..., config: {caps: {test: 50}}}
methods: [majority, finetune, protonet]
executor: {name: inline}
''')

PLUGIN = Template('''\
"""$cls: $name with Python where YAML cannot express it.

Name it in a suite with the spec it extends (this folder must be importable, e.g.
`PYTHONPATH=$name`):

    tasks: [{file: $name.yaml, class: "${name}_plugin:$cls"}]

Every guarantee of a YAML task still holds (validation, leakage check, fixed episodes);
override a hook below, or ``source`` / ``target`` for a different split.
"""

from __future__ import annotations

from bench.types import Example
from tasks.declarative import YamlTask
from tasks.readers import Record


class $cls(YamlTask):
    """$name: the YAML spec plus a per-record hook."""

    def example(self, record: Record, lang: str, split: str, number: int) -> Example | None:
        """One record -> an Example; return None to skip a record (counted for QA)."""
        example = super().example(record, lang, split, number)
        return example  # e.g. dataclasses.replace(example, text=clean(example.text))
''')

_WORDS = {
    "health": "doctor fever clinic medicine nurse virus",
    "music": "guitar song concert melody drum singer",
    "sports": "match goal coach player league stadium",
}
_FILLER = "today people said that very much again in the city and".split()
_LANGS = {"src_a": "", "src_b": "o", "dev_c": "a", "tgt_d": "i", "tgt_e": "en"}  # a suffix per language
_FAR = str.maketrans("aeiou", "eauio")  # tgt_e also swaps vowels: the far target


def _sentence(lang: str, label: str, item: int) -> str:
    """A made-up sentence: two of the label's words and three fillers, in the language's
    'accent' (a suffix; tgt_e also swaps vowels, so it is harder to transfer to)."""
    words = _WORDS[label].split()
    picked = [words[item % 6], words[(item * 5 + 1) % 6]] + [_FILLER[(item * k) % len(_FILLER)] for k in (2, 3, 7)]
    picked = [w.translate(_FAR) if lang == "tgt_e" else w for w in picked]
    order = sorted(range(5), key=lambda j: (j * (item + 3)) % 5)
    return f"{lang} note {item}: " + " ".join(picked[j] + _LANGS[lang] for j in order)


def write_sample(folder: Path) -> None:
    labels = sorted(_WORDS)
    splits = {"train": range(0, 30), "dev": range(100, 109), "test": range(200, 230)}
    for lang in _LANGS:
        for split, ids in splits.items():
            path = folder / lang / f"{split}.tsv"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, delimiter="\t")
                writer.writerow(["id", "label", "text"])
                for i in ids:
                    label = labels[i % 3]
                    writer.writerow([i, label, _sentence(lang, label, i)])


def check_name(name: str) -> None:
    if not _NAME.match(name) or keyword.iskeyword(name):
        fixed = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "mytask"
        raise XlbenchError(f"task name {name!r} is not valid: use lower-case letters, digits and '_', "
                           f"starting with a letter. Try {fixed if fixed[0].isalpha() else 't_' + fixed!r}.")
    from bench import registry

    known = registry.entries("task")
    if name in known:
        raise XlbenchError(f"task name {name!r} is already taken ({known[name].origin}: {known[name].target}); "
                           f"try {('my_' + name)!r}")


def write_task(name: str, where: Path) -> Path:
    """Write ``where/name/`` (see the module docstring); refuses an existing folder."""
    check_name(name)
    folder = where / name
    if folder.exists():
        raise XlbenchError(f"{folder} already exists; new-task never overwrites. Pass --dir elsewhere or remove it.")
    folder.mkdir(parents=True)
    cls = "".join(part.capitalize() for part in name.split("_") if part) + "Task"
    (folder / f"{name}.yaml").write_text(SPEC.substitute(name=name), encoding="utf-8")
    (folder / "suite.yaml").write_text(SUITE.substitute(name=name), encoding="utf-8")
    (folder / f"{name}_plugin.py").write_text(PLUGIN.substitute(name=name, cls=cls), encoding="utf-8")
    write_sample(folder / "data")
    return folder
