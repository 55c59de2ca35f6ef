"""Finding 1: emotion vectors exist and track the emotion of a text (chapter 01).

The steps: read story and neutral-dialogue activations, build the vectors at each layer with
the paper's recipe, score held-out stories against them (top-1, top-5 and cluster level, each
against the same statistic under shuffled training labels), and read the vectors through the
logit lens (against the same count under permuted word lists)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..corpus.neutral import Dialogue, format_dialogue
from ..corpus.stories import Story, corpus_hash, emotions, split_indices
from ..models.loading import LoadedModel
from ..readout.activations import residual_means
from ..readout.scoring import (
    chance_topk,
    confusion,
    cosine_matrix,
    group_accuracy,
    group_chance,
    kmeans_groups,
    label_indices,
    relabelled_null,
    topk_accuracy,
)
from ..readout.vectors import EmotionVectors, build_emotion_vectors
from .base import Chapter, Claim, Param

N_CLUSTERS = 10  # the paper's k-means k

# ---------------------------------------------------------------- steps


def story_activations(model: LoadedModel, stories: Sequence[Story], layers: Sequence[int], *,
                      start_token: int = 49, batch_size: int = 8) -> dict[int, torch.Tensor]:
    """{layer: [n_stories, d]} mean residual stream of each story from token index ``start_token`` on."""
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
               neutral_acts: torch.Tensor, emotion_names: Sequence[str], *, neutral_variance: float = 0.5,
               params: dict | None = None) -> EmotionVectors:
    """Vectors from the training split's stories at one layer."""
    train, _ = split_indices(stories)
    return build_emotion_vectors(
        story_acts[train], [stories[i].emotion for i in train], emotion_names, neutral_acts,
        layer=layer, model=model.alias, neutral_variance=neutral_variance,
        metadata={"corpus_hash": corpus_hash(stories), "model_identity": model.identity, **(params or {})})


def heldout_statistic(test_acts: torch.Tensor, targets: torch.Tensor, reference: torch.Tensor,
                      cluster_k: int, seed: int) -> Callable[[torch.Tensor], dict[str, float]]:
    """The held-out statistics of a set of vectors: top-1, top-5 and cluster-level top-1 (clusters
    found by k-means on those same vectors). One function, applied to the real vectors and to
    every relabelled null, so the null is the null of the statistic reported."""

    def statistic(vectors: torch.Tensor) -> dict[str, float]:
        scores = cosine_matrix(test_acts, vectors, reference)
        groups = kmeans_groups(vectors, cluster_k, seed)
        return {"top1": topk_accuracy(scores, targets, 1), "top5": topk_accuracy(scores, targets, 5),
                "cluster_top1": group_accuracy(scores, targets, groups),
                "cluster_chance": group_chance(targets, groups)}

    return statistic


@dataclass
class HeldoutResult:
    scores: torch.Tensor  # [n_test, n_emotions] cosines
    targets: torch.Tensor  # [n_test]
    groups: list[int]  # k-means cluster of each emotion
    observed: dict[str, float]  # top1, top5, cluster_top1, cluster_chance
    null: dict[str, np.ndarray]  # the same statistics under shuffled training labels
    chance_top1: float
    chance_top5: float
    confusion: torch.Tensor

    @property
    def top1(self) -> float:
        return self.observed["top1"]

    @property
    def top5(self) -> float:
        return self.observed["top5"]

    def metrics(self) -> dict[str, float]:
        out = {"heldout_top1": self.top1, "heldout_top5": self.top5,
               "chance_top1": self.chance_top1, "chance_top5": self.chance_top5,
               "cluster_top1": self.observed["cluster_top1"], "cluster_chance": self.observed["cluster_chance"],
               "n_test": int(self.targets.numel())}
        names = (("top1", "shuffled_top1"), ("top5", "shuffled_top5"), ("cluster_top1", "shuffled_cluster_top1"))
        for name, key in names:
            out[f"{key}_mean"] = float(self.null[name].mean())
            out[f"{key}_p95"] = float(np.quantile(self.null[name], 0.95))
        return out


