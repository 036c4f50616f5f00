"""The rendered index.html in a real headless browser (Debian's chromium).

Skips with the reason when chromium is not installed (``apt-get install -y chromium``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from report_fixture import load_fixture

from bench.report import render
from bench.report.writer import Options

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]
CHECK = """<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  const div = document.createElement("div");
  div.id = "img-check";
  div.textContent = `images ${ok}/${imgs.length} tables ${document.querySelectorAll("table").length}`;
  document.body.appendChild(div);
});
</script></body>"""


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: "
                    "`apt-get update && apt-get install -y chromium`); page not browser-tested")
def test_index_html_opens_from_disk_with_every_image(tmp_path: Path) -> None:
    out = tmp_path / "report"
    render(load_fixture(), out, Options(boot=100))
    page = (out / "index.html").read_text(encoding="utf-8")
    n_img = page.count("<img ")
    probe = out / "probe.html"  # the same page plus a script that reports image loading
    probe.write_text(page.replace("</body>", CHECK), encoding="utf-8")
    dom = _chromium(["--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                    tmp_path / "profile-dom")
    found = re.search(r'id="img-check">images (\d+)/(\d+) tables (\d+)<', dom.stdout)
    assert found, f"no marker in the DOM; chromium said:\n{dom.stderr[-2000:]}"
    ok, total, tables = map(int, found.groups())
    assert total == n_img == 5 and ok == total, f"{ok}/{total} images decoded"
    assert tables >= 6
    shot = tmp_path / "screenshot.png"
    _chromium([f"--screenshot={shot}", "--window-size=1200,2400", (out / "index.html").as_uri()],
              tmp_path / "profile-shot")
    assert shot.exists() and shot.stat().st_size > 20_000  # a rendered page, not a blank
