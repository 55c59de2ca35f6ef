"""Chapters are committed clean, in step with their jupytext sources, and follow the house
rules: one parameters cell, every code cell collapsed, every figure captioned, named and with
alt text, and the chapter skeleton's sections in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emotion_concepts.book.notebooks import notebook_json

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SKELETON = ["**Question.**", "**What failure would look like.**", "## Setup", "## Caveats", "## Record"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_is_clean_and_matches_its_source(path):
    nb = json.loads(path.read_text())
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    assert notebook_json(ROOT / "notebooks" / "src" / f"{path.stem}.py") == path.read_text(), \
        "run: .venv/bin/emotion-book notebooks"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_follows_the_house_rules(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all({"hide-input"} & set(c["metadata"].get("tags", [])) for c in code), "collapse every code cell"
    figures = [c for c in code if "figure" in c["metadata"].get("mystnb", {})]
    assert figures, "a chapter has at least one captioned figure"
    names = []
    for cell in figures:
        meta = cell["metadata"]["mystnb"]
        assert meta["figure"]["caption"] and meta["figure"]["name"].startswith("fig-")
        assert meta.get("image", {}).get("alt"), f"{meta['figure']['name']} has no alt text"
        names.append(meta["figure"]["name"])
    assert len(names) == len(set(names))
    prose = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    positions = [prose.find(marker) for marker in SKELETON]
    assert -1 not in positions and positions == sorted(positions), dict(zip(SKELETON, positions, strict=True))
    for name in names:  # the prose cites every figure by its label
        assert f"{{numref}}`{name}`" in prose, f"{name} is never referenced"


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for path in CHAPTERS:
        assert f"notebooks/{path.stem}" in toc
