"""A task defined by a YAML spec (:mod:`tasks.taskspec`): files -> Examples, split safely.

The spec says where each file is and which field holds what; this class reads the files
with :mod:`tasks.readers`, caps each language with :func:`tasks.local.hash_sample` (the
same sample a built-in task takes), and keeps the built-in guarantees: languages checked
against the data, every record validated before any training (a missing file, column or
label is a ``DataError`` naming file and line), the leakage check of
:mod:`bench.leakage` (and, for non-parallel data, the duplicate-text check of
:mod:`bench.duplicates`) in :meth:`validate`, and episodes seeded by the spec's ``name``
(:meth:`episode_key`), so a display label never changes them.

Item ids: ``parallel: id`` -> ``<name>-<fields.id>`` (translations share it, so the leakage
check sees them); ``parallel: content`` -> ``<name>-<sha1 of the normalised text>``;
``parallel: none`` -> ``<name>-<lang>-<split>-<id or record number>``. Groups (articles) are
the ``fields.group`` value when parallel (shared by translations), else ``<name>-<lang>-<group>``.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from typing import Any, ClassVar

from bench import leakage
from bench.errors import DataError
from bench.task import TargetData, Task
from bench.types import Example, SourceData, TaskInfo, TaskKind
from tasks.languages import check_languages, language_info
from tasks.local import Upstream, dataset_dir, hash_sample, label_index
from tasks.readers import Record, Skips, qa_answers, read_records
from tasks.taskspec import YamlTaskConfig


class YamlTask(Task):
    """A task from a YAML spec; ``kind`` is the spec's kind."""

    Config = YamlTaskConfig
    kind: ClassVar[TaskKind] = "classification"  # per instance: the spec's kind (set in __init__)

    def __init__(self, config: YamlTaskConfig, data_dir: Path | None = None) -> None:
        super().__init__(config, data_dir)
        self.kind = config.kind  # type: ignore[misc]
        self._records: dict[tuple[str, str], tuple[Record, ...]] = {}
        self._examples: dict[tuple[str, str], tuple[Example, ...]] = {}
        self._labels: tuple[str, ...] | None = None
        self.skips = Skips()

    # -- identity ----------------------------------------------------------------------
    def episode_key(self, label: str) -> str:
        """The spec's name, whatever the suite's display label (same spec, same episodes)."""
        return self.config.name

    def info(self) -> TaskInfo:
        cfg = self.config
        langs = (*cfg.languages.source, *cfg.languages.dev, *cfg.languages.target)
        return TaskInfo(
            name=cfg.name,
            kind=cfg.kind,
            labels=self.labels() if cfg.kind == "classification" else (),
            source_langs=cfg.languages.source,
            target_langs=cfg.languages.target,
            dev_langs=cfg.languages.dev,
            languages={lang: language_info(lang) for lang in langs},
            summary_sentences=cfg.summary_sentences,
            max_answer_tokens=cfg.max_answer_tokens,
        )

    # -- the contract ------------------------------------------------------------------
    def source(self) -> SourceData:
        cap = self.config.caps.source
        train = {lang: hash_sample(self.examples(lang, "train"), cap) for lang in self.config.languages.source}
        return SourceData(info=self.info(), train=train)

    def target(self, lang: str) -> TargetData:
        if lang not in self.config.languages.target:
            raise DataError(f"{self.config.name}: {lang!r} is not a target language; targets are "
                            f"{list(self.config.languages.target)}")
        return self._heldout(lang, self.pool_split())

    def dev(self, lang: str) -> TargetData:
        """A dev language's data (tuning and model selection only): pool from the train
        split (the pool groups under split_by_group), scored items from the dev split."""
        if lang not in self.config.languages.dev:
            raise DataError(f"{self.config.name}: {lang!r} is not a dev language; dev languages are "
                            f"{list(self.config.languages.dev)}")
        if self.config.split_by_group is not None:  # pool groups as pool, the dev groups as queries
            return TargetData(lang=lang, pool=hash_sample(self.examples(lang, "dev"), self.config.caps.pool),
                              test=hash_sample(self.examples(lang, "devq"), self.config.caps.test))
        caps = self.config.caps
        return TargetData(lang=lang, pool=hash_sample(self.examples(lang, "train"), caps.pool),
                          test=hash_sample(self.examples(lang, "dev"), caps.test))

    def _heldout(self, lang: str, pool_split: str) -> TargetData:
        caps = self.config.caps
        return TargetData(lang=lang, pool=hash_sample(self.examples(lang, pool_split), caps.pool),
                          test=hash_sample(self.examples(lang, "test"), caps.test))

    def pool_split(self) -> str:
        """The split key of a target's support pool ("dev" = the pool groups when split by group)."""
        return "dev" if self.config.split_by_group is not None else self.config.target_pool

    # No `role` parameter on purpose (for now): bench.runner._validate inspects the signature
    # and refuses to tune a task whose validate() cannot read source/dev data only, and this
    # one reads the target files too. Adding the parameter is a behaviour change, not a typing fix.
    def validate(self) -> None:  # type: ignore[override]
        """Languages exist, every file parses, labels are known, nothing leaks; logs the
        label set when it was read from the data and every skipped record."""
        cfg = self.config
        langs = cfg.languages
        check_languages(cfg.name, (*langs.source, *langs.dev), langs.target, self.available())
        source = self.source()
        targets = [self.target(lang) for lang in langs.target]
        devs = [self.dev(lang) for lang in langs.dev]
        if cfg.labels is None and cfg.kind == "classification":
            print(f"xlbench: task {cfg.name}: labels read from the data (sorted): {list(self.labels())}",
                  file=sys.stderr)
        for path, counts in self.skips.as_dict().items():
            total = counts.pop("records")
            print(f"xlbench: task {cfg.name}: skipped {sum(counts.values())} of {total} records in "
                  f"{path} ({', '.join(f'{r}: {n}' for r, n in counts.items())})", file=sys.stderr)
        with_dev = {**source.train, **{f"dev:{d.lang}": d.pool + d.test for d in devs}}
        leakage.check(cfg.name, SourceData(info=source.info, train=with_dev), targets)
        if cfg.parallel == "none":
            from bench.duplicates import check as check_duplicates

            check_duplicates(cfg.name, source, targets)

    def skipped(self) -> dict[str, dict[str, int]]:
        """Records skipped so far, per file: {reason: count, "records": total} (for manifests)."""
        return self.skips.as_dict()

    # -- files -------------------------------------------------------------------------
    def root(self) -> Path:
        cfg = self.config
        if cfg.root is not None:
            root = Path(cfg.root)
            if not root.is_dir():
                raise DataError(f"{cfg.name}: data folder {root} (root: in the task spec) does not exist")
            return root
        marker = cfg.path.replace("{lang}", "*").replace("{split}", "*")
        upstream = Upstream(folder=str(cfg.folder), repo=cfg.upstream or "<the dataset's repository>", marker=marker)
        return dataset_dir(upstream, self.data_dir)

    def file(self, lang: str, split: str) -> Path:
        """The file of one (language, split key); the split key names a ``splits`` entry."""
        name = getattr(self.config.splits, split) if self.config.split_by_group is None else None
        return self.root() / self.config.path.format(lang=lang, split=name)

    def files(self) -> list[Path]:
        """Every file this task reads, in a stable order."""
        langs = self.config.languages
        keys = [(lang, "train") for lang in langs.source]
        keys += [(lang, s) for lang in langs.dev for s in ("train", "dev")]
        keys += [(lang, s) for lang in langs.target for s in (self.pool_split(), "test")]
        return list(dict.fromkeys(self.file(lang, split) for lang, split in keys))

    def available(self) -> tuple[str, ...]:
        """Language keys the data folder holds (the ``{lang}`` values of existing files, any split)."""
        cfg = self.config
        regex = re.compile("^" + re.escape(cfg.path).replace(re.escape("{lang}"), "(?P<lang>[^/]+)")
                           .replace(re.escape("{split}"), "[^/]+") + "$")
        root = self.root()
        glob = cfg.path.replace("{lang}", "*").replace("{split}", "*")
        found = {m.group("lang") for p in root.glob(glob) if (m := regex.match(p.relative_to(root).as_posix()))}
        return tuple(sorted(found))

    # -- reading -----------------------------------------------------------------------
    def records(self, lang: str, split: str) -> tuple[Record, ...]:
        """The raw records of one (language, split key), memoised (a pure function of the files)."""
        key = (lang, split)
        if key not in self._records:
            cfg = self.config
            if cfg.split_by_group is not None:
                self._records[key] = self._group_records(lang, split)
            else:
                fmap = cfg.field_map()
                needed = [c for c in fmap.values() if c] if cfg.format in ("csv", "tsv") else []
                self._records[key] = tuple(read_records(self.file(lang, split), cfg.format, needed, cfg.records))
        return self._records[key]

    def _group_records(self, lang: str, split: str) -> tuple[Record, ...]:
        """split_by_group: groups in the first language's file order -> source/pool/test."""
        from tasks.xquad import split_articles

        cfg = self.config
        group_key = str(cfg.field_map()["group"])
        every = (*cfg.languages.source, *cfg.languages.dev, *cfg.languages.target)
        if ("*", every[0]) not in self._records:
            self._records[("*", every[0])] = tuple(self._read_all(every[0]))
        reference = list(dict.fromkeys(r.text(group_key, "the group") for r in self._records[("*", every[0])]))
        try:
            roles = split_articles(reference, cfg.split_by_group.source, cfg.split_by_group.pool,
                                   cfg.split_by_group.dev)
        except DataError as exc:
            raise DataError(f"{cfg.name}: {exc} (split_by_group in the task spec)") from exc
        wanted = {"train": "source", "dev": "pool", "devq": "dev", "test": "test"}[split]
        rows = self._records[("*", lang)] if ("*", lang) in self._records else tuple(self._read_all(lang))
        self._records[("*", lang)] = rows
        out = []
        for record in rows:
            group = record.text(group_key, "the group")
            if group not in roles:
                raise DataError(f"{record.where}: group {group!r} is not among the groups of {every[0]} "
                                f"(split_by_group needs the same groups in every language)")
            if roles[group] == wanted:
                out.append(record)
        return tuple(out)

    def _read_all(self, lang: str) -> list[Record]:
        cfg = self.config
        needed = [c for c in cfg.field_map().values() if c] if cfg.format in ("csv", "tsv") else []
        return read_records(self.file(lang, "test"), cfg.format, needed, cfg.records)

    def labels(self) -> tuple[str, ...]:
        """The label set: the spec's, or the sorted values of every file the task reads."""
        if self.config.labels is not None:
            return self.config.labels
        if self._labels is None:
            key = str(self.config.field_map()["label"])
            values = {r.text(key, "the label") for lang, split in self._keys() for r in self.records(lang, split)}
            if len(values) < 2:
                raise DataError(f"{self.config.name}: the data hold {len(values)} label value(s) "
                                f"{sorted(values)}; a classification task needs at least 2")
            self._labels = tuple(sorted(values))
        return self._labels

    def _keys(self) -> list[tuple[str, str]]:
        langs = self.config.languages
        keys = [(lang, "train") for lang in langs.source]
        keys += [(lang, s) for lang in langs.dev for s in ("train", "dev")]
        keys += [(lang, s) for lang in langs.target for s in (self.pool_split(), "test")]
        return keys

    def examples(self, lang: str, split: str) -> tuple[Example, ...]:
        """Every example of one (language, split key), in file order (memoised)."""
        key = (lang, split)
        if key not in self._examples:
            records = self.records(lang, split)
            built: list[Example] = []
            for number, record in enumerate(records):
                example = self.example(record, lang, split, number)
                if example is not None:
                    built.append(example)
            self._check_skips(records)
            if not built:
                raise DataError(f"{self.file(lang, split)}: no usable records for {lang}/{split}")
            self._examples[key] = tuple(built)
        return self._examples[key]

    def _check_skips(self, records: tuple[Record, ...]) -> None:
        if self.config.kind == "qa":
            for path in {self._path_of(r) for r in records}:
                self.skips.check(path, self.config.max_skipped)

    def example(self, record: Record, lang: str, split: str, number: int) -> Example | None:
        """One record -> an Example (None: a QA record skipped and counted)."""
        cfg = self.config
        fmap = cfg.field_map()
        group = record.text(str(fmap["group"]), "the group") if fmap.get("group") else None
        if cfg.kind == "classification":
            text = record.text(str(fmap["text"]), "the text")
            label = label_index(self.labels(), record.text(str(fmap["label"]), "the label"), record.where)
            parts: dict[str, Any] = {"text": text, "label": label}
            primary = text
        elif cfg.kind == "qa":
            path = self._path_of(record)
            self.skips.totals[path] = self.skips.totals.get(path, 0) + 1
            answers, reason = qa_answers(record, fmap)
            if reason is not None:
                self.skips.add(path, reason, record.where)
                return None
            record.text(str(fmap["question"]), "the question")  # present and non-empty
            question = str(record.find(str(fmap["question"])))  # as written (as the built-in XQuAD keeps it)
            context = str(record.find(str(fmap["context"])))
            parts = {"text": context, "question": question, "answers": answers}
            primary = f"{question}\n{context}"
        else:
            document = record.text(str(fmap["document"]), "the document")
            parts = {"text": document, "summary": record.text(str(fmap["summary"]), "the summary"),
                     "sentences": self._sentences(record, document)}
            primary = document
        return Example(item_id=self._item_id(record, lang, split, number, primary), lang=lang,
                       group=self._group(group, lang), **parts)

    def _path_of(self, record: Record) -> str:
        if self.config.format in ("csv", "tsv", "jsonl"):
            return record.where.rsplit(":", 1)[0]
        return record.where.split(": ", 1)[0]

    def _sentences(self, record: Record, document: str) -> tuple[str, ...]:
        from bench.text import split_sentences

        key = self.config.fields.sentences
        if key:
            value = record.find(key)
            if not isinstance(value, list) or not value or not all(isinstance(s, str) and s.strip() for s in value):
                raise DataError(f"{record.where}: field {key!r} must be a non-empty list of sentences")
            sentences = [s.strip() for s in value]
        else:
            sentences = split_sentences(document)
        keep = self.config.max_sentences
        sentences = sentences[:keep] if keep else sentences
        if not sentences:
            raise DataError(f"{record.where}: the document has no sentence")
        return tuple(sentences)

    def _item_id(self, record: Record, lang: str, split: str, number: int, primary: str) -> str:
        cfg = self.config
        id_key = cfg.field_map().get("id")
        if cfg.parallel == "id":
            return f"{cfg.name}-{record.text(str(id_key), 'the item id')}"
        if cfg.parallel == "content":
            digest = hashlib.sha1(" ".join(primary.split()).encode("utf-8")).hexdigest()[:16]
            return f"{cfg.name}-{digest}"
        local = record.text(str(id_key), "the item id") if id_key else str(number)
        return f"{cfg.name}-{lang}-{split}-{local}"

    def _group(self, group: str | None, lang: str) -> str | None:
        if group is None:
            return None
        return group if self.config.parallel != "none" else f"{self.config.name}-{lang}-{group}"
