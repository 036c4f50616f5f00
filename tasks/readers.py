"""Record readers for declarative tasks: csv, tsv, jsonl, json and SQuAD-style json.

Each reader turns one file into :class:`Record` objects that remember where they came from
(``path:line`` for tables and JSON lines, ``path: data[a].paragraphs[p].qas[q]`` for
SQuAD), so every later problem names the file and the record. Structural problems (a
missing file, a missing column, bad JSON, a record that is not an object) raise
:class:`bench.errors.DataError` at once; tables reuse :func:`tasks.local.read_table`.

:func:`qa_answers` is the robust QA part (issue 18, item 5): a record with no context, an
empty or ``-1`` answer, or an offset that does not point at the answer text is *skipped and
counted* (:class:`Skips`) instead of stopping the run, up to a threshold the task sets.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence, cast

from bench import datafiles
from bench.errors import DataError
from bench.types import Answer
from tasks.local import read_json, read_table, require_file

Format = Literal["csv", "tsv", "jsonl", "json", "squad"]
FORMATS: tuple[Format, ...] = ("csv", "tsv", "jsonl", "json", "squad")

#: The fields a SQuAD-style file always has (its field map is fixed).
SQUAD_FIELDS = {"id": "id", "question": "question", "context": "context", "answers": "answers", "group": "title"}

_MISSING = object()


@dataclass(frozen=True)
class Record:
    """One record of a data file and the place it came from."""

    where: str  # "path:line" or "path: data[0].paragraphs[1].qas[2] (id X)"
    fields: Mapping[str, Any]

    def find(self, key: str) -> Any:
        """The value at ``key`` (dots walk into nested objects), or ``_MISSING``."""
        value: Any = self.fields
        for part in key.split(".") if key not in self.fields else [key]:
            if not isinstance(value, Mapping) or part not in value:
                return _MISSING
            value = value[part]
        return value

    def has(self, key: str) -> bool:
        return self.find(key) is not _MISSING

    def text(self, key: str, what: str) -> str:
        """A non-empty string field; DataError naming the record otherwise."""
        value = self.find(key)
        if value is _MISSING:
            keys = sorted(self.fields)
            raise DataError(f"{self.where}: missing field {key!r} ({what}); the record has {keys}")
        text = "" if value is None else str(value).strip()
        if not text:
            raise DataError(f"{self.where}: empty value in field {key!r} ({what})")
        return text


def read_records(path: Path, fmt: Format, needed: Sequence[str], records_key: str | None = None) -> list[Record]:
    """Every record of one file. ``needed``: the table columns that must be in the header
    (tables only; JSON records are checked field by field as they are used)."""
    datafiles.note(path)  # hashed into the run's manifest (every format)
    if fmt in ("csv", "tsv"):
        rows = read_table(path, needed, "," if fmt == "csv" else "\t")
        return [Record(row.where, row.fields) for row in rows]
    if fmt == "jsonl":
        return _jsonl(path)
    if fmt == "json":
        return _json(path, records_key)
    if fmt == "squad":
        return _squad(path)
    raise DataError(f"{path}: unknown format {fmt!r}; valid formats: {', '.join(FORMATS)}")


def _jsonl(path: Path) -> list[Record]:
    require_file(path, "JSON lines, one object a line")
    out: list[Record] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 ({exc})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}:{exc.colno}: bad JSON ({exc.msg})") from exc
        if not isinstance(value, dict):
            raise DataError(f"{path}:{number}: a record must be a JSON object, got {type(value).__name__}")
        out.append(Record(f"{path}:{number}", value))
    if not out:
        raise DataError(f"{path}: no records (an empty language split)")
    return out


def _json(path: Path, records_key: str | None) -> list[Record]:
    doc = read_json(path)
    where = str(path)
    if records_key:
        for part in records_key.split("."):
            if not isinstance(doc, dict) or part not in doc:
                have = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
                raise DataError(f"{path}: no key {part!r} on the way to records {records_key!r}; found {have}")
            doc = doc[part]
        where = f"{path}: {records_key}"
    if not isinstance(doc, list):
        raise DataError(
            f"{where}: expected a list of records, got {type(doc).__name__}; set `records:` to "
            f"the key that holds the list (dots walk into objects)"
        )
    out = []
    for i, value in enumerate(doc):
        if not isinstance(value, dict):
            raise DataError(f"{where}[{i}]: a record must be a JSON object, got {type(value).__name__}")
        out.append(Record(f"{where}[{i}]", value))
    if not out:
        raise DataError(f"{where}: no records (an empty language split)")
    return out


def _squad(path: Path) -> list[Record]:
    """SQuAD v1.1/v2.0 JSON flattened to one record per question (title, context, qa)."""
    doc = read_json(path)
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list):
        raise DataError(f"{path}: a SQuAD file is an object with a 'data' list of articles")
    out: list[Record] = []
    for a, article in enumerate(data):
        where_a = f"{path}: data[{a}]"
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise DataError(f"{where_a}: missing 'paragraphs' list")
        title = article.get("title", f"article-{a}")
        for p, paragraph in enumerate(paragraphs):
            where_p = f"{where_a}.paragraphs[{p}]"
            qas = paragraph.get("qas") if isinstance(paragraph, dict) else None
            if not isinstance(qas, list):
                raise DataError(f"{where_p}: missing 'qas' list")
            for q, qa in enumerate(qas):
                if not isinstance(qa, dict):
                    raise DataError(f"{where_p}.qas[{q}]: a question must be a JSON object")
                fields = {**qa, "context": paragraph.get("context"), "title": title}
                out.append(Record(f"{where_p}.qas[{q}] (id {qa.get('id')})", fields))
    if not out:
        raise DataError(f"{path}: no questions (an empty language)")
    return out


# -- robust QA -------------------------------------------------------------------------

SkipReason = Literal["no context", "no answer", "answer_start -1", "offset mismatch"]


@dataclass
class Skips:
    """Records skipped per file and reason, and how many records each file had."""

    counts: dict[str, Counter] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    first: dict[str, list[str]] = field(default_factory=dict)  # a few skipped records, per file

    def add(self, path: str, reason: str, where: str) -> None:
        self.counts.setdefault(path, Counter())[reason] += 1
        examples = self.first.setdefault(path, [])
        if len(examples) < 3:
            examples.append(f"{where}: {reason}")

    def as_dict(self) -> dict[str, dict[str, int]]:
        """{file: {reason: count, "records": total}} for every file with a skip."""
        return {
            path: {**dict(sorted(c.items())), "records": self.totals.get(path, 0)}
            for path, c in sorted(self.counts.items())
        }

    def check(self, path: str, threshold: float) -> None:
        """DataError when more than ``threshold`` (a fraction) of a file's records were skipped."""
        skipped = sum(self.counts.get(path, Counter()).values())
        total = self.totals.get(path, 0)
        if total and skipped / total > threshold:
            reasons = ", ".join(f"{r}: {n}" for r, n in sorted(self.counts[path].items()))
            raise DataError(
                f"{path}: {skipped} of {total} records skipped ({reasons}), more than "
                f"max_skipped={threshold:g} of the file; e.g. {'; '.join(self.first[path])}. "
                f"Fix the file or the field map (fields.context / fields.answers), or raise "
                f"max_skipped in the task if these records really are unusable."
            )


