"""Reading the model: residual-stream activations, emotion vectors, scoring against them, and
the logit lens."""

from . import lens, scoring
from .activations import residual_means, residuals_at
from .lens import LensTest, lens_test, top_tokens
from .scoring import (
    chance_topk,
    cosine_matrix,
    group_accuracy,
    group_chance,
    kmeans_groups,
    label_indices,
    relabelled_null,
    topk_accuracy,
)
from .vectors import EmotionVectors, build_emotion_vectors, random_directions, vector_recipe

__all__ = [
    "lens", "scoring", "residual_means", "residuals_at", "LensTest", "lens_test", "top_tokens", "chance_topk",
    "cosine_matrix",
    "group_accuracy", "group_chance", "kmeans_groups", "label_indices", "relabelled_null", "topk_accuracy",
    "EmotionVectors", "build_emotion_vectors", "random_directions", "vector_recipe",
]
