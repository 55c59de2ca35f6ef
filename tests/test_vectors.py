"""The vector recipe and the scoring functions, on synthetic tensors with known answers."""

from __future__ import annotations

import torch

from emotion_concepts import scoring
from emotion_concepts.vectors import (
    EmotionVectors,
    build_emotion_vectors,
    center_on_grand_mean,
    class_means,
    principal_components,
    project_out,
    random_directions,
)


def test_class_means_and_centering():
    acts = torch.tensor([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [0.0, 4.0]])
    means = class_means(acts, ["a", "a", "b", "b"], ["a", "b"])
    assert means.tolist() == [[2.0, 0.0], [0.0, 3.0]]
    centred = center_on_grand_mean(means)
    torch.testing.assert_close(centred.sum(0), torch.zeros(2))


def test_principal_components_reach_the_variance_share():
    gen = torch.Generator().manual_seed(0)
    scales = torch.tensor([10.0, 5.0, 1.0, 0.5, 0.1])
    acts = torch.randn(500, 5, generator=gen) * scales
    comps, ratios = principal_components(acts, 0.5)
    assert comps.shape[0] == 1 and ratios.sum() >= 0.5  # the first axis alone holds ~79%
    comps, ratios = principal_components(acts, 0.9)
    assert comps.shape[0] == 2 and ratios.sum() >= 0.9
    torch.testing.assert_close(comps @ comps.T, torch.eye(2), atol=1e-5, rtol=0)
    assert principal_components(acts, 0.0)[0].shape[0] == 0


def test_project_out_removes_the_span():
    comps = torch.tensor([[1.0, 0.0, 0.0]])
    v = torch.tensor([[2.0, 3.0, 4.0]])
    out = project_out(v, comps)
    assert out.tolist() == [[0.0, 3.0, 4.0]]


def test_build_and_round_trip(tmp_path):
    gen = torch.Generator().manual_seed(1)
    acts = torch.randn(12, 8, generator=gen)
    labels = ["x"] * 4 + ["y"] * 4 + ["z"] * 4
    neutral = torch.randn(30, 8, generator=gen)
    vecs = build_emotion_vectors(acts, labels, ["x", "y", "z"], neutral, layer=3, model="m",
                                 metadata={"corpus_hash": "abc"})
    # rows are orthogonal to the removed neutral components
    assert (vecs.vectors @ vecs.neutral_components.T).abs().max() < 1e-5
    path = vecs.save(tmp_path / "v")
    back = EmotionVectors.load(path)
    assert back.emotions == ["x", "y", "z"] and back.layer == 3 and back.metadata["corpus_hash"] == "abc"
    torch.testing.assert_close(back.vectors, vecs.vectors)
    torch.testing.assert_close(back["y"], vecs.vectors[1])


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
    conf = scoring.confusion(centred, targets, 3)
    assert conf.tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
    assert scoring.chance_topk(171, 5) == 5 / 171
    assert scoring.group_accuracy(centred, targets, [0, 0, 1]) == 1.0


def test_shuffled_null_is_near_chance():
    gen = torch.Generator().manual_seed(2)
    centres = torch.randn(6, 16, generator=gen) * 3
    labels = [f"c{i}" for i in range(6) for _ in range(10)]
    acts = torch.stack([centres[int(lab[1])] for lab in labels]) + torch.randn(60, 16, generator=gen)
    test = torch.stack([centres[i] for i in range(6)]) + torch.randn(6, 16, generator=gen)
    null = scoring.shuffled_label_accuracy(acts, labels, [f"c{i}" for i in range(6)], test,
                                           torch.arange(6), acts.mean(0), seed=0, n_shuffles=50)
    assert null.mean() < 0.4  # chance is 1/6; the real labels give 1.0 here
    real = center_on_grand_mean(class_means(acts, labels, [f"c{i}" for i in range(6)]))
    assert scoring.topk_accuracy(scoring.cosine_matrix(test, real, acts.mean(0)), torch.arange(6), 1) == 1.0
