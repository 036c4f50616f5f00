"""The Hugging Face hub path (``source: hub``): ``datasets.load_dataset`` at a pinned commit.

Each task maps hub rows to :class:`bench.types.Example` with a pure function of the row
(unit-tested on rows the tests write); this module only fetches rows. ``trust_remote_code``
is never set: a dataset that needs a loading script must be read from its parquet
conversion or from local files. A network failure becomes a ``DataError`` that says how to
pre-download (``huggingface-cli download ... --revision``, then ``HF_HUB_OFFLINE=1``) or how to
point xlbench at local files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bench.errors import DataError

_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class HubSplit:
    """Rows of one (dataset, config, split) and the label names of a ClassLabel column."""

    rows: tuple[dict[str, Any], ...]
    label_names: tuple[str, ...] | None  # None when the label column holds strings


def load_split(
    dataset_id: str,
    config_name: str | None,
    split: str,
    revision: str | None,
    local_hint: str,
) -> HubSplit:
    """Load one split at a pinned ``revision`` (a 40-hex commit sha).

    ``local_hint`` says how to use local files instead (the task's upstream repo). Raises
    DataError when the revision is not pinned or the hub cannot be reached.
    """
    if revision is None or not _SHA.match(revision):
        raise DataError(
            f"{dataset_id}: `source: hub` needs a pinned revision, got {revision!r}. Set "
            f"hub_revision: <40-hex commit sha> in the task config (the 'Files and versions' "
            f"→ history page of https://huggingface.co/datasets/{dataset_id} lists them), "
            f"or {local_hint}."
        )
    try:
        import datasets
    except ImportError as exc:
        raise DataError(
            f"`source: hub` needs the `datasets` package: pip install 'xlbench[hf]' ({exc}); "
            f"or {local_hint}."
        ) from exc
    try:
        loaded = datasets.load_dataset(dataset_id, config_name, split=split, revision=revision)
    except Exception as exc:  # network, cache miss offline, missing config: all re-raised
        raise DataError(
            f"could not load {dataset_id} (config {config_name!r}, split {split!r}, revision "
            f"{revision}): {type(exc).__name__}: {exc}. If the hub is unreachable from this "
            f"machine, pre-download on a connected one with `huggingface-cli download "
            f"{dataset_id} --repo-type dataset --revision {revision}`, copy the cache "
            f"(HF_HOME) here and run with HF_HUB_OFFLINE=1; or {local_hint}."
        ) from exc
    names = None
    feature = getattr(loaded, "features", {}).get("label") if hasattr(loaded, "features") else None
    if feature is not None and hasattr(feature, "names"):
        names = tuple(feature.names)
    return HubSplit(rows=tuple(dict(row) for row in loaded), label_names=names)


def label_name(value: Any, names: tuple[str, ...] | None, where: str) -> str:
    """A row's label as a string: a ClassLabel index through ``names``, or the string itself."""
    if isinstance(value, str):
        return value.strip()
    if names is not None and isinstance(value, int) and 0 <= value < len(names):
        return names[value]
    raise DataError(f"{where}: label {value!r} is neither a name nor an index into {names}")
