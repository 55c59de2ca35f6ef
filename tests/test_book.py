"""End to end: execute every chapter (with quick parameters) on the default model, build the
book offline, and check in headless Chromium that the pages render with their figures and
that no internal link is broken."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse
from urllib.request import urlopen

import pytest

from emotion_concepts.book import runner
from emotion_concepts.book.records import read_records
from emotion_concepts.findings import CHAPTERS

pytestmark = pytest.mark.book

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


SECOND_MODEL = "smollm2-checkpoint"  # the default model's weights saved as a transformers folder
SECOND_CHAPTER = "02-geometry"
SECOND_PARAMS = {"emotions": ["happy", "sad", "afraid", "angry", "calm", "proud"], "n_neutral": 16,
                 "sweep_step": 10, "n_shuffles": 5, "n_permutations": 100}


def _checkpoint_folder(folder: Path) -> Path:
    import copy

    from transformers import AutoModelForCausalLM

    from emotion_concepts.models import load_model

    m = load_model(runner.DEFAULT_MODEL)
    config = copy.deepcopy(m.torch_module.config)  # dequantised from GGUF: save plain weights
    for key in ("quantization_config", "_pre_quantization_dtype"):
        if hasattr(config, key):
            delattr(config, key)
    plain = AutoModelForCausalLM.from_config(config, dtype=m.torch_module.dtype)
    plain.load_state_dict(m.torch_module.state_dict())
    plain.save_pretrained(folder)
    m.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    prebuilt = os.environ.get("EMOTION_BOOK_TEST_PREBUILT")
    if prebuilt:  # iterate on the rendering tests against a book built by this fixture before
        root = Path(prebuilt)
        yield root, root / "_build" / "html" / "index.html"
        return
    tmp = tmp_path_factory.mktemp("book")
    mp = pytest.MonkeyPatch()
    mp.setenv("EMOTION_BOOK_BUILD", str(tmp / "_build"))
    mp.setenv("EMOTION_BOOK_RESULTS", str(tmp / "results"))
    mp.setenv("EMOTION_BOOK_CACHE", str(tmp / "cache"))  # nothing read from an earlier run
    try:
        for chapter in runner.chapters():
            runner.run_chapter(chapter, params=CHAPTERS[chapter].quick, progress=False)
        # a second model, given as a local checkpoint folder, with one chapter run on it (smaller
        # still than the quick run): the book shows it in its own column and on its own page
        folder = _checkpoint_folder(tmp / SECOND_MODEL)
        runner.run_chapter(SECOND_CHAPTER, model=str(folder), params=SECOND_PARAMS, progress=False)
        index = runner.build_book([runner.DEFAULT_MODEL, str(folder)])
        yield tmp, index
    finally:
        mp.undo()


def test_chapter_records(built):
    tmp, _ = built
    rec = json.loads((tmp / "results" / "smollm2-135m-instruct" / "01-emotion-vectors.json").read_text())
    m = rec["metrics"]
    assert not CHAPTERS["01-emotion-vectors"].missing_metrics(m)
    assert m["n_emotions"] == 12 and m["n_voices"] == 5 and m["chance_top1"] == pytest.approx(1 / 12)
    assert m["reference"] in ("train", "neutral", "own") and 0 <= m["layer"] < 30
    # real behaviour of the default model: texts in a voice the vectors never saw are matched to
    # their emotion more often than by vectors built from shuffled labels
    assert m["lovo_top1"] > m["lovo_shuffled_top1_p95"]
    assert rec["run"]["overrides"]["n_neutral"] == 48  # the quick run is recorded as such


def test_chapter_01_dry_runs_through_the_ndif_simulation(built, tmp_path, monkeypatch):
    """`--remote local` runs every trace of the chapter through nnsight's NDIF simulation; the
    record's numbers equal the local run's."""
    tmp, _ = built
    monkeypatch.setenv("EMOTION_BOOK_BUILD", str(tmp_path / "_build"))
    monkeypatch.setenv("EMOTION_BOOK_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("EMOTION_BOOK_CACHE", str(tmp_path / "cache"))  # no activations from the local run
    runner.run_chapter("01-emotion-vectors", remote="local", params=CHAPTERS["01-emotion-vectors"].quick,
                       progress=False)
    local = json.loads((tmp / "results" / "smollm2-135m-instruct" / "01-emotion-vectors.json").read_text())
    remote = json.loads((tmp_path / "results" / "smollm2-135m-instruct" / "01-emotion-vectors.json").read_text())
    assert remote["run"]["remote"] == "local" and remote["params"]["remote"] == "local"
    assert remote["metrics"].keys() == local["metrics"].keys()
    for key, value in local["metrics"].items():
        if key == "n_traces":  # the lens reads weights here but traces (one request per layer) remotely
            assert remote["metrics"][key] == value + 2
        elif isinstance(value, dict):  # per-voice numbers
            for voice, stats in value.items():
                assert remote["metrics"][key][voice] == pytest.approx(stats, abs=1e-6), (key, voice)
        else:
            assert remote["metrics"][key] == pytest.approx(value, abs=1e-6), key


def _internal_links(html_root: Path) -> list[tuple[Path, str]]:
    out = []
    for page in html_root.rglob("*.html"):
        if page.relative_to(html_root).parts[0] in ("_static", "_sources"):  # theme templates
            continue
        for href in re.findall(r'(?:href|src)="([^"#?]+)', page.read_text(errors="ignore")):
            if not re.match(r"^[a-z]+:", href):
                out.append((page, href))
    return out


def test_no_broken_internal_links(built):
    _, index = built
    root = index.parent
    broken = [(str(p.relative_to(root)), h) for p, h in _internal_links(root)
              if not (p.parent / h).resolve().exists()]
    assert not broken, broken[:10]


@pytest.fixture(scope="module")
def server(built):
    _, index = built
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(index.parent))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def _visit(browser, url):
    page = browser.new_page()
    failed, errors = [], []
    page.on("requestfailed", lambda r: failed.append(r.url))
    # the browser's own favicon probe is not a link of the book
    page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico")
            and failed.append(f"{r.status} {r.url}"))
    # a failed load is also a console error; those are checked above with their addresses
    page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
            and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="networkidle")
    return page, failed, errors


def _undo_smartquotes(text: str) -> str:
    return text.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                                         "\u2026": "...", "\u2013": "--", "\u2014": "---"}))


def test_intro_renders_with_summary_table(built, browser, server):
    page, failed, errors = _visit(browser, server)
    assert page.url.endswith("book/intro.html")
    assert "Emotion concepts" in page.title()
    table = page.locator("table").first
    text = table.inner_text()
    assert "smollm2-135m-instruct" in text and "01-emotion-vectors" in text
    # Sphinx's smartquotes turn ' " ... -- into typographic characters; compare the plain text
    rows = [_undo_smartquotes(r) for r in table.locator("tbody tr").all_inner_texts()]
    claims = [claim for chapter in CHAPTERS.values() for claim in chapter.claims]
    assert len(rows) == len(claims)  # one row per claim
    records = {r["chapter"]: r for r in read_records(built[0] / "results") if r["model"] == runner.DEFAULT_MODEL}
    chapter_of = {id(claim): c.id for c in CHAPTERS.values() for claim in c.claims}
    for row, claim in zip(rows, claims, strict=True):
        assert _undo_smartquotes(claim.finding.split(":")[0][:25]) in row
        metrics = records[chapter_of[id(claim)]]["metrics"]
        cell = _undo_smartquotes(claim.cell(metrics))
        assert cell in row, (cell, row)  # our number and its control, as recorded
    assert "partial" in text  # quick runs are marked as such
    assert not failed and not errors, (failed, errors)
    page.close()


def _figure_cells(chapter: str) -> int:
    nb = json.loads((runner.notebooks_dir() / f"{chapter}.ipynb").read_text())
    return sum("figure" in c["metadata"].get("mystnb", {}) for c in nb["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_chapter_pages_render_their_figures(browser, server, chapter):
    page, failed, errors = _visit(browser, urljoin(server, f"notebooks/{chapter}.html"))
    assert page.locator("article h1").first.is_visible()
    figures = page.locator("article figure")
    assert figures.count() == _figure_cells(chapter) > 0  # every captioned figure, numbered
    captions = figures.locator("figcaption").all_inner_texts()
    assert all(re.match(r"Fig\. \d+", c.strip()) for c in captions), captions
    sizes = figures.locator("img").evaluate_all("els => els.map(e => [e.complete, e.naturalWidth, e.alt])")
    assert len(sizes) == len(captions) and all(done and width > 0 and alt for done, width, alt in sizes), sizes
    assert "Parameters of this build" in page.locator("article").inner_text()
    # every internal link on the page resolves on the server
    hrefs = page.locator("a[href]").evaluate_all("els => els.map(e => e.href)")
    for href in {h.split("#")[0] for h in hrefs if urlparse(h).hostname == "127.0.0.1"}:
        with urlopen(href) as resp:
            assert resp.status == 200, href
    assert not failed and not errors, (failed, errors)
    page.close()


def test_a_second_model_has_its_column_and_its_own_pages(built, browser, server):
    """The second model's column: its one chapter is a partial run, marked so and linked to its
    own page; the chapters it did not run say so. Its page renders every figure, under figure
    names of its own (a repeated Sphinx label would have failed the build)."""
    page, failed, errors = _visit(browser, server)
    table = page.locator("table").first
    header = table.locator("thead").inner_text()
    assert runner.DEFAULT_MODEL in header and SECOND_MODEL in header
    rows = [_undo_smartquotes(r) for r in table.locator("tbody tr").all_inner_texts()]
    second = [r for r in rows if r.startswith(SECOND_CHAPTER)]
    assert second and all("partial" in r for r in second)
    assert all("not run" in r for r in rows if r.startswith("01-emotion-vectors"))
    link = table.locator(f"a[href*='models/{SECOND_MODEL}/{SECOND_CHAPTER}']").first
    assert link.count() == 1
    page.close()
    page, failed2, errors2 = _visit(browser, urljoin(server, f"notebooks/models/{SECOND_MODEL}/{SECOND_CHAPTER}.html"))
    figures = page.locator("article figure")
    assert figures.count() == _figure_cells(SECOND_CHAPTER) > 0
    assert SECOND_MODEL in page.locator("article").inner_text()
    ids = page.locator("article figure").evaluate_all("els => els.map(e => e.id)")
    assert all(i.endswith(SECOND_MODEL) for i in ids), ids
    assert not (failed + failed2) and not (errors + errors2), (failed, failed2, errors, errors2)
    page.close()
