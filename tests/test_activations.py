"""Extraction through nnsight equals transformers' own hidden states, whatever the padding
and batch size; it stops after the deepest layer; the cache skips the model."""

from __future__ import annotations

import pytest
import torch
from conftest import MIXED_TEXTS

from emotion_concepts import activations
from emotion_concepts.activations import (
    gather_position,
    masked_mean,
    real_token_index,
    residual_means,
    residuals_at,
    token_range_mask,
)
from emotion_concepts.errors import EmotionBookError, LayerError

LAYERS = [3, 11, 20]
LONG = [MIXED_TEXTS[i] for i in (0, 2, 3, 4)]


def reference_hidden(model, text: str) -> dict[int, torch.Tensor]:
    """Per-token residual stream from a plain transformers forward (no padding, batch 1)."""
    hf = model.lm._module
    enc = model.tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        out = hf(**enc, output_hidden_states=True)
    # hidden_states[0] is the embedding; [i + 1] the output of block i (not the final norm)
    return {layer: out.hidden_states[layer + 1][0] for layer in LAYERS}


@pytest.mark.parametrize("batch_size", [1, 8])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_means_match_transformers(model, isolated_cache, batch_size, padding_side):
    start = 1  # the shortest texts have two tokens
    got = residual_means(model, MIXED_TEXTS, LAYERS, start_token=start,
                         batch_size=batch_size, padding_side=padding_side, progress=False)
    for i, text in enumerate(MIXED_TEXTS):
        ref = reference_hidden(model, text)
        for layer in LAYERS:
            torch.testing.assert_close(got[layer][i], ref[layer][start:].mean(0), atol=1e-4, rtol=1e-4)


def test_short_texts_are_rejected_with_their_index(model, isolated_cache):
    with pytest.raises(EmotionBookError, match="start_token=3"):
        residual_means(model, MIXED_TEXTS, LAYERS, start_token=3, progress=False)


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_last_token_matches_transformers(model, isolated_cache, padding_side):
    got = residuals_at(model, MIXED_TEXTS, LAYERS, position=-1, batch_size=8,
                       padding_side=padding_side, progress=False)
    for i, text in enumerate(MIXED_TEXTS):
        ref = reference_hidden(model, text)
        for layer in LAYERS:
            torch.testing.assert_close(got[layer][i], ref[layer][-1], atol=1e-4, rtol=1e-4)


def test_forward_stops_after_deepest_layer(model, isolated_cache):
    hf = model.lm._module
    called = []
    hooks = [hf.model.layers[6].register_forward_hook(lambda *a: called.append("layer6")),
             hf.lm_head.register_forward_hook(lambda *a: called.append("lm_head"))]
    try:
        residual_means(model, MIXED_TEXTS[:3], [2, 5], start_token=1, progress=False, cache=False)
    finally:
        for h in hooks:
            h.remove()
    assert called == []


def test_cache_hit_skips_the_model(model, isolated_cache, monkeypatch):
    first = residual_means(model, LONG, [5], start_token=1, progress=False)
    assert list(isolated_cache.glob("activations/*.safetensors"))

    def boom(*args, **kwargs):
        raise AssertionError("the model ran on a cache hit")

    monkeypatch.setattr(activations, "_layer_outputs", boom)
    again = residual_means(model, LONG, [5], start_token=1, progress=False)
    torch.testing.assert_close(first[5], again[5])
    with pytest.raises(AssertionError, match="cache hit"):  # other parameters: a new key
        residual_means(model, LONG, [5], start_token=2, progress=False)


def test_layer_out_of_range(model):
    with pytest.raises(LayerError, match="0..29"):
        residual_means(model, MIXED_TEXTS, [30], start_token=1, progress=False)


def test_pure_helpers_handle_left_and_right_padding():
    right = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    left = torch.tensor([[0, 1, 1, 1], [1, 1, 1, 1]])
    assert real_token_index(right).tolist() == [[0, 1, 2, -1], [0, 1, 2, 3]]
    assert real_token_index(left).tolist() == [[-1, 0, 1, 2], [0, 1, 2, 3]]
    # start_token 0 still excludes the first position
    assert token_range_mask(right, 0).tolist() == [[False, True, True, False], [False, True, True, True]]
    h = torch.arange(8.0).reshape(1, 4, 2).repeat(2, 1, 1)
    assert masked_mean(h, token_range_mask(left, 2))[0].tolist() == [6.0, 7.0]
    assert gather_position(h, left, -1)[0].tolist() == [6.0, 7.0]
    assert gather_position(h, right, -1)[0].tolist() == [4.0, 5.0]
