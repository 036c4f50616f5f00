"""``xlbench data fetch NAME``: the real datasets in one command, verified, never half-written.

Each built-in dataset names its upstream repository and the commit its files were taken
from; ``bench/datasets.json`` pins both and the sha256 of every data file (computed from
the copies the benchmark was developed on: :func:`build_manifest`). :func:`fetch`
downloads ``https://github.com/OWNER/REPO/archive/COMMIT.tar.gz`` (another host with
``--base-url`` or ``$XLBENCH_FETCH_URL``; ``file://`` works, which is how the tests run
offline), extracts only the pinned files into a temporary folder beside the destination,
checks every hash, writes ``SOURCE.txt`` and then renames the folder into place, so a cut
download, a corrupt archive or one wrong byte leaves nothing behind. Costs one download
and one pass over the files; no network anywhere else in xlbench.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from bench.errors import DataError, UnknownNameError

MANIFEST = Path(__file__).with_name("datasets.json")
DEFAULT_BASE = "https://github.com"
ENV_BASE = "XLBENCH_FETCH_URL"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Pinned:
    """One dataset: its folder, upstream ``owner/repo`` at ``commit``, and its files' hashes."""

    name: str  # the fetch name (the built-in task's), e.g. "sib200"
    folder: str  # the folder under the data directory, e.g. "sib-200"
    repo: str  # "owner/repo" on GitHub
    commit: str
    licence: str
    files: Mapping[str, str]  # upstream path -> sha256

    def url(self, base: str) -> str:
        return f"{base.rstrip('/')}/{self.repo}/archive/{self.commit}.tar.gz"


def load_manifest(path: Path = MANIFEST) -> dict[str, Pinned]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {name: Pinned(name=name, **entry) for name, entry in raw.items()}


def lookup(name: str, manifest: Mapping[str, Pinned] | None = None) -> Pinned:
    """A dataset by fetch name or folder name; UnknownNameError with the valid names."""
    table = dict(manifest) if manifest is not None else load_manifest()
    for pinned in table.values():
        if name in (pinned.name, pinned.folder):
            return pinned
    import difflib

    names = sorted(table)
    close = difflib.get_close_matches(name, sorted(set(names) | {p.folder for p in table.values()}), n=2)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise UnknownNameError(f"unknown dataset {name!r}.{hint} Datasets: {', '.join(names)} (or 'all').")


def hint(folder: str) -> str:
    """The preflight hint for a missing dataset folder ('' when it is not a pinned dataset)."""
    try:
        pinned = next((p for p in load_manifest().values() if p.folder == folder), None)
    except (OSError, ValueError):
        return ""
    if pinned is None:
        return ""
    return (f" With internet: `xlbench data fetch {pinned.name} --data-dir DIR` downloads it "
            f"(github.com/{pinned.repo} at {pinned.commit[:12]}, every file checked against its pinned sha256).")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(folder: Path, pinned: Pinned) -> list[str]:
    """Every problem with ``folder`` against the pins: missing files and wrong hashes."""
    problems = []
    for rel, expected in sorted(pinned.files.items()):
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif (got := sha256(path)) != expected:
            problems.append(f"{rel}: sha256 {got[:16]}…, pinned {expected[:16]}…")
    return problems


