"""Local data: where a dataset's folder is, and readers that fail with file and line.

Real datasets load from the upstream repository's own file layout (docs/architecture.md, "Data"). A
task names its folder (``sib-200``, ``nusax``, ``masakhane-news``, ``xquad``); the user
points xlbench at a directory holding that folder, or at the folder (a clone) itself, with
``--data-dir`` or the ``XLBENCH_DATA`` environment variable.

Every reader raises :class:`bench.errors.DataError` naming the file, the line (or JSON
record) and what is wrong, so ``Task.validate()`` can stop a run before any training.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from bench import datafiles
from bench.errors import DataError

#: The environment variable read when no ``--data-dir`` was given.
ENV_VAR = "XLBENCH_DATA"

_FIELD_LIMIT = 1 << 30  # news articles exceed csv's default 128 KiB field limit


@dataclass(frozen=True)
class Upstream:
    """Where a dataset comes from and how to recognise its folder."""

    folder: str  # folder name under the data directory, e.g. "sib-200"
    repo: str  # upstream repository URL
    marker: str  # glob (relative to the folder) that only this dataset's layout matches


def dataset_dir(upstream: Upstream, data_dir: Path | str | None) -> Path:
    """The dataset folder: ``data_dir/<folder>``, or ``data_dir`` itself if it is the clone.

    ``data_dir`` None falls back to ``$XLBENCH_DATA``. Raises ``DataError`` listing every
    place it looked and the three ways to fix it.
    """
    base: Path | None
    origin: str
    if data_dir is not None:
        base, origin = Path(data_dir).expanduser(), "--data-dir"
    elif os.environ.get(ENV_VAR):
        base, origin = Path(os.environ[ENV_VAR]).expanduser(), f"${ENV_VAR}"
    else:
        base, origin = None, ""
    looked: list[str] = []
    if base is not None:
        for candidate in (base / upstream.folder, base):
            looked.append(str(candidate / upstream.marker))
            if candidate.is_dir() and any(candidate.glob(upstream.marker)):
                return candidate
    where = (
        f"looked for {' and '.join(looked)} ({origin}={base})"
        if base is not None
        else f"no data directory was given (neither --data-dir nor ${ENV_VAR} is set)"
    )
    from bench.datafetch import hint

    raise DataError(
        f"{upstream.folder} data not found: {where}.{hint(upstream.folder)} Fix: pass --data-dir DIR where DIR "
        f"holds {upstream.folder}/ (or is the clone itself), or set {ENV_VAR}=DIR, after "
        f"`git clone {upstream.repo} DIR/{upstream.folder}` (the commit is in SOURCE.txt "
        f"beside the data when it was copied); or use `source: hub` in the task config."
    )


def require_file(path: Path, what: str) -> Path:
    """``path`` if it is a file, else a DataError saying what the file should have held."""
    if not path.is_file():
        siblings = sorted(p.name for p in path.parent.iterdir()) if path.parent.is_dir() else []
        hint = f"; that folder holds {siblings}" if siblings else "; that folder does not exist"
        raise DataError(f"missing file {path} ({what}){hint}")
    return path


@dataclass(frozen=True)
class Row:
    """One record of a table with the place it came from."""

    path: Path
    line: int  # 1-based physical line where the record starts
    fields: Mapping[str, str]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def get(self, column: str) -> str:
        """The stripped value of ``column``; DataError if empty."""
        value = (self.fields.get(column) or "").strip()
        if not value:
            raise DataError(f"{self.where}: empty value in column {column!r}")
        return value


def read_table(path: Path, columns: Sequence[str], delimiter: str) -> list[Row]:
    """Rows of a CSV/TSV file with a header; every name in ``columns`` must be present.

    Raises DataError for a missing file, a missing column, a record with the wrong number
    of fields, undecodable bytes or a file with no records.
    """
    require_file(path, f"a table with columns {list(columns)}")
    datafiles.note(path)  # hashed into the run's manifest
    csv.field_size_limit(_FIELD_LIMIT)
    rows: list[Row] = []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                raise DataError(f"{path}: empty file (expected a header with {list(columns)})")
            header = [name.strip().lstrip("\ufeff") for name in header]
            missing = [c for c in columns if c not in header]
            if missing:
                raise DataError(
                    f"{path}:1: missing column(s) {missing}; the header has {header}"
                )
            start = reader.line_num + 1
            for record in reader:
                if not record or all(not value.strip() for value in record):
                    start = reader.line_num + 1
                    continue
                if len(record) != len(header):
                    raise DataError(
                        f"{path}:{start}: {len(record)} fields, expected {len(header)} "
                        f"({header}); check for a stray delimiter or an unclosed quote"
                    )
                rows.append(Row(path, start, dict(zip(header, record))))
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 ({exc})") from exc
    except csv.Error as exc:
        raise DataError(f"{path}:{start}: malformed record ({exc})") from exc
    if not rows:
        raise DataError(f"{path}: no records after the header (an empty language split)")
    return rows


def read_labels(path: Path) -> tuple[str, ...]:
    """A label list: one label a line, blank lines ignored, no duplicates."""
    require_file(path, "the label set, one label a line")
    datafiles.note(path)  # hashed into the run's manifest
    labels = tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    labels = tuple(label for label in labels if label)
    if not labels:
        raise DataError(f"{path}: the label file is empty")
    if len(set(labels)) != len(labels):
        raise DataError(f"{path}: duplicate labels in {list(labels)}")
    return labels


def read_json(path: Path) -> Any:
    """Parsed JSON; DataError with line and column on a syntax error."""
    require_file(path, "a JSON file")
    datafiles.note(path)  # hashed into the run's manifest
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}:{exc.lineno}:{exc.colno}: bad JSON ({exc.msg})"
        ) from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 ({exc})") from exc


def label_index(labels: Sequence[str], value: str, where: str, allowed: Iterable[str] | None = None) -> int:
    """The index of ``value`` in ``labels``; DataError if it is outside the allowed set.

    ``allowed`` (default: ``labels``) is the set this record's language may use, e.g. the
    language's own ``labels.txt`` when ``labels`` is a union over languages.
    """
    permitted = tuple(allowed) if allowed is not None else tuple(labels)
    if value not in permitted or value not in labels:
        raise DataError(
            f"{where}: label {value!r} is not in the label set {list(permitted)}"
        )
    return list(labels).index(value)


def hash_sample(items: Sequence[Any], limit: int | None) -> tuple[Any, ...]:
    """At most ``limit`` examples (all when None), in file order: those whose ``item_id``
    hashes lowest (SHA-1), ties by position. Deterministic, and independent of the file's
    order (upstream test files are sorted by category, so a prefix would hold few labels);
    parallel sets keep the same items in every language because ids are aligned."""
    if limit is not None and limit < 0:
        raise ValueError(f"a per-language cap must be >= 0 or None, got {limit}")
    if limit is None or len(items) <= limit:
        return tuple(items)

    def rank(i: int) -> tuple[str, int]:
        return hashlib.sha1(str(items[i].item_id).encode("utf-8")).hexdigest(), i

    keep = set(sorted(range(len(items)), key=rank)[:limit])
    return tuple(x for i, x in enumerate(items) if i in keep)
