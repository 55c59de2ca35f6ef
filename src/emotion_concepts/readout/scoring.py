"""Scoring activations against emotion vectors (pure tensor functions).

Raw cosines between a text's mean activation and emotion vectors are dominated by an offset
shared by all texts of a corpus, so every score here first subtracts an explicit reference
mean (the training stories' mean, the scored set's own mean, or a neutral baseline). The
chapters state which one they use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch


def cosine_matrix(acts: torch.Tensor, vectors: torch.Tensor, reference: torch.Tensor | None) -> torch.Tensor:
    """[n_texts, n_vectors] cosine similarity of (acts - reference) with each vector."""
    x = acts if reference is None else acts - reference
    x = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    v = vectors / vectors.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return x @ v.T


def label_indices(labels: Sequence[str], classes: Sequence[str]) -> torch.Tensor:
    lookup = {c: i for i, c in enumerate(classes)}
    return torch.tensor([lookup[label] for label in labels])


def topk_accuracy(scores: torch.Tensor, targets: torch.Tensor, k: int) -> float:
    """Fraction of rows whose target column is among the k highest scores."""
    k = min(k, scores.shape[1])
    top = scores.topk(k, dim=1).indices
    return float((top == targets.unsqueeze(1)).any(dim=1).float().mean())


def chance_topk(n_classes: int, k: int) -> float:
    return min(k, n_classes) / n_classes


def confusion(scores: torch.Tensor, targets: torch.Tensor, n_classes: int) -> torch.Tensor:
    """[true, predicted] counts of the top-1 prediction."""
    pred = scores.argmax(dim=1)
    out = torch.zeros(n_classes, n_classes, dtype=torch.long)
    out.index_put_((targets, pred), torch.ones_like(targets), accumulate=True)
    return out


def group_accuracy(scores: torch.Tensor, targets: torch.Tensor, groups: Sequence[int]) -> float:
    """Top-1 accuracy where a prediction counts if it lands in the target's group (cluster)."""
    g = torch.tensor(list(groups))
    return float((g[scores.argmax(dim=1)] == g[targets]).float().mean())


def kmeans_groups(vectors: torch.Tensor, k: int = 10, seed: int = 0) -> list[int]:
    """k-means (on unit vectors: the paper clusters by cosine) of the rows of ``vectors``."""
    from sklearn.cluster import KMeans

    unit = vectors / vectors.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    k = min(k, unit.shape[0])
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(unit.float().numpy()).tolist()


def group_chance(targets: torch.Tensor, groups: Sequence[int]) -> float:
    """Expected group-level top-1 of a uniformly random prediction: the mean share of classes
    in the target's group."""
    g = torch.tensor(list(groups))
    sizes = torch.bincount(g).float()
    return float((sizes[g[targets]] / len(groups)).mean())


def relabelled_null(acts: torch.Tensor, labels: Sequence[str], classes: Sequence[str],
                    components: torch.Tensor | None, statistic: Callable[[torch.Tensor], dict[str, float]],
                    seed: int, n_shuffles: int) -> dict[str, np.ndarray]:
    """The null distribution of ``statistic`` under relabelling: for each of ``n_shuffles``
    seeded permutations of the training labels, rebuild the vectors with the same recipe
    (``vector_recipe``, same neutral ``components`` projected out) and evaluate ``statistic`` on
    them exactly as on the real vectors. Returns {name: array of the statistic per shuffle}."""
    from .vectors import vector_recipe

    if n_shuffles < 1:
        raise ValueError("n_shuffles must be >= 1")
    gen = torch.Generator().manual_seed(int(seed))
    out: dict[str, list[float]] = {}
    for _ in range(n_shuffles):
        perm = torch.randperm(len(labels), generator=gen)
        vectors, _ = vector_recipe(acts, [labels[i] for i in perm], classes, components)
        for name, value in statistic(vectors).items():
            out.setdefault(name, []).append(float(value))
    return {name: np.array(values) for name, values in out.items()}
