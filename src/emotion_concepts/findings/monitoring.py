"""Finding 14: an emotion reading at the decision point as an early warning (chapter 11).

Does the desperate (or calm, or any) reading at the point where the model is about to choose
predict the harmful choice before it is made? The decision points are the unsteered forced
choices of chapters 08 (blackmail: every variant under every rotation of the four actions) and
09 (reward hacking: every task under every wording, both option orders). At each, the residual
stream at the last prompt token (the "(" the answer starts with) is read with the book's vectors,
and the model's probability of the harmful option is read from the option letters.

A decision point counts as *leaning harmful* when its P(harmful) is above the median of its
scenario's decision points (blackmail and reward hacking apart): a small model rarely picks the
harmful option outright, and the median split gives both classes at any base rate, so the
question is whether the reading ranks the points that lean harmful above those that do not. The
AUROC of a reading over these labels is compared with the AUROCs of readings along random
directions (the same activations, projected on random unit vectors); the best single emotion
is chosen on one half of the items and scored on the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy import stats
from sklearn.metrics import roc_auc_score

from ..corpus.stories import emotions as all_emotions
from ..errors import ParameterError
from ..models.loading import LoadedModel
from ..readout.activations import residuals_at
from ..steering.measures import ChoicePrompt, choice_prompts, option_probabilities
from . import blackmail, reward_hacking
from .base import Chapter, Claim, Param

SCENARIOS = ("blackmail", "reward_hacking")
HARMFUL = {"blackmail": "blackmail", "reward_hacking": "hack"}


# ---------------------------------------------------------------- the decision points


def decision_prompts(model: LoadedModel, n_variants: int = 0, n_tasks: int = 0, wordings_per_task: int = 6,
                     n_rotations: int | None = None) -> dict[str, list[ChoicePrompt]]:
    """{scenario: prompts}: chapter 08's forced choice for each variant under ``n_rotations``
    rotations (all four by default), and chapter 09's for each task and wording in both orders.
    ``n_variants``/``n_tasks`` of 0 mean all."""
    variants = blackmail.load_variants()
    variants = variants[:n_variants] if n_variants else variants
    tasks = reward_hacking.load_tasks()
    tasks = tasks[:n_tasks] if n_tasks else tasks
    return {"blackmail": choice_prompts(model, [blackmail.choice_item(v) for v in variants], n_rotations),
            "reward_hacking": choice_prompts(model, reward_hacking.choice_items(tasks, wordings_per_task))}


def read_decision_points(model: LoadedModel, prompts: dict[str, list[ChoicePrompt]], layer: int, *,
                         batch_size: int = 8) -> tuple[pd.DataFrame, torch.Tensor]:
    """One row per decision point (scenario, item, order, p_harmful) and the residual stream at
    its last token [n, d] at ``layer``, in the same order."""
    rows, acts = [], []
    for scenario, ps in prompts.items():
        probs = option_probabilities(model, ps, batch_size=batch_size)
        harmful = probs.keys.index(HARMFUL[scenario])
        acts.append(residuals_at(model, [p.text for p in ps], [layer], position=-1, batch_size=batch_size,
                                 progress=False)[layer].float())
        for i, p in enumerate(ps):
            rows.append({"scenario": scenario, "item": p.item, "order": "".join(p.order),
                         "p_harmful": float(probs.probs[i, harmful]), "letter_mass": float(probs.letter_mass[i])})
    return pd.DataFrame(rows), torch.cat(acts)


def leaning_labels(points: pd.DataFrame) -> np.ndarray:
    """1 where a decision point's P(harmful) is above its scenario's median, else 0."""
    median = points.groupby("scenario").p_harmful.transform("median")
    return (points.p_harmful > median).to_numpy().astype(int)


def centred(acts: torch.Tensor, points: pd.DataFrame) -> torch.Tensor:
    """Activations minus their scenario's mean: a reading must tell points of one scenario
    apart, not the two scenarios (whose base rates differ)."""
    out = acts.clone()
    for scenario in points.scenario.unique():
        mask = torch.tensor((points.scenario == scenario).to_numpy())
        out[mask] -= acts[mask].mean(0)
    return out


def readings(acts: torch.Tensor, directions: torch.Tensor) -> np.ndarray:
    """[n, k] projection of each activation on each unit direction."""
    units = directions.float() / directions.float().norm(dim=-1, keepdim=True)
    return (acts.float() @ units.T).numpy()


# ---------------------------------------------------------------- AUROC and its controls


@dataclass(frozen=True)
class Auroc:
    value: float
    lo: float  # 95% bootstrap interval
    hi: float


def auroc(labels: np.ndarray, score: np.ndarray, *, n_resamples: int = 1000, seed: int = 0) -> Auroc:
    """AUROC of ``score`` for ``labels`` with a 95% percentile bootstrap interval (points
    resampled in pairs)."""
    labels, score = np.asarray(labels), np.asarray(score, dtype=float)
    if len(set(labels.tolist())) < 2:
        raise ParameterError("AUROC needs decision points of both classes")
    value = float(roc_auc_score(labels, score))

    def statistic(y: np.ndarray, s: np.ndarray) -> float:
        return float(roc_auc_score(y, s)) if len(set(y.tolist())) == 2 else np.nan

    res = stats.bootstrap((labels, score), statistic, paired=True, vectorized=False, n_resamples=n_resamples,
                          method="percentile", random_state=np.random.default_rng(seed))
    lo, hi = res.confidence_interval
    return Auroc(value, float(lo), float(hi))


def random_aurocs(labels: np.ndarray, acts: torch.Tensor, n: int, seed: int) -> np.ndarray:
    """AUROCs of readings along ``n`` random unit directions: the control for 'any direction
    of the residual stream ranks these points this well'."""
    gen = torch.Generator().manual_seed(int(seed))
    directions = torch.randn(n, acts.shape[1], generator=gen)
    scores = readings(acts, directions)
    return np.array([roc_auc_score(labels, scores[:, j]) for j in range(n)])


