"""The steps chapters share: read story and neutral activations, build vectors, evaluate them
on held-out stories. Each step is one function, so every number in the book traces to one call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .activations import residual_means
from .corpus import Dialogue, Story, corpus_hash, format_dialogue
from .models import LoadedModel
from .scoring import (
    chance_topk,
    confusion,
    cosine_matrix,
    label_indices,
    shuffled_label_accuracy,
    topk_accuracy,
)
from .vectors import EmotionVectors, build_emotion_vectors


def story_activations(model: LoadedModel, stories: Sequence[Story], layers: Sequence[int], *,
                      start_token: int = 50, batch_size: int = 8) -> dict[int, torch.Tensor]:
    """{layer: [n_stories, d]} mean residual stream of each story from ``start_token`` on."""
    return residual_means(model, [s.text for s in stories], layers, start_token=start_token,
                          batch_size=batch_size, progress="stories")


def neutral_activations(model: LoadedModel, dialogues: Sequence[Dialogue], layers: Sequence[int], *,
                        start_token: int = 1, batch_size: int = 8) -> dict[int, torch.Tensor]:
    """{layer: [n_dialogues, d]} mean residual stream of each neutral dialogue, rendered in the
    model's chat template."""
    texts = [format_dialogue(model.tokenizer, d) for d in dialogues]
    return residual_means(model, texts, layers, start_token=start_token, batch_size=batch_size,
                          progress="neutral dialogues")


def vectors_at(model: LoadedModel, layer: int, stories: Sequence[Story], story_acts: torch.Tensor,
               neutral_acts: torch.Tensor, emotions: Sequence[str], *, neutral_variance: float = 0.5,
               params: dict | None = None) -> EmotionVectors:
    """Vectors from the training split's stories at one layer."""
    train = [i for i, s in enumerate(stories) if s.split == "train"]
    return build_emotion_vectors(
        story_acts[train], [stories[i].emotion for i in train], emotions, neutral_acts,
        layer=layer, model=model.alias, neutral_variance=neutral_variance,
        metadata={"corpus_hash": corpus_hash(stories), "model_identity": model.identity,
                  **(params or {})})


@dataclass
class HeldoutResult:
    scores: torch.Tensor  # [n_test, n_emotions] cosines
    targets: torch.Tensor  # [n_test]
    top1: float
    top5: float
    chance_top1: float
    chance_top5: float
    shuffled_top1: torch.Tensor  # null distribution
    shuffled_top5: torch.Tensor
    confusion: torch.Tensor

    def metrics(self) -> dict[str, float]:
        return {"heldout_top1": self.top1, "heldout_top5": self.top5,
                "chance_top1": self.chance_top1, "chance_top5": self.chance_top5,
                "shuffled_top1_mean": float(self.shuffled_top1.mean()),
                "shuffled_top1_p95": float(self.shuffled_top1.quantile(0.95)),
                "shuffled_top5_mean": float(self.shuffled_top5.mean()),
                "shuffled_top5_p95": float(self.shuffled_top5.quantile(0.95)),
                "n_test": int(self.targets.numel())}


def evaluate_heldout(vectors: EmotionVectors, stories: Sequence[Story], story_acts: torch.Tensor, *,
                     seed: int = 0, n_shuffles: int = 20) -> HeldoutResult:
    """Which emotion's vector has the highest cosine with each test story's mean activation,
    after centring on the training stories' mean (the stated reference)? With a shuffled-label
    null: vectors rebuilt from permuted training labels."""
    train = [i for i, s in enumerate(stories) if s.split == "train"]
    test = [i for i, s in enumerate(stories) if s.split == "test"]
    if not test:
        raise ValueError("no test stories")
    reference = story_acts[train].mean(dim=0)
    scores = cosine_matrix(story_acts[test], vectors.vectors, reference)
    targets = label_indices([stories[i].emotion for i in test], vectors.emotions)
    train_labels = [stories[i].emotion for i in train]
    null = {k: shuffled_label_accuracy(story_acts[train], train_labels, vectors.emotions,
                                       story_acts[test], targets, reference, seed, k, n_shuffles,
                                       vectors.neutral_components)
            for k in (1, 5)}
    n = len(vectors.emotions)
    return HeldoutResult(scores, targets, topk_accuracy(scores, targets, 1), topk_accuracy(scores, targets, 5),
                         chance_topk(n, 1), chance_topk(n, 5), null[1], null[5],
                         confusion(scores, targets, n))


def cluster_labels(vectors: EmotionVectors, k: int = 10, seed: int = 0) -> list[int]:
    """k-means (on unit vectors, as the paper clusters by cosine) of the emotion vectors."""
    from sklearn.cluster import KMeans

    k = min(k, len(vectors.emotions))
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(vectors.unit().numpy()).tolist()


def cluster_accuracy(result: HeldoutResult, groups: Sequence[int]) -> tuple[float, float]:
    """(accuracy, chance) where a top-1 prediction counts if it lands in the true emotion's
    cluster; chance is the expected rate of a uniformly random prediction."""
    from .scoring import group_accuracy

    g = torch.tensor(list(groups))
    sizes = torch.bincount(g).float()
    chance = float((sizes[g[result.targets]] / len(groups)).mean())
    return group_accuracy(result.scores, result.targets, groups), chance
