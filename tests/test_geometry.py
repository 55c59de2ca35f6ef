"""Chapter 02's geometry functions on constructed vectors and stories with known structure, and
the extended human ratings against the lexicons they come from."""

from __future__ import annotations

import csv
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from emotion_concepts.corpus import ratings as human
from emotion_concepts.corpus.stories import Story
from emotion_concepts.errors import ParameterError
from emotion_concepts.findings import geometry
from emotion_concepts.findings.emotion_vectors import Recipe, book_vectors

NAMES = ["happy", "calm", "sad", "afraid", "angry", "content", "bored", "proud"]
# (valence, arousal) per emotion, roughly as people rate them
VA = {"happy": (8.5, 6.0), "calm": (7.0, 2.0), "sad": (2.0, 3.5), "afraid": (2.3, 6.5), "angry": (2.5, 7.0),
      "content": (7.5, 3.0), "bored": (3.5, 2.0), "proud": (7.8, 5.5)}


def _va_vectors(d: int = 16, seed: int = 0, noise: float = 0.05) -> torch.Tensor:
    """Vectors whose largest spread is along valence (e0, scaled 3x) and next along arousal (e1)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((len(NAMES), d))
    for i, e in enumerate(NAMES):
        v, a = VA[e]
        out[i, 0], out[i, 1] = 3 * (v - 5), a - 4.5
    out += rng.normal(0, noise, out.shape)
    return torch.tensor(out - out.mean(0), dtype=torch.float32)


def _stories_and_acts(per_emotion: int = 8, d: int = 16, seed: int = 0):
    """Stories of every emotion in two voices (train and test split), whose activations are the
    emotion's valence/arousal point plus noise and a large shared offset."""
    rng = np.random.default_rng(seed)
    stories, rows = [], []
    centres = _va_vectors(d, seed, 0.0).numpy()
    for i, e in enumerate(NAMES):
        for j in range(per_emotion):
            voice = "narrative" if j % 2 else "diary"
            split = "test" if j >= per_emotion - 2 else "train"
            stories.append(Story(f"{e}-{j}", e, f"topic {j}", j, "first", split, voice, "text"))
            rows.append(100.0 + centres[i] + rng.normal(0, 0.3, d))
    neutral = rng.normal(0, 1.0, (40, d))
    neutral[:, 5] *= 6  # the neutral variance lies along a direction unrelated to emotion
    return stories, torch.tensor(np.stack(rows), dtype=torch.float32), torch.tensor(neutral, dtype=torch.float32)


def test_cluster_count():
    assert geometry.cluster_count(171) == 10
    assert geometry.cluster_count(12) == 4
    assert geometry.cluster_count(4) == 2
    with pytest.raises(ParameterError):
        geometry.cluster_count(2)


def test_orientation_is_fixed_by_the_anchors_not_the_input_sign():
    v = _va_vectors()
    a, b = geometry.emotion_pca(v, NAMES), geometry.emotion_pca(-v, NAMES)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-8)
    assert a.anchors[:2] == ["happy", "calm"]
    assert a.frame().loc["happy", "PC1"] > 0 and a.frame().loc["calm", "PC2"] < 0
    assert np.all(np.diff(a.explained) <= 1e-12) and a.explained.sum() <= 1 + 1e-9
    # without the anchors: the emotion with the largest |score| is made positive
    names = [f"e{i}" for i in range(len(NAMES))]
    c = geometry.emotion_pca(v, names)
    for j in range(c.scores.shape[1]):
        assert c.scores[np.argmax(np.abs(c.scores[:, j])), j] > 0
        assert c.anchors[j] == names[int(np.argmax(np.abs(c.scores[:, j])))]


def test_pca_recovers_constructed_valence_and_arousal():
    pca = geometry.emotion_pca(_va_vectors(), NAMES)
    valence = {e: va[0] for e, va in VA.items()}
    arousal = {e: va[1] for e, va in VA.items()}
    r_v = geometry.pc_correlation(pca, 0, valence, 999, 0)
    r_a = geometry.pc_correlation(pca, 1, arousal, 999, 0)
    assert r_v.pearson_r > 0.99 and r_a.pearson_r > 0.95 and r_v.n == len(NAMES)
    assert r_v.perm_p < 0.01
    table = geometry.pc_rating_table(pca, {"valence": valence, "arousal": arousal})
    assert table.loc["variance share", "PC1"] == pytest.approx(pca.explained[0])


def test_rating_correlation_matches_scipy_and_is_one_sided():
    from scipy.stats import pearsonr, spearmanr

    rng = np.random.default_rng(1)
    x = rng.normal(size=30)
    y = 0.6 * x + rng.normal(size=30)
    out = geometry.rating_correlation(x, y, 2000, 0)
    assert out.pearson_r == pytest.approx(pearsonr(x, y).statistic)
    assert out.spearman_rho == pytest.approx(spearmanr(x, y).statistic)
    assert out.perm_p < 0.05
    assert geometry.rating_correlation(-x, y, 2000, 0).perm_p > 0.95  # the wrong direction is not significant
    with pytest.raises(ParameterError):
        geometry.rating_correlation(x[:2], y[:2], 10, 0)


def test_recipe_vectors_are_the_book_vectors():
    stories, acts, neutral = _stories_and_acts()
    recipe = Recipe(3, "own", True, 0.5)
    model = SimpleNamespace(identity="constructed", alias="constructed")
    ours = geometry.recipe_vectors(acts, stories, neutral, NAMES, recipe)
    book = book_vectors(model, stories, acts, neutral, NAMES, recipe)
    torch.testing.assert_close(ours, book.vectors)