def qa_answers(record: Record, fields: Mapping[str, str | None]) -> tuple[tuple[Answer, ...], str | None]:
    """The record's valid answers and, when none is valid, why the record is skipped.

    Answers come from ``fields['answers']`` (a list of ``{text, answer_start}`` objects, or
    a ``{text: [...], answer_start: [...]}`` object as on the Hugging Face hub) or from
    ``fields['answer']`` + ``fields['answer_start']`` (one answer per record). An answer
    is valid when ``context[start:start + len(text)] == text``.
    """
    context = record.find(fields["context"] or "context")
    if not isinstance(context, str) or not context.strip():
        return (), "no context"
    spans = _spans(record, fields)
    valid: list[Answer] = []
    reason: str | None = None
    for text, start in spans:
        if not isinstance(text, str) or not text.strip():
            reason = reason or "no answer"
        elif isinstance(start, bool) or not isinstance(start, int):
            raise DataError(f"{record.where}: answer_start {start!r} is not an integer")
        elif start < 0:
            reason = reason or "answer_start -1"
        elif context[start : start + len(text)] != text:
            reason = reason or "offset mismatch"
        else:
            valid.append(Answer(text=text, start=start))
    if valid:
        return tuple(valid), None
    return (), reason or "no answer"


def _spans(record: Record, fields: Mapping[str, str | None]) -> list[tuple[Any, Any]]:
    if fields.get("answers"):
        value = record.find(cast(str, fields["answers"]))  # non-empty: checked above
        if value is _MISSING:
            raise DataError(f"{record.where}: missing field {fields['answers']!r} (the answers); "
                            f"the record has {sorted(record.fields)}")
        if value is None:
            return []
        if isinstance(value, dict):  # {text: [...], answer_start: [...]}
            texts, starts = value.get("text", []), value.get("answer_start", [])
            if isinstance(texts, str):
                texts, starts = [texts], [starts]
            if len(texts) != len(starts):
                raise DataError(f"{record.where}: answers.text and answers.answer_start differ in length")
            return list(zip(texts, starts))
        if isinstance(value, list):
            out = []
            for i, span in enumerate(value):
                if not isinstance(span, dict) or "text" not in span or "answer_start" not in span:
                    raise DataError(f"{record.where}: answers[{i}] needs 'text' and 'answer_start', got {span!r}")
                out.append((span["text"], span["answer_start"]))
            return out
        raise DataError(f"{record.where}: answers must be a list or an object, got {type(value).__name__}")
    text_key, start_key = fields.get("answer"), fields.get("answer_start")
    if not text_key or not start_key:
        raise DataError(f"{record.where}: the field map names no answers (fields.answers, or "
                        f"fields.answer + fields.answer_start)")
    text, start = record.find(text_key), record.find(start_key)
    if start is _MISSING or text is _MISSING:
        missing = [k for k, v in ((text_key, text), (start_key, start)) if v is _MISSING]
        raise DataError(f"{record.where}: missing field(s) {missing}; the record has {sorted(record.fields)}")
    if isinstance(start, str) and start.lstrip("-").isdigit():
        start = int(start)  # tables hold strings
    return [(text, start)]