def fetch(
    name: str,
    data_dir: Path,
    base_url: str | None = None,
    manifest: Mapping[str, Pinned] | None = None,
    out: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> list[Path]:
    """Download, verify and install one dataset (or ``all``) under ``data_dir``."""
    table = dict(manifest) if manifest is not None else load_manifest()
    chosen = list(table.values()) if name == "all" else [lookup(name, table)]
    base = base_url or os.environ.get(ENV_BASE) or DEFAULT_BASE
    return [_fetch_one(pinned, data_dir, base, out) for pinned in chosen]


def _fetch_one(pinned: Pinned, data_dir: Path, base: str, out: Callable[[str], None]) -> Path:
    dest = data_dir / pinned.folder
    if dest.exists():
        problems = verify(dest, pinned)
        if not problems:
            out(f"{pinned.name}: {dest} is already there and matches every pinned sha256")
            return dest
        raise DataError(f"{dest} exists but does not match the pinned files ({len(problems)} problem(s), e.g. "
                        f"{'; '.join(problems[:3])}). Move it away and rerun `xlbench data fetch {pinned.name}`.")
    data_dir.mkdir(parents=True, exist_ok=True)
    url = pinned.url(base)
    tmp = Path(tempfile.mkdtemp(prefix=f".{pinned.folder}.partial-", dir=data_dir))
    try:
        archive = tmp / "archive.tar.gz"
        out(f"{pinned.name}: downloading {url}")
        _download(url, archive)
        tree = tmp / pinned.folder
        _extract(archive, tree, pinned, url)
        archive.unlink()
        problems = verify(tree, pinned)
        if problems:
            missing = sum(p.endswith(": missing") for p in problems)
            why = (f"the archive lacks {missing} pinned file(s) (a cut or corrupt download, or another commit)"
                   if missing else f"{len(problems)} file(s) do not match their pinned sha256")
            raise DataError(f"{url}: {why}: {'; '.join(problems[:5])}. Nothing was written under {data_dir}; "
                            f"rerun the command.")
        (tree / "SOURCE.txt").write_text(
            f"upstream: https://github.com/{pinned.repo}\ncommit: {pinned.commit}\nlicence: {pinned.licence}\n"
            f"layout: paths below this folder are the upstream repository's own paths\n"
            f"fetched: {url}\nfiles: {len(pinned.files)}\n", encoding="utf-8")
        os.replace(tree, dest)  # one rename: the folder appears whole or not at all
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out(f"{pinned.name}: {len(pinned.files)} files verified -> {dest}")
    return dest


def _download(url: str, path: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response, path.open("wb") as handle:
            expected = response.headers.get("Content-Length")
            shutil.copyfileobj(response, handle, _CHUNK)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DataError(f"could not download {url} ({exc}). Check the network (or --base-url / "
                        f"${ENV_BASE}); nothing was written.") from exc
    if expected is not None and path.stat().st_size != int(expected):
        raise DataError(f"{url}: download cut short ({path.stat().st_size} of {expected} bytes); "
                        f"nothing was written. Rerun the command.")


def _extract(archive: Path, tree: Path, pinned: Pinned, url: str) -> None:
    """The pinned files of a GitHub archive (one top folder, ``repo-commit/``) into ``tree``."""
    wanted = set(pinned.files)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                top, _, rel = member.name.partition("/")
                if not member.isfile() or rel not in wanted:
                    continue
                source = tar.extractfile(member)
                if source is None:
                    continue
                target = tree / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with source, target.open("wb") as handle:
                    shutil.copyfileobj(source, handle, _CHUNK)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DataError(f"{url}: not a complete .tar.gz archive ({type(exc).__name__}: {exc}); "
                        f"nothing was written. Rerun the command (a download may have been cut).") from exc


def build_manifest(data_root: Path, names: Mapping[str, str]) -> dict[str, Any]:
    """The pins of every dataset folder under ``data_root`` (folder -> fetch name in ``names``),
    read from its ``SOURCE.txt`` and files. Run once by a maintainer; the result is committed."""
    out: dict[str, Any] = {}
    for folder, name in names.items():
        base = data_root / folder
        source = dict(line.split(": ", 1) for line in (base / "SOURCE.txt").read_text().splitlines() if ": " in line)
        repo = source["upstream"].removeprefix("https://github.com/").strip("/")
        files = {p.relative_to(base).as_posix(): sha256(p) for p in sorted(base.rglob("*"))
                 if p.is_file() and p.name != "SOURCE.txt"}
        out[name] = {"folder": folder, "repo": repo, "commit": source["commit"].strip(),
                     "licence": source.get("licence", "").strip(), "files": files}
    return out


#: fetch name (the built-in task's) of each dataset folder.
FOLDERS = {"sib-200": "sib200", "nusax": "nusax", "masakhane-news": "masakhanews", "xquad": "xquad"}

if __name__ == "__main__":  # python -m bench.datafetch DATA_ROOT: rewrite the pins
    MANIFEST.write_text(json.dumps(build_manifest(Path(sys.argv[1]), FOLDERS), indent=1, sort_keys=True) + "\n")
