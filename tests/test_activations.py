"""Extraction through nnsight equals transformers' own hidden states, whatever the padding
and batch size; it stops after the deepest layer; the cache skips the model."""

from __future__ import annotations

import pytest
import torch
from conftest import MIXED_TEXTS

from emotion_concepts.errors import EmotionBookError, LayerError
from emotion_concepts.readout import activations
from emotion_concepts.readout.activations import (
    encode_texts,
    gather_position,
    masked_mean,
    pad_batch,
    real_token_index,
    residual_means,
    residuals_at,
    token_range_mask,
)

LAYERS = [3, 11, 20]
LONG = [MIXED_TEXTS[i] for i in (0, 2, 3, 4)]


def reference_hidden(model, text: str) -> dict[int, torch.Tensor]:
    """Per-token residual stream from a plain transformers forward (no padding, batch 1)."""
    hf = model.torch_module
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
    hf = model.torch_module
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

    monkeypatch.setattr(activations, "layer_outputs", boom)
    again = residual_means(model, LONG, [5], start_token=1, progress=False)
    torch.testing.assert_close(first[5], again[5])
    with pytest.raises(AssertionError, match="cache hit"):  # other parameters: a new key
        residual_means(model, LONG, [5], start_token=2, progress=False)
    with pytest.raises(AssertionError, match="cache hit"):  # a layer not read yet
        residual_means(model, LONG, [5, 7], start_token=1, progress=False)


def test_cached_layers_are_reused_and_only_missing_ones_are_read(model, isolated_cache, monkeypatch):
    first = residual_means(model, LONG, [4, 9], start_token=1, progress=False)
    asked = []
    real = activations.layer_outputs
    monkeypatch.setattr(activations, "layer_outputs", lambda m, enc, layers: asked.append(list(layers))
                        or real(m, enc, layers))
    both = residual_means(model, LONG, [9, 12], start_token=1, progress=False)
    assert asked and all(layers == [12] for layers in asked)  # layer 9 came from the cache
    torch.testing.assert_close(both[9], first[9])
    fresh = residual_means(model, LONG, [12], start_token=1, progress=False, cache=False)
    torch.testing.assert_close(both[12], fresh[12])


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


def test_start_token_is_a_zero_based_index(model, isolated_cache):
    """start_token=k averages tokens k, k+1, ... (0-based): start_token=49 is the paper's 50th token."""
    text = MIXED_TEXTS[4]
    got = residual_means(model, [text], [3], start_token=5, progress=False)[3][0]
    torch.testing.assert_close(got, reference_hidden(model, text)[3][5:].mean(0), atol=1e-4, rtol=1e-4)


def test_texts_are_tokenized_once_per_read(model, isolated_cache, monkeypatch):
    calls = []
    real = activations.encode_texts
    monkeypatch.setattr(activations, "encode_texts", lambda *a, **k: calls.append(1) or real(*a, **k))
    residual_means(model, LONG, [2], start_token=1, progress=False, cache=False)
    assert len(calls) == 1


def test_pad_batch_and_encoding():
    enc = pad_batch([[5, 6, 7], [8]], pad_id=0, side="left")
    assert enc["input_ids"].tolist() == [[5, 6, 7], [0, 0, 8]]
    assert enc["attention_mask"].tolist() == [[1, 1, 1], [0, 0, 1]]
    with pytest.raises(ValueError, match="padding side"):
        pad_batch([[1]], 0, "middle")


def test_chat_formatted_texts_get_no_second_bos(model):
    plain, chat = encode_texts(model, ["Hello there.", model.chat("Hello there.")])
    assert chat.count(model.tokenizer.convert_tokens_to_ids("<|im_start|>")) == 3  # system, user, assistant
    chat_ids = model.tokenizer(model.chat("Hi"), add_special_tokens=False)["input_ids"]
    assert encode_texts(model, [model.chat("Hi")])[0] == chat_ids


def test_bf16_vectors_agree_with_fp32(model, model_bf16, isolated_cache):
    """The chapters read in bfloat16 (about three times faster here): on a subset, the emotion
    vectors it gives have cosine >= 0.999 with the float32 ones, emotion by emotion."""
    from emotion_concepts import corpus
    from emotion_concepts.readout.vectors import vector_recipe

    stories = [s for s in corpus.load_stories(emotions_subset=["happy", "sad", "afraid", "angry", "calm", "proud"],
                                              voices=["narrative"]) if s.split == "train"]
    texts, labels = [s.text for s in stories], [s.emotion for s in stories]
    emotions = sorted(set(labels))
    vecs = {}
    for name, m in (("fp32", model), ("bf16", model_bf16)):
        acts = residual_means(m, texts, [20], start_token=49, progress=False)[20]
        vecs[name] = vector_recipe(acts, labels, emotions, None)[0]
    cos = torch.nn.functional.cosine_similarity(vecs["fp32"], vecs["bf16"], dim=-1)
    assert cos.min() >= 0.999, cos


def test_heap_trim_is_harmless():
    from emotion_concepts import heap

    heap.trim()
    heap.trim()  # idempotent, and a no-op where there is no glibc


def test_trimming_yields_every_batch_and_trims_after_every_nth(monkeypatch):
    from emotion_concepts import heap

    trims = []
    seen = []
    monkeypatch.setattr(heap, "trim", lambda: trims.append(len(seen)))
    for batch in heap.trimming(range(10), every=4):
        seen.append(batch)
    assert seen == list(range(10)) and trims == [4, 8]  # after the 4th and the 8th were processed
