"""Scoring activations against emotion vectors (pure tensor functions).

Raw cosines between a text's mean activation and emotion vectors are dominated by an offset
shared by all texts of a corpus, so every score here first subtracts an explicit reference
mean (the training stories' mean, the scored set's own mean, or a neutral baseline). The
chapters state which one they use.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def shuffled_label_accuracy(acts: torch.Tensor, labels: Sequence[str], classes: Sequence[str],
                            test_acts: torch.Tensor, test_targets: torch.Tensor,
                            reference: torch.Tensor, seed: int, k: int = 1,
                            n_shuffles: int = 20, components: torch.Tensor | None = None) -> torch.Tensor:
    """Null distribution: rebuild the vectors (same recipe, same neutral ``components``
    projected out) from training labels permuted at random and score the held-out set.
    Returns the top-k accuracy of each shuffle."""
    from .vectors import center_on_grand_mean, class_means, project_out

    gen = torch.Generator().manual_seed(int(seed))
    out = []
    for _ in range(n_shuffles):
        perm = torch.randperm(len(labels), generator=gen)
        shuffled = [labels[i] for i in perm]
        vecs = center_on_grand_mean(class_means(acts, shuffled, classes))
        if components is not None:
            vecs = project_out(vecs, components)
        out.append(topk_accuracy(cosine_matrix(test_acts, vecs, reference), test_targets, k))
    return torch.tensor(out)
