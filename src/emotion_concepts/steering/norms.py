"""The scale of steering: the mean residual-stream norm at a layer over ordinary text."""

from __future__ import annotations

from collections.abc import Sequence

from ..models.loading import LoadedModel
from ..readout.activations import residual_norm_means


def mean_residual_norm(model: LoadedModel, texts: Sequence[str], layers: Sequence[int], *,
                       batch_size: int = 8) -> dict[int, float]:
    """{layer: mean over texts of each text's mean per-token norm}, the first position excluded.
    The paper states steering strengths as fractions of this number."""
    per_text = residual_norm_means(model, texts, layers, batch_size=batch_size)
    return {layer: float(values.mean()) for layer, values in per_text.items()}