def evaluate_heldout(vectors: EmotionVectors, stories: Sequence[Story], story_acts: torch.Tensor, *,
                     seed: int = 0, n_shuffles: int = 20, cluster_k: int = N_CLUSTERS) -> HeldoutResult:
    """Which emotion's vector has the highest cosine with each test story's mean activation,
    after centring on the training stories' mean (the stated reference)? With the same
    statistics under shuffled training labels (vectors rebuilt by the same recipe, clusters
    recomputed on them)."""
    train, test = split_indices(stories)
    if not test:
        raise ValueError("no test stories")
    reference = story_acts[train].mean(dim=0)
    targets = label_indices([stories[i].emotion for i in test], vectors.emotions)
    statistic = heldout_statistic(story_acts[test], targets, reference, cluster_k, seed)
    scores = cosine_matrix(story_acts[test], vectors.vectors, reference)
    observed = statistic(vectors.vectors)
    null = relabelled_null(story_acts[train], [stories[i].emotion for i in train], vectors.emotions,
                           vectors.neutral_components, statistic, seed, n_shuffles)
    n = len(vectors.emotions)
    return HeldoutResult(scores, targets, kmeans_groups(vectors.vectors, cluster_k, seed), observed, null,
                         chance_topk(n, 1), chance_topk(n, 5), confusion(scores, targets, n))


def layer_sweep(results: dict[int, HeldoutResult]) -> pd.DataFrame:
    """One row per layer: held-out top-1/top-5 and their shuffled-label 95th percentiles."""
    rows = []
    for layer, r in sorted(results.items()):
        m = r.metrics()
        rows.append({"layer": layer, "top1": r.top1, "top5": r.top5, "shuffled_top1_p95": m["shuffled_top1_p95"],
                     "shuffled_top5_p95": m["shuffled_top5_p95"]})
    return pd.DataFrame(rows).set_index("layer")


def sweep_layers(n_layers: int, layer: int, step: int) -> list[int]:
    """The chapter's layer plus every ``step``-th layer (none when ``step`` is 0)."""
    return sorted({layer, *(range(step - 1, n_layers, step) if step else [])})


# ---------------------------------------------------------------- the chapter

CHAPTER = Chapter(
    id="01-emotion-vectors",
    title="Emotion vectors",
    params={
        "layer": Param(layer=True),
        "start_token": Param(min=1),
        "neutral_start_token": Param(min=1),
        "batch_size": Param(min=1, max=256),
        "neutral_variance": Param(min=0.0, max=1.0),
        "n_neutral": Param(min=0),
        "emotions": Param(choices=emotions),
        "sweep_step": Param(min=0),
        "n_shuffles": Param(min=1),
        "n_permutations": Param(min=1),
        "seed": Param(min=0),
    },
    metrics=("n_emotions", "layer", "n_train", "n_test", "n_neutral_pcs", "chance_top1", "chance_top5",
             "shuffled_top1_mean", "shuffled_top5_mean", "logit_lens_null_mean", "logit_lens_p",
             "logit_lens_last_layer", "best_layer_top1", "best_layer_top1_value"),
    claims=(
        Claim("Held-out stories: the nearest emotion vector is the story's emotion (top-1)",
              "qualitative (vectors track the emotion)", "heldout_top1", "shuffled_top1_p95",
              "shuffled labels, 95th pct", note=lambda m: f"{m['n_emotions']}-way, chance {m['chance_top1']:.3f}"),
        Claim("Held-out stories: top-5", "-", "heldout_top5", "shuffled_top5_p95", "shuffled labels, 95th pct",
              note=lambda m: f"chance {m['chance_top5']:.3f}"),
        Claim("Held-out stories, cluster level (k-means, k = 10)", "-", "cluster_top1", "shuffled_cluster_top1_p95",
              "shuffled labels (clusters recomputed), 95th pct",
              note=lambda m: f"uniform chance {m['cluster_chance']:.3f}"),
        Claim("Logit lens: a vector's top-20 tokens include its own emotion's word",
              "desperate -> desperate, urgent, bankrupt", "logit_lens_hit_rate", "logit_lens_null_p95",
              "word lists permuted, 95th pct", note=lambda m: f"layer {m['layer']}"),
        Claim("Logit lens at the deepest layer swept", "-", "logit_lens_last_hit_rate", "logit_lens_last_null_p95",
              "word lists permuted, 95th pct", note=lambda m: f"layer {m['logit_lens_last_layer']}"),
    ),
    quick={"emotions": ["happy", "sad", "afraid", "angry", "calm", "desperate", "disgusted", "proud",
                        "ashamed", "loving", "bored", "content"],
           "sweep_step": 10, "n_permutations": 50, "n_shuffles": 10, "n_neutral": 48},
)
