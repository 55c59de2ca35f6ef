"""Staging the book for several models: the first model's chapters are the chapter pages, every
other model's executed chapters become pages of their own (outside the navigation, linked from
the chapter page), a failed chapter shows as failed, and the summary has one column per model."""

from __future__ import annotations

import json

import yaml

from emotion_concepts.book import runner
from emotion_concepts.findings import CHAPTERS


def _notebook(title: str) -> dict:
    return {"cells": [{"cell_type": "markdown", "id": "t", "metadata": {}, "source": f"# {title}"}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_two_models_are_staged_with_their_own_pages(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION_BOOK_BUILD", str(tmp_path / "_build"))
    monkeypatch.setenv("EMOTION_BOOK_RESULTS", str(tmp_path / "results"))
    chapters = runner.chapters()
    for model in ("main-model", "org/other"):
        for chapter in chapters:
            path = runner.executed_path(chapter, model)
            path.parent.mkdir(parents=True, exist_ok=True)
            if model == "org/other" and chapter == chapters[-1]:
                path.with_name(f"{chapter}.failed.ipynb").write_text(json.dumps(_notebook(chapter)))
            else:
                path.write_text(json.dumps(_notebook(chapter)))
    failures = {(chapters[-1], "org/other"): "cell 3 raised OSError: disk full"}
    (tmp_path / "_build" / "executed" / "failures.json").write_text(json.dumps(
        [{"chapter": c, "model": m, "why": w} for (c, m), w in failures.items()]))
    stage = runner.stage_book(["main-model", "org/other"])
    main = json.loads((stage / "notebooks" / f"{chapters[0]}.ipynb").read_text())
    note = "".join(c["source"] for c in main["cells"] if c.get("id") == "other-models")
    assert f"models/org--other/{chapters[0]}.ipynb" in note
    other = json.loads((stage / "notebooks" / "models" / "org--other" / f"{chapters[0]}.ipynb").read_text())
    assert other["metadata"]["orphan"] is True  # built, but outside the navigation
    failed = json.loads((stage / "notebooks" / "models" / "org--other" / f"{chapters[-1]}.ipynb").read_text())
    assert any("failed" in "".join(c["source"]) for c in failed["cells"])
    summary = (stage / "book" / "_generated" / "summary.md").read_text()
    header = summary.splitlines()[0]
    assert "`main-model`" in header and "`org/other`" in header
    assert "**failed**: cell 3 raised OSError: disk full" in summary
    rows = [r for r in summary.splitlines()[2:] if r.startswith("| {doc}")]
    assert len(rows) == sum(len(c.claims) for c in CHAPTERS.values())
    config = yaml.safe_load((stage / "_config.yml").read_text())
    assert config["only_build_toc_files"] is False and "book/_generated/*" in config["exclude_patterns"]
    toc = (stage / "_toc.yml").read_text()
    assert "models/" not in toc  # one navigation entry per chapter


def test_other_models_pages_get_figure_labels_of_their_own(tmp_path, monkeypatch):
    """Sphinx's labels are global: another model's copy of a chapter must not repeat the main
    page's figure names, and its references must follow the new names."""
    monkeypatch.setenv("EMOTION_BOOK_BUILD", str(tmp_path / "_build"))
    monkeypatch.setenv("EMOTION_BOOK_RESULTS", str(tmp_path / "results"))
    chapters = runner.chapters()

    def with_figure() -> dict:
        nb = _notebook("chapter")
        nb["cells"] += [
            {"cell_type": "markdown", "id": "m", "metadata": {},
             "source": "See {numref}`fig-02-pca` and {numref}`fig-02-pca-layers`; {doc}`01-emotion-vectors` "
                       "and {doc}`chapter 8 <08-blackmail>`."},
            {"cell_type": "code", "id": "c", "metadata": {"mystnb": {"figure": {"name": "fig-02-pca"}}},
             "source": "", "outputs": [], "execution_count": None},
            {"cell_type": "code", "id": "d", "metadata": {"mystnb": {"figure": {"name": "fig-02-pca-layers"}}},
             "source": "", "outputs": [], "execution_count": None}]
        return nb

    for model in ("main-model", "org/Other.v2"):
        for chapter in chapters:
            path = runner.executed_path(chapter, model)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(with_figure()))
    stage = runner.stage_book(["main-model", "org/Other.v2"])
    main = json.loads((stage / "notebooks" / f"{chapters[0]}.ipynb").read_text())
    other = json.loads((stage / "notebooks" / "models" / "org--Other.v2" / f"{chapters[0]}.ipynb").read_text())
    figure_names = [[c["metadata"]["mystnb"]["figure"]["name"] for c in nb["cells"] if c["cell_type"] == "code"]
                    for nb in (main, other)]
    assert figure_names == [["fig-02-pca", "fig-02-pca-layers"],
                            ["fig-02-pca-org-other-v2", "fig-02-pca-layers-org-other-v2"]]
    text = next(c["source"] for c in other["cells"] if c["id"] == "m")
    # pages outside the table of contents have no figure numbers: plain references, titled
    assert text == ("See {ref}`Figure <fig-02-pca-org-other-v2>` and {ref}`Figure <fig-02-pca-layers-org-other-v2>`; "
                    "{doc}`/notebooks/01-emotion-vectors` and {doc}`chapter 8 </notebooks/08-blackmail>`.")
    main_text = next(c["source"] for c in main["cells"] if c["id"] == "m")
    assert main_text.startswith("See {numref}`fig-02-pca` and")  # the main page is left alone
