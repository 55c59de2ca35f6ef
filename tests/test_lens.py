"""The logit lens: token matching (pure), its relabelling null, and the lens on the default model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emotion_concepts.readout import lens


def test_related_matches_word_pieces_not_short_fragments():
    assert lens.related(" desper", ["desperate"])
    assert lens.related("Desperately", ["desperate"])
    assert not lens.related(" des", ["desperate"])  # under four letters
    assert not lens.related(" calm", ["desperate", "hopeless"])


def test_hit_rate_counts_rows_against_their_own_lexicon():
    tokens = [[" joy", " sunny"], [" table", " chair"]]
    assert lens.hit_rate(tokens, [["joyful"], ["grief"]]) == 0.0  # 'joy' is under four letters
    assert lens.hit_rate(tokens, [["sunny"], ["grief"]]) == 0.5
    with pytest.raises(ValueError):
        lens.hit_rate(tokens, [["sunny"]])


def test_relabelled_null_is_low_when_only_the_right_lists_hit():
    """Each row's tokens relate to its own list only: the statistic is 1, and the same tokens
    scored against permuted lists fall to about 1/n (a fixed point of the permutation)."""
    words = ["happy", "angry", "afraid", "proud", "bored", "lonely", "grateful", "jealous"]
    tokens = [[f" {w}", " table"] for w in words]
    table = lens.hits(tokens, [[w] for w in words])
    assert np.array_equal(table, np.eye(len(words), dtype=bool))
    null = lens.relabelled_hit_rates(table, 2000, seed=0)
    assert np.diag(table).mean() == 1.0
    assert null.mean() == pytest.approx(1 / len(words), abs=0.02)
    assert np.quantile(null, 0.95) < 0.5


@pytest.mark.model
def test_lens_of_final_residual_is_the_models_own_next_token_ranking(model):
    """The final norm only rescales a position by a positive number (1 / RMS) before its gain,
    so the lens of the last block's output must rank tokens exactly as the model's logits do."""
    hf = model.torch_module
    captured = {}
    hook = hf.model.norm.register_forward_hook(lambda mod, args, out: captured.update(x=args[0].detach()))
    try:
        enc = model.tokenizer("The capital of France is", return_tensors="pt")
        with torch.no_grad():
            logits = hf(**enc).logits[0, -1]
    finally:
        hook.remove()
    residual = captured["x"][0, -1:].float()
    expected = [model.tokenizer.decode([int(i)]) for i in logits.topk(5).indices]
    assert lens.top_tokens(model, residual, k=5)[0] == expected


@pytest.mark.model
def test_lens_test_fails_with_the_wrong_word_lists(model):
    """Directions built to point at emotion words (least-squares inverses of the unembedding, so
    each word's own logit stands out) pass with their own lists; the same directions scored
    against shifted lists fail, and the permutation null sits far below."""
    words = ["happy", "angry", "afraid", "proud", "bored", "lonely", "calm", "sad", "guilty", "jealous",
             "grateful", "nervous"]
    hf = model.torch_module
    ids = [model.tokenizer(" " + w, add_special_tokens=False)["input_ids"][0] for w in words]
    w = hf.lm_head.weight.detach().double()
    directions = torch.linalg.solve(w.T @ w, w[ids].T).T / hf.model.norm.weight.detach().double()
    right = lens.lens_test(model, directions, [[w] for w in words], n_permutations=200, seed=1)
    assert right.hit_rate >= 0.9 and right.null_p95 < 0.5 and right.p_value < 0.01
    wrong = lens.lens_test(model, directions, [[w] for w in words[1:] + words[:1]], n_permutations=200, seed=1)
    assert wrong.hit_rate < right.null_p95 and wrong.p_value > 0.05
    again = lens.lens_test(model, directions, [[w] for w in words], n_permutations=200, seed=1)
    np.testing.assert_array_equal(right.null_rates, again.null_rates)  # seeded
    with pytest.raises(ValueError, match="12 vectors but 5 lexicons"):
        lens.lens_test(model, directions, [[w] for w in words[:5]], n_permutations=10, seed=1)
