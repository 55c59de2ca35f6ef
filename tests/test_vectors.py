"""The vector recipe and the scoring functions, against independent computations on
constructed cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emotion_concepts.readout import scoring
from emotion_concepts.readout.vectors import (
    EmotionVectors,
    build_emotion_vectors,
    principal_components,
    random_directions,
    vector_recipe,
)


def _constructed(seed: int = 0):
    """Three emotions in 6 dimensions with a large shared offset, and neutral activations whose
    variance lies mostly along two known axes (e0: 16, e1: 9, the rest 0.25 each)."""
    rng = np.random.default_rng(seed)
    offset = np.full(6, 50.0)
    centres = {"x": np.array([3.0, 0, 1, 0, 0, 0]), "y": np.array([0, 2.0, 0, 1, 0, 0]),
               "z": np.array([1.0, 1, 0, 0, 2, 0])}
    labels = [e for e in "xyz" for _ in range(4)] + ["x"]  # unequal counts: the grand mean is of the means
    acts = np.stack([offset + centres[e] + rng.normal(0, 0.1, 6) for e in labels])
    neutral = rng.normal(0, 0.5, (400, 6))
    neutral[:, 0] = rng.normal(0, 4.0, 400)
    neutral[:, 1] = rng.normal(0, 3.0, 400)
    return acts, labels, neutral


def _independent(acts, labels, neutral, share):
    """The paper's recipe written again with numpy: class means, minus the mean of the means,
    minus their projection on the top neutral PCs explaining >= share of the variance."""
    classes = sorted(set(labels))
    means = np.stack([acts[[i for i, e in enumerate(labels) if e == c]].mean(0) for c in classes])
    centred = means - means.mean(0)
    cov = np.cov(neutral, rowvar=False, bias=True)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    k = 0 if share == 0 else int(np.searchsorted(np.cumsum(values) / values.sum(), share) + 1)
    top = vectors[:, :k]
    return centred - centred @ top @ top.T, k


@pytest.mark.parametrize("share", [0.0, 0.5, 0.8])
def test_recipe_matches_an_independent_computation(share):
    acts, labels, neutral = _constructed()
    got = build_emotion_vectors(torch.tensor(acts, dtype=torch.float32), labels, ["x", "y", "z"],
                                torch.tensor(neutral, dtype=torch.float32), layer=0, model="m", neutral_variance=share)
    expected, k = _independent(acts, labels, neutral, share)
    assert got.neutral_components.shape[0] == k
    np.testing.assert_allclose(got.vectors.numpy(), expected, atol=1e-4)
    assert not np.allclose(got.vectors.numpy(), 0)


def test_components_for_half_the_variance_are_the_known_axes():
    _, _, neutral = _constructed()
    comps, ratios = principal_components(torch.tensor(neutral, dtype=torch.float32), 0.5)
    # variance 16 of ~26.3 on e0 (~61%): one component, along e0
    assert comps.shape[0] == 1 and float(ratios.sum()) >= 0.5
    assert abs(float(comps[0, 0])) > 0.99
    comps, _ = principal_components(torch.tensor(neutral, dtype=torch.float32), 0.8)
    assert comps.shape[0] == 2 and abs(float(comps[1, 1])) > 0.99


def test_vectors_are_centred_and_keep_the_class_differences():
    acts, labels, neutral = _constructed()
    v, raw = vector_recipe(torch.tensor(acts), labels, ["x", "y", "z"], None)
    torch.testing.assert_close(raw.sum(0), torch.zeros(6, dtype=raw.dtype), atol=1e-9, rtol=0)
    # the shared offset of 50 is gone; x - y keeps its known difference
    diff = (v[0] - v[1]).numpy()
    np.testing.assert_allclose(diff, [3, -2, 1, -1, 0, 0], atol=0.2)


def test_save_and_load_round_trip(tmp_path):
    acts, labels, neutral = _constructed()
    vecs = build_emotion_vectors(torch.tensor(acts, dtype=torch.float32), labels, ["x", "y", "z"],
                                 torch.tensor(neutral, dtype=torch.float32), layer=3, model="m",
                                 metadata={"corpus_hash": "abc"})
    path = vecs.save(tmp_path / "v")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.json", "v.safetensors"]
    back = EmotionVectors.load(path)
    assert back.emotions == ["x", "y", "z"] and back.layer == 3 and back.metadata["corpus_hash"] == "abc"
    torch.testing.assert_close(back.vectors, vecs.vectors)
    torch.testing.assert_close(back["y"], vecs.vectors[1])
    (tmp_path / "v.json").unlink()  # the JSON is a readable copy: the tensors file alone is enough
    assert EmotionVectors.load(path).emotions == ["x", "y", "z"]


def test_random_directions_match_norms():
    like = torch.tensor([[3.0, 4.0], [0.0, 2.0]])
    r = random_directions(2, like, seed=0)
    torch.testing.assert_close(r.norm(dim=-1), torch.tensor([5.0, 2.0]))
    torch.testing.assert_close(random_directions(2, like, seed=0), r)  # deterministic


def test_scoring_with_reference_mean():
    offset = torch.tensor([100.0, 100.0, 100.0])
    vectors = torch.eye(3)
    acts = offset + torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [0.9, 0.1, 0]])
    targets = torch.tensor([0, 1, 2, 1])
    raw = scoring.cosine_matrix(acts, vectors, None)
    centred = scoring.cosine_matrix(acts, vectors, offset)
    assert scoring.topk_accuracy(centred, targets, 1) == 0.75
    assert scoring.topk_accuracy(centred, targets, 2) == 1.0
    assert raw.std() < centred.std()  # the offset flattens raw cosines
    assert scoring.confusion(centred, targets, 3).tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
    assert scoring.group_accuracy(centred, targets, [0, 0, 1]) == 1.0
    assert scoring.group_chance(targets, [0, 0, 1]) == pytest.approx((1 / 3 + 2 / 3 * 3) / 4)


def _separable(seed: int = 2):
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(6, 16, generator=gen) * 3
    labels = [f"c{i}" for i in range(6) for _ in range(10)]
    acts = torch.stack([centres[int(lab[1])] for lab in labels]) + torch.randn(60, 16, generator=gen)
    test = centres + torch.randn(6, 16, generator=gen)
    return acts, labels, test, [f"c{i}" for i in range(6)]


def test_relabelled_null_uses_the_recipe_with_the_components():
    acts, labels, test, classes = _separable()
    components = torch.eye(16)[:2]  # project out two axes, as the chapter projects out neutral PCs
    seen = []

    def statistic(vectors):
        seen.append(vectors)
        return {"top1": scoring.topk_accuracy(scoring.cosine_matrix(test, vectors, acts.mean(0)), torch.arange(6), 1)}

    null = scoring.relabelled_null(acts, labels, classes, components, statistic, seed=0, n_shuffles=30)
    assert null["top1"].shape == (30,) and null["top1"].mean() < 0.4  # chance is 1/6; real labels give 1.0
    assert all(float((v @ components.T).abs().max()) < 1e-5 for v in seen)  # the projection was applied
    real, _ = vector_recipe(acts, labels, classes, components)
    assert statistic(real)["top1"] == 1.0
    again = scoring.relabelled_null(acts, labels, classes, components, statistic, seed=0, n_shuffles=30)
    np.testing.assert_array_equal(null["top1"], again["top1"])  # seeded
