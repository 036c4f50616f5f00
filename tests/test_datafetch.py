"""``xlbench data fetch`` offline: archives the tests build, served from file:// URLs."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from bench.cli import main
from bench.datafetch import FOLDERS, Pinned, build_manifest, fetch, load_manifest, lookup, sha256
from bench.errors import DataError, UnknownNameError
from tests.realdata import REAL, real, write_nusax

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def make_archive(src: Path, pinned: Pinned, host: Path, extra: bool = True, level: int = 1) -> Path:
    """A GitHub-style archive of ``src``: ``<repo>-<commit>/...`` at host/OWNER/REPO/archive/COMMIT.tar.gz."""
    path = host / pinned.repo / "archive" / f"{pinned.commit}.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    top = f"{pinned.repo.split('/')[1]}-{pinned.commit}"
    with tarfile.open(path, "w:gz", compresslevel=level) as tar:
        for rel in sorted(pinned.files):
            tar.add(src / rel, arcname=f"{top}/{rel}")
        if extra:  # upstream repos hold code too: only the pinned files are extracted
            blob = b"print('upstream code')\n"
            info = tarfile.TarInfo(f"{top}/scripts/train.py")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return path


def fixture_pins(tmp_path: Path) -> tuple[Path, dict[str, Pinned]]:
    """A NusaX-layout folder the test writes, with its own pins (the real ones do not match it)."""
    src = tmp_path / "src"
    write_nusax(src)
    (src / "nusax" / "SOURCE.txt").write_text(f"upstream: https://github.com/IndoNLP/nusax\ncommit: {COMMIT}\n")
    raw = build_manifest(src, {"nusax": "nusax"})
    return src / "nusax", {name: Pinned(name=name, **entry) for name, entry in raw.items()}


def leftovers(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.iterdir()) if data_dir.exists() else []


def test_fetch_round_trip_on_written_files(tmp_path):
    src, pins = fixture_pins(tmp_path)
    make_archive(src, pins["nusax"], tmp_path / "host")
    data = tmp_path / "data"
    (dest,) = fetch("nusax", data, base_url=(tmp_path / "host").as_uri(), manifest=pins, out=lambda _: None)
    assert dest == data / "nusax" and leftovers(data) == ["nusax"]
    assert not (dest / "scripts").exists()  # only the pinned files
    for rel, digest in pins["nusax"].files.items():
        assert sha256(dest / rel) == digest
    assert f"commit: {COMMIT}" in (dest / "SOURCE.txt").read_text()
    from tasks.nusax import NusaX

    NusaX(NusaX.Config(target_langs=("javanese",)), data).validate()
    # a second fetch finds it verified and changes nothing
    assert fetch("nusax", data, base_url="file:///nowhere", manifest=pins, out=lambda _: None) == [dest]


@pytest.mark.fault(area="data", case="fetched archive has a file whose sha256 differs from the pin",
                   behaviour="exit 2, nothing left in the data folder")
def test_corrupted_archive_is_refused_and_leaves_nothing(tmp_path):
    src, pins = fixture_pins(tmp_path)
    victim = src / "datasets" / "sentiment" / "javanese" / "test.csv"
    victim.write_text(victim.read_text().replace("positive", "negative", 1))  # one changed word
    make_archive(src, pins["nusax"], tmp_path / "host")
    data = tmp_path / "data"
    with pytest.raises(DataError, match=r"javanese/test.csv: sha256 .* pinned"):
        fetch("nusax", data, base_url=(tmp_path / "host").as_uri(), manifest=pins, out=lambda _: None)
    assert leftovers(data) == []


@pytest.mark.fault(area="data", case="download cut short (truncated .tar.gz)", behaviour="exit 2, nothing left")
def test_truncated_archive_is_refused_and_leaves_nothing(tmp_path):
    src, pins = fixture_pins(tmp_path)
    path = make_archive(src, pins["nusax"], tmp_path / "host")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    data = tmp_path / "data"
    with pytest.raises(DataError, match="not a complete .tar.gz archive|missing"):
        fetch("nusax", data, base_url=(tmp_path / "host").as_uri(), manifest=pins, out=lambda _: None)
    assert leftovers(data) == []


@pytest.mark.fault(area="data", case="fetch into a folder that holds other files", behaviour="exit 2, folder untouched")
def test_existing_mismatching_folder_is_not_touched(tmp_path):
    src, pins = fixture_pins(tmp_path)
    make_archive(src, pins["nusax"], tmp_path / "host")
    data = tmp_path / "data"
    (data / "nusax").mkdir(parents=True)
    (data / "nusax" / "mine.txt").write_text("keep")
    with pytest.raises(DataError, match="exists but does not match"):
        fetch("nusax", data, base_url=(tmp_path / "host").as_uri(), manifest=pins, out=lambda _: None)
    assert leftovers(data / "nusax") == ["mine.txt"]


def test_pinned_manifest_matches_source_txt_and_names():
    pins = load_manifest()
    assert set(pins) == set(FOLDERS.values())
    assert lookup("sib-200").name == "sib200" and lookup("masakhanews").folder == "masakhane-news"
    with pytest.raises(UnknownNameError, match="Did you mean 'nusax'?"):
        lookup("nusa")
    for pinned in pins.values():
        assert len(pinned.commit) == 40 and pinned.files
        source = REAL / pinned.folder / "SOURCE.txt"
        if source.is_file():
            text = source.read_text()
            assert f"commit: {pinned.commit}" in text and f"files: {len(pinned.files)}" in text


@pytest.mark.fault(area="preflight", case="real suite run without its data", behaviour="exit 2 with a `data fetch` hint")
def test_preflight_hints_data_fetch_when_data_is_missing(tmp_path, capsys):
    code = main(["run", "--suite", "nusax-inlang", "--data-dir", str(tmp_path / "empty"),
                 "--results-dir", str(tmp_path / "r")])
    assert code == 2
    assert "xlbench data fetch nusax --data-dir DIR" in capsys.readouterr().err


def _real_round_trip(tmp_path: Path, names: list[str], suite: str) -> None:
    pins = load_manifest()
    for name in names:
        make_archive(real(pins[name].folder) / pins[name].folder, pins[name], tmp_path / "host", extra=False)
    data = tmp_path / "data"
    code = main(["data", "fetch", *names, "--data-dir", str(data), "--base-url", (tmp_path / "host").as_uri()])
    assert code == 0 and leftovers(data) == sorted(pins[n].folder for n in names)
    from bench.runner import prepare
    from bench.suite import load_suite

    prepared = prepare(load_suite(suite), tmp_path / "results", data)  # the real suite's preflight
    assert prepared.cells


def test_fetch_from_an_archive_of_the_real_data_passes_the_real_preflight(tmp_path):
    _real_round_trip(tmp_path, ["nusax"], "nusax-inlang")


def test_fetch_all_then_real_cpu_preflight(tmp_path):
    """All four datasets (17 s on an idle 2-core machine, 100 s at load 17)."""
    _real_round_trip(tmp_path, ["sib200", "nusax", "masakhanews", "xquad"], "real-cpu")


@pytest.mark.fault(area="data", case="`data fetch` of a corrupted real archive", behaviour="exit 2, nothing left")
def test_cli_refuses_a_corrupted_real_archive(tmp_path, capsys):
    pins = load_manifest()
    src = real("nusax") / "nusax"
    path = make_archive(src, pins["nusax"], tmp_path / "host", extra=False)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte in the compressed stream
    path.write_bytes(bytes(raw))
    data = tmp_path / "data"
    assert main(["data", "fetch", "nusax", "--data-dir", str(data), "--base-url", (tmp_path / "host").as_uri()]) == 2
    assert "nothing was written" in capsys.readouterr().err.lower()
    assert leftovers(data) == []
