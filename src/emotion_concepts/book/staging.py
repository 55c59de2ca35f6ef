"""Assemble the book's sources in ``_build/stage``: the prose, the primary model's executed
chapters as the chapter pages, every other model's executed chapters as pages of their own
(outside the navigation, linked from the chapter's page and from the summary), and the
generated summary of findings."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from ..errors import EmotionBookError
from ..paths import build_dir, model_slug, repo_root
from .summary import status_markdown, summary_markdown, verdicts_markdown


def _markdown_cell(cell_id: str, source: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": source}


def _insert_after_title(nb: dict, cell: dict) -> None:
    first_md = next((i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"), -1)
    nb["cells"].insert(first_md + 1, cell)


def _chapter_notebook(chapter: str, model: str, executed_path: Callable[[str, str], Path],
                      failed_ok: bool) -> dict | None:
    path = executed_path(chapter, model)
    if path.exists():
        return json.loads(path.read_text())
    failed = path.with_name(f"{chapter}.failed.ipynb")
    if failed_ok and failed.exists():
        nb = json.loads(failed.read_text())
        _insert_after_title(nb, _markdown_cell("run-failed", (
            f":::{{error}}\nThis chapter **failed** on `{model}`; below is the executed copy up to the "
            f"failing cell.\n:::")))
        return nb
    return None


def stage(models: Sequence[str], chapter_ids: Sequence[str], executed_path: Callable[[str, str], Path],
          records: list[dict], failures: dict[tuple[str, str], str]) -> Path:
    root = repo_root()
    staged = build_dir() / "stage"
    if staged.exists():
        shutil.rmtree(staged)
    shutil.copytree(root / "book", staged / "book")
    shutil.copy2(root / "_toc.yml", staged / "_toc.yml")
    config = yaml.safe_load((root / "_config.yml").read_text())
    config["only_build_toc_files"] = False  # other models' pages are built, outside the navigation
    config["exclude_patterns"] = [*config.get("exclude_patterns", []), "book/_generated/*", "**.partial.ipynb"]
    (staged / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (staged / "notebooks").mkdir()
    primary, others = models[0], list(models[1:])
    missing = []
    for chapter in chapter_ids:
        nb = _chapter_notebook(chapter, primary, executed_path, failed_ok=True)
        if nb is None:
            missing.append(chapter)
            continue
        elsewhere = {m: other for m in others
                     if (other := _chapter_notebook(chapter, m, executed_path, failed_ok=True)) is not None}
        if elsewhere:
            links = ", ".join(f"[`{m}`](models/{model_slug(m)}/{chapter}.ipynb)" for m in elsewhere)
            _insert_after_title(nb, _markdown_cell("other-models", (
                f":::{{note}}\nThis page shows the chapter run on `{primary}`. The same chapter on other "
                f"models: {links}.\n:::")))
        _write(staged / "notebooks" / f"{chapter}.ipynb", nb)
        for model, other in elsewhere.items():
            other.setdefault("metadata", {})["orphan"] = True
            _insert_after_title(other, _markdown_cell("this-model", (
                f":::{{note}}\nThis page is chapter {chapter} run on `{model}`. "
                f"[The chapter on `{primary}`](../../{chapter}.ipynb) is the book's main page for it.\n:::")))
            _write(staged / "notebooks" / "models" / model_slug(model) / f"{chapter}.ipynb",
                   _as_other_model_page(other, model))
    if missing:
        raise EmotionBookError(f"chapter(s) {', '.join(missing)} have not been run for {primary}: "
                               f"run `emotion-book run-all --model {primary}` first")
    with_records = [r for r in records if r["model"] in models]
    (staged / "book" / "_generated").mkdir(exist_ok=True)
    (staged / "book" / "_generated" / "summary.md").write_text(
        summary_markdown(with_records, list(models), failures, primary))
    (staged / "book" / "_generated" / "verdicts.md").write_text(verdicts_markdown(with_records, list(models)))
    (staged / "book" / "_generated" / "status.md").write_text(
        status_markdown(with_records, list(models), chapter_ids, failures))
    return staged


def _as_other_model_page(nb: dict, model: str) -> dict:
    """Fit another model's copy of a chapter to its place outside the navigation. Sphinx's labels
    are global, so its figures get names of their own (the same ``fig-NN-...`` on two pages is a
    duplicate label and fails the build); figures of a page outside the table of contents get no
    numbers, so its ``{numref}`` references become plain references titled "Figure"; and its
    ``{doc}`` links to other chapters, relative to ``notebooks/``, are made absolute."""
    suffix = "-" + re.sub(r"[^a-z0-9]+", "-", model_slug(model).lower()).strip("-")
    names: dict[str, str] = {}
    for cell in nb["cells"]:
        figure = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
        if cell["cell_type"] == "code" and figure.get("name"):
            names[figure["name"]] = figure["name"] + suffix
            figure["name"] = names[figure["name"]]
    numref = re.compile(r"\{numref\}`([^`<>]+)`")
    doc = re.compile(r"\{doc\}`(?:([^`<]*?)\s*<)?([^`>/]+)>?`")
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        source = numref.sub(lambda m: f"{{ref}}`Figure <{names.get(m.group(1), m.group(1))}>`", source)
        source = doc.sub(lambda m: (f"{{doc}}`{m.group(1)} </notebooks/{m.group(2)}>`" if m.group(1)
                                    else f"{{doc}}`/notebooks/{m.group(2)}`"), source)
        cell["source"] = source
    return nb


def _write(path: Path, nb: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1) + "\n")