def test_shuffled_label_null_rebuilds_vectors_from_permuted_labels():
    stories, acts, neutral = _stories_and_acts()
    valence = {e: va[0] for e, va in VA.items()}
    arousal = {e: va[1] for e, va in VA.items()}
    statistic = geometry.axis_statistic(NAMES, valence, arousal)
    recipe = Recipe(0, "own", False, 0.5)
    observed = statistic(geometry.recipe_vectors(acts, stories, neutral, NAMES, recipe))
    null = geometry.shuffled_label_null(acts, stories, neutral, NAMES, recipe, statistic, 0, 30)
    assert set(null) == set(observed) and all(len(v) == 30 for v in null.values())
    assert observed["pc1_valence_r"] > 0.95
    assert observed["pc1_valence_r"] > geometry.p95_abs(null["pc1_valence_r"])
    assert np.all((null["pc1_var"] > 0) & (null["pc1_var"] <= 1))
    again = geometry.shuffled_label_null(acts, stories, neutral, NAMES, recipe, statistic, 0, 30)
    np.testing.assert_array_equal(null["pc1_valence_r"], again["pc1_valence_r"])  # seeded


def test_layer_table_and_representational_similarity():
    stories, acts, neutral = _stories_and_acts()
    other = acts + torch.randn(acts.shape, generator=torch.Generator().manual_seed(3)) * 5  # a noisier layer
    valence = {e: va[0] for e, va in VA.items()}
    arousal = {e: va[1] for e, va in VA.items()}
    table, vectors = geometry.layer_table({1: acts, 4: other, 7: acts.clone()}, stories,
                                          {1: neutral, 4: neutral, 7: neutral}, NAMES,
                                          Recipe(1, "own", False, 0.5), valence, arousal, 0, 10)
    assert list(table.index) == [1, 4, 7] and set(vectors) == {1, 4, 7}
    assert {"pc1_valence_r", "shuffled_pc1_valence_r_p95", "pc1_var", "shuffled_pc1_var_p95"} <= set(table.columns)
    rsa = geometry.representational_similarity(vectors)
    assert rsa.shape == (3, 3) and np.allclose(np.diag(rsa.values), 1.0)
    np.testing.assert_allclose(rsa.values, rsa.values.T)
    assert rsa.loc[1, 7] == pytest.approx(1.0) and rsa.loc[1, 4] < 1.0


def test_similarity_order_and_clusters():
    v = _va_vectors()
    sim = geometry.cosine_similarities(v)
    assert np.allclose(np.diag(sim), 1.0) and np.allclose(sim, sim.T)
    order = geometry.hierarchical_order(v)
    assert sorted(order) == list(range(len(NAMES)))
    valence = {e: va[0] for e, va in VA.items() if e != "proud"}  # one member unrated
    table = geometry.cluster_table(v, NAMES, 3, 0, valence)
    members = [m for row in table.members for m in row.split(", ")]
    assert sorted(members) == sorted(NAMES) and table.n.sum() == len(NAMES) and len(table) == 3
    assert table.mean_valence.is_monotonic_decreasing  # ordered for reading
    assert table.n_rated_valence.sum() == len(NAMES) - 1


def test_source_table_per_source_and_pooled():
    pca = geometry.emotion_pca(_va_vectors(), NAMES)
    extended = pd.DataFrame([
        {"emotion": e, "source": "a", "valence": v, "arousal": a, "valence_native": v, "arousal_native": a}
        for e, (v, a) in VA.items()] + [
        {"emotion": e, "source": "b", "valence": np.nan, "arousal": np.nan, "valence_native": np.nan,
         "arousal_native": np.nan} for e in NAMES[:2]])
    combined = {"valence": pd.DataFrame({"value": [VA[e][0] for e in NAMES], "source": "a"}, index=NAMES)}
    table = geometry.source_table(pca, extended, combined)
    assert set(table.source) == {"a", "all sources (Warriner first)"}  # b rates nothing
    row = table[(table.source == "a") & (table.comparison == "PC1 vs valence")].iloc[0]
    assert row.n == len(NAMES) and row.pearson_r > 0.99


# ---------------------------------------------------------------- the extended ratings


def test_extended_ratings_keep_warriner_and_mark_every_source(tmp_path):
    path, n = human.build_extended_ratings(tmp_path / "x.csv")
    table = human.load_extended_ratings(path)
    assert len(table) == n and set(table.source) <= set(human.SOURCES) and table.source.notna().all()
    warriner = human.load_ratings()  # unchanged: the primary file and its loader
    w = table[table.source == human.WARRINER].set_index("emotion")
    assert len(w) == len(warriner) == 126
    for e, r in warriner.items():
        assert w.loc[e, "valence"] == pytest.approx(r["valence"]) and w.loc[e, "arousal"] == pytest.approx(r["arousal"])
    assert table[table.source == human.VADER].arousal.isna().all()  # VADER rates valence only
    valence = human.combined_ratings(table, "valence")
    arousal = human.combined_ratings(table, "arousal")
    assert valence.index.is_unique and set(warriner) <= set(valence.index)
    assert (valence.loc[list(warriner), "source"] == human.WARRINER).all()  # Warriner first
    assert len(valence) > len(warriner) and len(arousal) >= len(warriner)
    assert valence.value.between(1, 9).all() and arousal.value.between(1, 9).all()
    with open(path, newline="") as f:
        assert "source" in next(csv.reader(f))
    with pytest.raises(Exception, match="dimension"):
        human.combined_ratings(table, "dominance")


def test_linear_equating_matches_mean_and_spread():
    source = {"a": 1.0, "b": 2.0, "c": 3.0, "x": 10.0}
    target = {"a": 2.0, "b": 6.0, "c": 10.0}
    slope, intercept = human.linear_equating(source, target)
    assert slope == pytest.approx(4.0) and intercept == pytest.approx(-2.0)
