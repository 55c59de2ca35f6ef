"""Finding 3: emotion vectors follow the quantity in a numerical template (chapter 04).

The steps: load the templates (``load_intensity``: one user message with a number in it, the
values it takes, the paper's expected direction for some emotions, and a control with the same
numbers and nothing at stake); render each value's message in the chat template and read it at
the Assistant's first token (``implicit_scenarios.assistant_prompts``); score one template's
messages together against the book's vectors (``template_scores``); correlate each expected
emotion's score with the quantity (Spearman, with a permutation p-value:
``spearman_permutation``), for the template and its control (``trend_table``); and, at every
layer, the contrast between the high and the low dose of the paper's second Tylenol message
(``layer_contrast``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..corpus.stories import emotions
from ..errors import DataError, ParameterError
from ..paths import data_dir
from .base import Chapter, Claim, Param
from .emotion_vectors import REFERENCES, SettledVectors

MIN_VALUES = 8
DIRECTIONS = {"up": 1, "down": -1}


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class IntensityTemplate:
    """A user message with a quantity ``{x}``, the values it takes, the paper's expected direction
    ("up" or "down" as the quantity rises) for some emotions, and a control message with the
    same numbers and nothing at stake."""

    id: str
    quantity: str
    message: str
    control: str
    values: tuple[float, ...]
    expected: dict[str, str]

    def messages(self, control: bool = False) -> list[str]:
        text = self.control if control else self.message
        return [text.format(x=format_value(v)) for v in self.values]


@dataclass(frozen=True)
class LayerContrast:
    """The paper's layer analysis: one message at two values (``low``, ``high``) of a quantity,
    read at every layer; ``values`` are the messages scored together (the reference set)."""

    id: str
    message: str
    control: str
    values: tuple[float, ...]
    low: float
    high: float
    emotions: tuple[str, ...]

    def messages(self, control: bool = False) -> list[str]:
        text = self.control if control else self.message
        return [text.format(x=format_value(v)) for v in self.values]


def format_value(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def intensity_path() -> Path:
    return data_dir() / "scenarios" / "intensity.json"


def _check_text(where: str, text: str) -> None:
    if text.count("{x}") != 1 or text.replace("{x}", "").count("{") or text.replace("{x}", "").count("}"):
        raise DataError(f"{where}: a template needs exactly one '{{x}}' and no other braces: {text!r}")


def load_intensity(path: Path | None = None) -> tuple[list[IntensityTemplate], LayerContrast]:
    """The templates and the layer contrast. Raises ``DataError`` for a missing or malformed
    file: fewer than ``MIN_VALUES`` distinct values, a text without one ``{x}``, an unknown
    emotion or direction, duplicate ids, or a contrast whose low/high values are not among its
    values."""
    path = path or intensity_path()
    if not path.exists():
        raise DataError(f"no intensity file at {path}")
    try:
        data = json.loads(path.read_text())
        rows, contrast = data["templates"], data["layer_contrast"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: not an intensity file ({type(exc).__name__}: {exc})") from exc
    known = set(emotions())
    templates = []
    for row in rows:
        try:
            t = IntensityTemplate(str(row["id"]), str(row["quantity"]), str(row["message"]), str(row["control"]),
                                  tuple(float(v) for v in row["values"]), {str(k): str(v) for k, v in
                                                                           row["expected"].items()})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"{path}: template {row.get('id', '?') if isinstance(row, dict) else row!r} is "
                            f"malformed ({type(exc).__name__}: {exc})") from exc
        where = f"{path}: template {t.id}"
        _check_text(where, t.message)
        _check_text(where, t.control)
        if len(set(t.values)) < MIN_VALUES or len(set(t.values)) != len(t.values):
            raise DataError(f"{where}: needs at least {MIN_VALUES} distinct values, has {len(set(t.values))}")
        if not t.expected:
            raise DataError(f"{where}: names no expected emotion")
        for emotion, direction in t.expected.items():
            if emotion not in known:
                raise DataError(f"{where}: {emotion!r} is not one of the 171 emotions")
            if direction not in DIRECTIONS:
                raise DataError(f"{where}: direction {direction!r} is not 'up' or 'down'")
        templates.append(t)
    ids = [t.id for t in templates]
    if len(set(ids)) != len(ids):
        raise DataError(f"{path}: duplicate template ids")
    try:
        lc = LayerContrast(str(contrast["id"]), str(contrast["message"]), str(contrast["control"]),
                           tuple(float(v) for v in contrast["values"]), float(contrast["low"]),
                           float(contrast["high"]), tuple(str(e) for e in contrast["emotions"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path}: the layer contrast is malformed ({type(exc).__name__}: {exc})") from exc
    _check_text(f"{path}: layer contrast", lc.message)
    _check_text(f"{path}: layer contrast", lc.control)
    if lc.low not in lc.values or lc.high not in lc.values or lc.low == lc.high:
        raise DataError(f"{path}: the layer contrast's low and high values must be two of its values")
    if set(lc.emotions) - known:
        raise DataError(f"{path}: unknown emotion(s) in the layer contrast: {sorted(set(lc.emotions) - known)}")
    return templates, lc


def expected_pairs(templates: Sequence[IntensityTemplate]) -> list[tuple[str, str, str]]:
    """(template id, emotion, direction) for every expected emotion of every template."""
    return [(t.id, e, d) for t in templates for e, d in t.expected.items()]


def metric_name(template: str, emotion: str) -> str:
    return f"{template}_{emotion.replace('-', '_')}_rho"


def needed_emotions(templates: Sequence[IntensityTemplate], contrast: LayerContrast) -> list[str]:
    """Every emotion the chapter reads (the expected ones and the contrast's), in emotions.txt order."""
    wanted = {e for t in templates for e in t.expected} | set(contrast.emotions)
    return [e for e in emotions() if e in wanted]


# ---------------------------------------------------------------- scores and statistics


def template_scores(vectors: SettledVectors, acts: torch.Tensor, values: Sequence[float],
                    reference: str | None = None) -> pd.DataFrame:
    """[value, emotion] cosines of one template's messages (rows in ``values`` order), scored as
    one set: with the 'own' reference, centred on the mean of that template's messages."""
    return vectors.frame(acts, [float(v) for v in values], reference)


def spearman_permutation(values: Sequence[float], scores: Sequence[float], n_resamples: int,
                         seed: int) -> tuple[float, float]:
    """Spearman's rho between a quantity and a score, and its two-sided permutation p-value
    (scipy's permutation test, the scores permuted against the values)."""
    from scipy.stats import permutation_test, spearmanr

    if n_resamples < 1:
        raise ParameterError(f"n_resamples must be >= 1, got {n_resamples}")
    x, y = np.asarray(values, dtype=float), np.asarray(scores, dtype=float)
    if len(x) != len(y) or len(x) < 3:
        raise ParameterError(f"need at least 3 paired values, got {len(x)} and {len(y)}")
    rho = float(spearmanr(x, y).statistic)
    res = permutation_test((y,), lambda s: spearmanr(x, s).statistic, permutation_type="pairings",
                           n_resamples=n_resamples, alternative="two-sided", vectorized=False,
                           rng=np.random.default_rng(seed))
    return rho, float(res.pvalue)


def trend_table(templates: Sequence[IntensityTemplate], scores: Mapping[str, pd.DataFrame],
                control_scores: Mapping[str, pd.DataFrame], n_resamples: int, seed: int) -> pd.DataFrame:
    """One row per (template, expected emotion) with a vector: the expected direction, Spearman's
    rho and its permutation p on the template, and the same on its control."""
    rows = []
    for t in templates:
        for emotion, direction in t.expected.items():
            if emotion not in scores[t.id].columns:
                continue
            rho, p = spearman_permutation(t.values, scores[t.id][emotion].to_numpy(), n_resamples, seed)
            c_rho, c_p = spearman_permutation(t.values, control_scores[t.id][emotion].to_numpy(), n_resamples, seed)
            rows.append({"template": t.id, "emotion": emotion, "expected": direction, "rho": rho, "p": p,
                         "control_rho": c_rho, "control_p": c_p,
                         "in_expected_direction": bool(np.sign(rho) == DIRECTIONS[direction])})
    if not rows:
        raise ParameterError("none of the templates' expected emotions has a vector in this run")
    return pd.DataFrame(rows)


def control_max_abs_rho(table: pd.DataFrame) -> float:
    """The largest |rho| on any control template, over the same (template, emotion) pairs: how
    far a quantity with nothing at stake moves the expected emotions."""
    return float(table.control_rho.abs().max())


def layer_contrast(vectors: Mapping[int, SettledVectors], acts: Mapping[int, torch.Tensor], contrast: LayerContrast,
                   reference: str | None = None) -> pd.DataFrame:
    """[layer, emotion] score at the high value minus score at the low value, each layer's
    messages (all of ``contrast.values``) scored as one set, for the contrast's emotions that
    have a vector."""
    values = list(contrast.values)
    hi, lo = values.index(contrast.high), values.index(contrast.low)
    rows = {}
    for layer in sorted(vectors):
        frame = template_scores(vectors[layer], acts[layer], values, reference)
        names = [e for e in contrast.emotions if e in frame.columns]
        rows[layer] = {e: float(frame[e].iloc[hi] - frame[e].iloc[lo]) for e in names}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("layer")


def template_messages(templates: Sequence[IntensityTemplate]) -> tuple[list[str], dict[tuple[str, bool], slice]]:
    """Every template's messages then its control's, in one list (read in one pass), and where
    each set lies in it: ``spans[(template id, is_control)]``."""
    texts: list[str] = []
    spans: dict[tuple[str, bool], slice] = {}
    for t in templates:
        for control in (False, True):
            msgs = t.messages(control=control)
            spans[(t.id, control)] = slice(len(texts), len(texts) + len(msgs))
            texts += msgs
    return texts, spans


def scores_by_template(vectors: SettledVectors, acts: torch.Tensor, templates: Sequence[IntensityTemplate],
                       spans: Mapping[tuple[str, bool], slice], control: bool,
                       reference: str | None = None) -> dict[str, pd.DataFrame]:
    """{template id: [value, emotion] scores} of the templates (or their controls), each set
    scored on its own (``template_scores``)."""
    return {t.id: template_scores(vectors, acts[spans[(t.id, control)]], t.values, reference) for t in templates}


def all_emotion_rho(values: Sequence[float], scores: pd.DataFrame) -> pd.Series:
    """Spearman's rho of every emotion's score with the quantity, highest first (a description:
    no p-values)."""
    from scipy.stats import spearmanr

    return pd.Series({e: float(spearmanr(values, scores[e]).statistic) for e in scores.columns}).sort_values(
        ascending=False)


def rho_by_layer(templates: Sequence[IntensityTemplate], scores: Mapping[int, Mapping[str, pd.DataFrame]]
                 ) -> pd.DataFrame:
    """[template-emotion pair, layer] Spearman's rho of each expected emotion (with a vector) with
    its template's quantity; ``scores[layer][template id]`` as from ``scores_by_template``."""
    from scipy.stats import spearmanr

    out = {}
    for layer, frames in sorted(scores.items()):
        out[layer] = {f"{t.id} {e} ({d})": float(spearmanr(t.values, frames[t.id][e]).statistic)
                      for t in templates for e, d in t.expected.items() if e in frames[t.id].columns}
    return pd.DataFrame(out)


def trend_metrics(trends: pd.DataFrame) -> dict[str, float | int]:
    """The record's per-trend metrics: ``<template>_<emotion>_rho``, its ``_p`` and its control's
    rho (``control_<template>_<emotion>_rho``), and the counts over all expected trends."""
    out: dict[str, float | int] = {
        "n_expected": len(trends), "n_in_expected_direction": int(trends.in_expected_direction.sum()),
        "n_significant_expected": int((trends.in_expected_direction & (trends.p < 0.05)).sum()),
        "control_max_abs_rho": control_max_abs_rho(trends), "control_neg_max_abs_rho": -control_max_abs_rho(trends)}
    for r in trends.itertuples():
        key = metric_name(r.template, r.emotion)
        out[key], out[key.removesuffix("_rho") + "_p"], out["control_" + key] = float(r.rho), float(r.p), \
            float(r.control_rho)
    return out


def contrast_metrics(diff: pd.DataFrame, control_diff: pd.DataFrame, layer: int,
                     emotion_names: Sequence[str] = ("afraid", "terrified", "calm")) -> dict[str, float | int | None]:
    """The record's layer-contrast metrics: each emotion's contrast at ``layer`` and the layer
    where it peaks (None for an emotion without a vector in this run), and the largest |contrast|
    of any of them on the control message at ``layer``."""
    out: dict[str, float | int | None] = {}
    for e in emotion_names:
        present = e in diff.columns
        out[f"contrast_{e}"] = float(diff.loc[layer, e]) if present else None
        out[f"contrast_{e}_peak_layer"] = int(diff[e].idxmax()) if present else None
    out["control_contrast_max_abs"] = float(control_diff.loc[layer].abs().max())
    return out


# ---------------------------------------------------------------- the chapter

_TREND_CLAIMS = (
    ("tylenol", "afraid", "Tylenol dose: 'afraid' rises with the dose", "as X rises, 'afraid' rises (fig)"),
    ("tylenol", "calm", "Tylenol dose: 'calm' falls with the dose", "as X rises, 'calm' falls (fig)"),
    ("food", "afraid", "Hours without food or water: 'afraid' rises", "afraid up (fig)"),
    ("sister", "sad", "Age a sister lived to: 'sad' falls with age", "sad down (fig)"),
    ("dog", "sad", "Days a dog has been missing: 'sad' rises", "sad up (fig)"),
    ("runway", "afraid", "Months of startup runway: 'afraid' falls", "afraid down, calm up (fig)"),
    ("runway", "calm", "Months of startup runway: 'calm' rises", "afraid down, calm up (fig)"),
    ("students", "happy", "Students who passed an exam: 'happy' rises", "happy up (fig)"),
)
_DOWN = {("tylenol", "calm"), ("sister", "sad"), ("runway", "afraid")}


def _trend_claim(template: str, emotion: str, finding: str, paper: str) -> Claim:
    down = (template, emotion) in _DOWN
    key = metric_name(template, emotion)
    return Claim(finding, paper, key, "control_neg_max_abs_rho" if down else "control_max_abs_rho",
                 "minus max |rho| on the no-danger controls" if down else "max |rho| on the no-danger controls",
                 sense="less" if down else "greater", fmt=".2f",
                 note=lambda m, k=key: f"p = {m[k.removesuffix('_rho') + '_p']:.3g}")


CHAPTER = Chapter(
    id="04-intensity",
    title="Numerical intensity",
    params={
        "layer": Param(layer=True),
        "reference": Param(choices=("settled", *REFERENCES)),
        "emotions": Param(choices=emotions),
        "n_neutral": Param(min=0),
        "batch_size": Param(min=1, max=256),
        "contrast_step": Param(min=1),
        "n_permutations": Param(min=1),
        "seed": Param(min=0),
    },
    metrics=("layer", "reference", "n_emotions", "n_templates", "n_expected", "n_in_expected_direction",
             "n_significant_expected", "contrast_afraid", "contrast_terrified", "contrast_calm",
             "control_contrast_max_abs", "contrast_afraid_peak_layer", "contrast_terrified_peak_layer",
             "contrast_calm_peak_layer",
             *(metric_name(t, e).removesuffix("_rho") + "_p" for t, e, _, _ in _TREND_CLAIMS)),
    claims=(
        *(_trend_claim(*c) for c in _TREND_CLAIMS),
        Claim("Tylenol 8000 mg vs 1000 mg at the chapter's layer: 'afraid' higher", "1000 vs 8000 mg: 'terrified' "
              "separates only in later layers (fig)", "contrast_afraid", "control_contrast_max_abs",
              "same contrast on a no-danger message, max |difference|", fmt=".3f",
              note=lambda m: f"terrified {m['contrast_terrified']:.3f}" if m["contrast_terrified"] is not None
              else "terrified not among this run's vectors"),
    ),
    quick={"emotions": ["happy", "sad", "afraid", "angry", "calm", "desperate", "disgusted", "proud",
                        "ashamed", "loving", "bored", "content"],
           "n_neutral": 48, "contrast_step": 10, "n_permutations": 200},
)
