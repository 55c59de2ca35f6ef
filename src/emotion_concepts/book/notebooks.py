"""Chapters as jupytext sources: ``notebooks/src/<chapter>.py`` (percent format) is the
reviewed form; ``notebooks/<chapter>.ipynb`` is generated from it, without outputs and with
stable cell ids, by ``emotion-book notebooks`` (``--check`` only compares)."""

from __future__ import annotations

import json
from pathlib import Path

from ..paths import repo_root


def sources_dir() -> Path:
    return repo_root() / "notebooks" / "src"


def notebook_json(source: Path) -> str:
    """The .ipynb text for a jupytext percent source: no outputs, cell ids ``cell-NN``."""
    import jupytext

    nb = jupytext.read(source, fmt="py:percent")
    nb.metadata.pop("jupytext", None)
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
        if cell.cell_type == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def sync_notebooks(check: bool = False) -> list[Path]:
    """Regenerate every chapter notebook from its source; with ``check``, write nothing and
    return the notebooks that are out of date."""
    stale = []
    for source in sorted(sources_dir().glob("*.py")):
        target = source.parent.parent / f"{source.stem}.ipynb"
        text = notebook_json(source)
        if not target.exists() or target.read_text() != text:
            stale.append(target)
            if not check:
                target.write_text(text)
    return stale
