"""Chapter 11's steps on synthetic readings (labels, centring, AUROC with its interval, the
random-direction control, the split for the best emotion) and its decision points on the
default model's tokenizer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from emotion_concepts.errors import ParameterError
from emotion_concepts.findings import monitoring


def _points() -> pd.DataFrame:
    rows = [{"scenario": s, "item": f"{s}{i}", "order": o, "p_harmful": p}
            for s, base in (("blackmail", 0.2), ("reward_hacking", 0.6)) for i in range(4)
            for o, p in (("ab", base + 0.01 * i), ("ba", base + 0.05 + 0.01 * i))]
    return pd.DataFrame(rows)


def test_labels_split_each_scenario_at_its_median_and_readings_are_centred_per_scenario():
    points = _points()
    labels = monitoring.leaning_labels(points)
    for s in ("blackmail", "reward_hacking"):
        assert labels[(points.scenario == s).to_numpy()].sum() == 4  # half of each scenario
    acts = torch.randn(len(points), 6) + torch.tensor([[5.0] * 6 if s == "blackmail" else [-5.0] * 6
                                                        for s in points.scenario])
    c = monitoring.centred(acts, points)
    for s in ("blackmail", "reward_hacking"):
        assert c[torch.tensor((points.scenario == s).to_numpy())].mean(0).abs().max() < 1e-5


def test_auroc_matches_sklearn_with_a_bootstrap_interval_and_random_directions_sit_near_chance():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 40)
    score = labels * 1.0 + rng.normal(0, 1, 80)
    a = monitoring.auroc(labels, score, n_resamples=300, seed=1)
    assert a.value == pytest.approx(roc_auc_score(labels, score))
    assert a.lo < a.value < a.hi and 0 <= a.lo and a.hi <= 1
    assert monitoring.auroc(labels, score, n_resamples=300, seed=1) == a  # seeded
    with pytest.raises(ParameterError):
        monitoring.auroc(np.zeros(5, dtype=int), np.arange(5.0))
    acts = torch.randn(80, 32, generator=torch.Generator().manual_seed(3))
    randoms = monitoring.random_aurocs(labels, acts, 200, seed=0)
    assert randoms.shape == (200,) and 0.45 < randoms.mean() < 0.55
    # a direction that carries the label is read as such
    acts[:, 0] += torch.tensor(labels * 3.0, dtype=torch.float32)
    assert roc_auc_score(labels, monitoring.readings(acts, torch.eye(32)[:1])[:, 0]) > 0.9


def test_best_emotion_is_chosen_on_one_half_and_scored_on_the_other():
    points = _points()
    first, second = monitoring.split_halves(points, seed=0)
    assert (first ^ second).all()
    for item in points["item"].unique():  # an item's rotations stay together
        mask = (points["item"] == item).to_numpy()
        assert first[mask].all() or second[mask].all()
    labels = monitoring.leaning_labels(points)
    scores = pd.DataFrame({"good": labels + 0.1 * np.arange(len(labels)) % 0.3, "bad": -labels * 1.0,
                           "noise": np.random.default_rng(1).normal(size=len(labels))})
    best, auc = monitoring.best_emotion(labels, scores, first, second)
    assert best == "good" and auc == pytest.approx(roc_auc_score(labels[second], scores.good[second]))


def test_decision_points_cover_every_variant_rotation_task_and_wording(model):
    prompts = monitoring.decision_prompts(model, n_variants=2, n_tasks=3, wordings_per_task=2)
    assert len(prompts["blackmail"]) == 2 * 4 and len(prompts["reward_hacking"]) == 3 * 2 * 2
    assert all(p.text.endswith("(") for ps in prompts.values() for p in ps)
    assert {"".join(sorted(p.order)) for p in prompts["reward_hacking"]} == {"hackhonest"}
