"""Emotion vectors, exactly as the paper builds them.

1. For each emotion, the mean activation over its (training) stories.
2. Subtract the mean over emotions (the mean of the per-emotion means).
3. Project out the top principal components of emotionally neutral dialogues' activations
   that together explain ``neutral_variance`` (50%) of their variance.

Pure tensor functions first (``vector_recipe`` is the whole recipe in one call, shared with the
nulls); ``EmotionVectors`` bundles the result with metadata and saves it as one safetensors
file (the [n_emotions, d] matrix, the neutral PCs and the metadata) plus a readable JSON copy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import DataError
from ..files import atomic_write_bytes, atomic_write_json

FORMAT_VERSION = 2


def class_means(acts: torch.Tensor, labels: Sequence[str], classes: Sequence[str]) -> torch.Tensor:
    """[n_classes, d]: mean of ``acts`` rows for each class, in ``classes`` order."""
    lookup = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(labels) - set(lookup))
    if unknown:
        raise ValueError(f"labels not among the classes: {unknown[:5]}")
    index = torch.tensor([lookup[label] for label in labels], dtype=torch.long)
    counts = torch.bincount(index, minlength=len(classes))
    if (counts == 0).any():
        raise ValueError(f"no activations for class {classes[int((counts == 0).nonzero()[0])]!r}")
    sums = torch.zeros(len(classes), acts.shape[-1], dtype=acts.dtype).index_add_(0, index, acts)
    return sums / counts.unsqueeze(-1).to(acts.dtype)


def center_on_grand_mean(means: torch.Tensor) -> torch.Tensor:
    """Per-emotion means minus their mean over emotions."""
    return means - means.mean(dim=0, keepdim=True)


def principal_components(acts: torch.Tensor, variance: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Top principal directions of ``acts`` [n, d] explaining at least ``variance`` of the
    total variance. Returns (components [k, d] orthonormal rows, explained ratios [k])."""
    if not 0.0 <= variance <= 1.0:
        raise ValueError(f"variance must be in [0, 1], got {variance}")
    centered = acts.double() - acts.double().mean(dim=0, keepdim=True)
    _, s, vh = torch.linalg.svd(centered, full_matrices=False)
    ratios = s**2 / (s**2).sum()
    if variance == 0:
        return vh[:0].float(), ratios[:0].float()
    k = int(torch.searchsorted(ratios.cumsum(0), torch.tensor(variance, dtype=ratios.dtype)).item()) + 1
    k = min(k, vh.shape[0])
    return vh[:k].float(), ratios[:k].float()


def project_out(vectors: torch.Tensor, components: torch.Tensor) -> torch.Tensor:
    """Remove from each row of ``vectors`` its part in the span of ``components`` (orthonormal rows)."""
    if components.numel() == 0:
        return vectors.clone()
    return vectors - (vectors @ components.T) @ components


def vector_recipe(acts: torch.Tensor, labels: Sequence[str], emotions: Sequence[str],
                  components: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The paper's recipe as one function, shared by the real vectors and every null built by
    relabelling: per-emotion means, minus their grand mean, with ``components`` (neutral PCs)
    projected out. Returns (vectors, raw vectors before the projection)."""
    raw = center_on_grand_mean(class_means(acts, labels, emotions))
    return (raw.clone() if components is None else project_out(raw, components)), raw


@dataclass
class EmotionVectors:
    """A set of emotion vectors at one layer of one model."""

    emotions: list[str]
    vectors: torch.Tensor  # [n_emotions, d], after projection
    layer: int
    model: str
    neutral_components: torch.Tensor  # [k, d]
    neutral_explained: torch.Tensor  # [k]
    raw_vectors: torch.Tensor | None = None  # before projection
    metadata: dict = field(default_factory=dict)

    def __getitem__(self, emotion: str) -> torch.Tensor:
        try:
            return self.vectors[self.emotions.index(emotion)]
        except ValueError:
            raise KeyError(f"no vector for emotion {emotion!r}") from None

    def unit(self) -> torch.Tensor:
        return self.vectors / self.vectors.norm(dim=-1, keepdim=True).clamp_min(1e-12)

    def save(self, path: str | Path) -> Path:
        """Write ``path`` (.safetensors, tensors and metadata in one file, atomically) and a
        readable copy of the metadata beside it (.json, written after). See ``book/methods.md``."""
        from safetensors.torch import save

        path = Path(path).with_suffix(".safetensors")
        tensors = {"vectors": self.vectors.contiguous(),
                   "neutral_components": self.neutral_components.contiguous(),
                   "neutral_explained": self.neutral_explained.contiguous()}
        if self.raw_vectors is not None:
            tensors["raw_vectors"] = self.raw_vectors.contiguous()
        meta = {"format_version": FORMAT_VERSION, "emotions": self.emotions, "layer": self.layer,
                "model": self.model, **self.metadata}
        atomic_write_bytes(path, save(tensors, metadata={"meta": json.dumps(meta)}))
        atomic_write_json(path.with_suffix(".json"), meta)
        return path

    @classmethod
    def load(cls, path: str | Path) -> EmotionVectors:
        from safetensors import safe_open
        from safetensors.torch import load_file

        path = Path(path).with_suffix(".safetensors")
        if not path.exists():
            raise DataError(f"no saved vectors at {path}")
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {})["meta"])
        known = {"format_version", "emotions", "layer", "model"}
        return cls(emotions=meta["emotions"], vectors=tensors["vectors"], layer=meta["layer"],
                   model=meta["model"], neutral_components=tensors["neutral_components"],
                   neutral_explained=tensors["neutral_explained"],
                   raw_vectors=tensors.get("raw_vectors"),
                   metadata={k: v for k, v in meta.items() if k not in known})


def build_emotion_vectors(story_acts: torch.Tensor, labels: Sequence[str], emotions: Sequence[str],
                          neutral_acts: torch.Tensor, *, layer: int, model: str,
                          neutral_variance: float = 0.5, metadata: dict | None = None) -> EmotionVectors:
    """The paper's recipe, from story activations [n, d] with their emotion labels and neutral
    dialogue activations [m, d] at the same layer."""
    components, explained = principal_components(neutral_acts, neutral_variance)
    vectors, raw = vector_recipe(story_acts, labels, emotions, components)
    meta = {"neutral_variance": neutral_variance, "n_neutral": int(neutral_acts.shape[0]),
            "n_stories": int(story_acts.shape[0]), **(metadata or {})}
    return EmotionVectors(list(emotions), vectors, layer, model, components, explained, raw, meta)


def random_directions(n: int, like: torch.Tensor, seed: int) -> torch.Tensor:
    """[n, d] Gaussian directions, each rescaled to the norm of the matching row of ``like``
    (or of its mean row norm if ``like`` has a different number of rows): the control for
    'any direction of this size would do'."""
    gen = torch.Generator().manual_seed(int(seed))
    out = torch.randn(n, like.shape[-1], generator=gen)
    norms = like.norm(dim=-1) if like.shape[0] == n else like.norm(dim=-1).mean().expand(n)
    return out / out.norm(dim=-1, keepdim=True) * norms.unsqueeze(-1)