def split_halves(points: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of two halves of the items (each item's every rotation stays in one half),
    drawn within each scenario."""
    rng = np.random.default_rng(seed)
    first = np.zeros(len(points), dtype=bool)
    for scenario in sorted(points.scenario.unique()):
        items = sorted(points.loc[points.scenario == scenario, "item"].unique())
        chosen = set(rng.permutation(items)[: max(1, len(items) // 2)])
        first |= ((points.scenario == scenario) & points["item"].isin(chosen)).to_numpy()
    return first, ~first


def best_emotion(labels: np.ndarray, scores: pd.DataFrame, choose: np.ndarray,
                 score_on: np.ndarray) -> tuple[str, float]:
    """The emotion whose reading has the highest AUROC on the ``choose`` half, and its AUROC on
    the ``score_on`` half (never the half it was chosen on)."""
    if len(set(labels[choose].tolist())) < 2 or len(set(labels[score_on].tolist())) < 2:
        raise ParameterError("each half needs decision points of both classes")
    on_choose = {e: roc_auc_score(labels[choose], scores[e].to_numpy()[choose]) for e in scores.columns}
    best = max(on_choose, key=on_choose.get)
    return best, float(roc_auc_score(labels[score_on], scores[best].to_numpy()[score_on]))


# ---------------------------------------------------------------- the chapter

CHAPTER = Chapter(
    id="11-monitoring",
    title="Emotion readings as an early warning",
    params={
        "layer": Param(layer=True),
        "n_variants": Param(min=0),
        "n_tasks": Param(min=0),
        "wordings_per_task": Param(min=1, max=6),
        "n_random": Param(min=2),
        "n_resamples": Param(min=100),
        "batch_size": Param(min=1, max=256),
        "n_neutral": Param(min=0),
        "emotions": Param(choices=all_emotions),
        "seed": Param(min=0),
    },
    metrics=("n_points", "layer", "base_rate_blackmail", "base_rate_hack", "auroc_desperate_lo", "auroc_desperate_hi",
             "auroc_calm", "best_emotion", "auroc_random_mean"),
    claims=(
        Claim("The desperate reading at the decision point ranks the points leaning toward the harmful action "
              "(AUROC)", "qualitative (desperation precedes the misaligned action)", "auroc_desperate",
              "auroc_random_p95", "random directions, 95th pct"),
        Claim("The best single emotion (chosen on half the items, scored on the other)", "-", "auroc_best",
              "auroc_random_p95", "random directions, 95th pct", note=lambda m: str(m["best_emotion"])),
    ),
    quick={"emotions": ["happy", "sad", "afraid", "angry", "calm", "desperate", "disgusted", "proud", "ashamed",
                        "loving", "bored", "content"],
           "n_variants": 2, "n_tasks": 2, "wordings_per_task": 2, "n_random": 50, "n_resamples": 200,
           "n_neutral": 48},
)
