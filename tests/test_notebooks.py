"""Chapters are committed clean and in step with their reviewable sources."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _nbgen():
    spec = importlib.util.spec_from_file_location("nbgen", ROOT / "tools" / "nbgen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_is_clean_and_matches_its_source(path, tmp_path):
    nb = json.loads(path.read_text())
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    regenerated = tmp_path / path.name
    _nbgen().main(str(ROOT / "notebooks" / "src" / f"{path.stem}.py"), str(regenerated))
    hint = f"run: python tools/nbgen.py notebooks/src/{path.stem}.py {path}"
    assert regenerated.read_text() == path.read_text(), hint


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for path in CHAPTERS:
        assert f"notebooks/{path.stem}" in toc
