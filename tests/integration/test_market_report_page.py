"""The market report page (`lodeline market report`, `reports.market_report`): a table of contents whose links all
land on a section, plotly.js embedded once (compressed) and the whole page under 3 MB.

Before issue 12 the same store gave a 6.1 MB page (plotly.js 4.8 MB, and plotly's default template repeated in
each of its 139 figures); the bound is what a reader on a slow link or a mail attachment limit can take.
"""

from __future__ import annotations

import base64
import gzip
import json
import re

import pytest
from plotly.offline import get_plotlyjs
from sqlalchemy import Engine

from lodeline.reports.market_report import anchor, write_market_report
from lodeline.services import market as svc

MAX_BYTES = 3_000_000


@pytest.fixture(scope="module")
def report(built_sqlite: tuple[str, Engine], tmp_path_factory: pytest.TempPathFactory) -> str:
    out = write_market_report(built_sqlite[1], tmp_path_factory.mktemp("report") / "report.html")
    return out.read_text(encoding="utf-8")


def test_the_page_is_under_3_mb(report: str) -> None:
    assert len(report.encode("utf-8")) < MAX_BYTES


def test_plotly_js_is_embedded_once_and_unpacks_to_the_library(report: str) -> None:
    blobs = re.findall(r'<script type="text/plain" id="plotlyjs-gzip-base64">([^<]+)</script>', report)
    assert len(blobs) == 1
    assert gzip.decompress(base64.b64decode(blobs[0])) == get_plotlyjs().encode("utf-8")
    # No figure carries its own copy of the library or of the default template.
    specs = re.findall(r'<figure class="fig"[^>]*><script type="application/json">(.*?)</script>', report)
    assert len(specs) > 100
    assert all("template" not in json.loads(s)["layout"] for s in specs)
    assert report.count('id="plotly-template"') == 1


def test_every_contents_link_lands_on_one_section(report: str, built_sqlite: tuple[str, Engine]) -> None:
    toc = re.search(r'<nav class="toc".*?</nav>', report, re.S)
    assert toc is not None
    targets = re.findall(r'href="#([^"]+)"', toc.group(0))
    ids = re.findall(r'\bid="([^"]+)"', report)
    assert targets and all(ids.count(t) == 1 for t in targets), [t for t in targets if ids.count(t) != 1]
    sections = re.findall(r'<section id="([^"]+)"', report)
    assert targets == sections  # every section listed, in page order
    names = svc.minerals_overview(built_sqlite[1], "G7+").frame["name"].to_list()
    assert targets == [anchor("Overview"), *[anchor(n) for n in names]]


def test_anchor_is_a_plain_fragment() -> None:
    assert anchor("Rare earths (magnets)") == "s-rare-earths-magnets"
    assert anchor("…") == "s-section"
