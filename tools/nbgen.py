"""Write a chapter notebook (without outputs) from a plain-text source.

The source uses cell markers: lines '# %% [markdown]', '# %%' (code) and
'# %% [parameters]' (the papermill parameters cell). Usage:
    python tools/nbgen.py notebooks/src/01-emotion-vectors.py notebooks/01-emotion-vectors.ipynb
Keeping the chapter's source as a .py file makes diffs reviewable; the .ipynb is what
papermill and Jupyter Book consume.
"""

import json
import re
import sys
from pathlib import Path


def cells_from(source: str) -> list[dict]:
    parts = re.split(r"^# %%(.*)$", source, flags=re.M)
    cells = []
    for header, body in zip(parts[1::2], parts[2::2], strict=True):
        kind = header.strip()
        text = body.strip("\n")
        meta: dict = {}
        if kind == "[markdown]":
            lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in text.splitlines()]
            cells.append({"cell_type": "markdown", "metadata": meta, "source": _src("\n".join(lines))})
            continue
        if kind == "[parameters]":
            meta = {"tags": ["parameters"]}
        elif kind.startswith("[tags="):
            meta = {"tags": kind[6:-1].split(",")}
        cells.append({"cell_type": "code", "execution_count": None, "metadata": meta,
                      "outputs": [], "source": _src(text)})
    return cells


def _src(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    return lines


def main(src: str, dst: str) -> None:
    nb = {"cells": cells_from(Path(src).read_text()),
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                       "language_info": {"name": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i:02d}"
    Path(dst).write_text(json.dumps(nb, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
