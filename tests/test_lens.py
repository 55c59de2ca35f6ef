"""The logit lens: token matching (pure) and the lens test on the default model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emotion_concepts import lens


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


@pytest.mark.model
def test_lens_of_final_residual_is_the_models_own_next_token_ranking(model):
    """The final norm only rescales a position by a positive number (1 / RMS) before its gain,
    so the lens of the last block's output must rank tokens exactly as the model's logits do."""
    hf = model.lm._module
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
def test_lens_test_reports_random_control(model):
    lexicons = [["happy", "cheerful"], ["angry", "furious"], ["afraid", "scared"]]
    vectors = torch.randn(3, model.d_model, generator=torch.Generator().manual_seed(0))
    result = lens.lens_test(model, vectors, lexicons, n_random=10, seed=1)
    assert len(result.top) == 3 and all(len(row) == 20 for row in result.top)
    assert result.random_rates.shape == (10,)
    assert 0.0 <= result.random_mean <= result.random_p95 <= 1.0
    again = lens.lens_test(model, vectors, lexicons, n_random=10, seed=1)
    np.testing.assert_array_equal(result.random_rates, again.random_rates)  # seeded
    with pytest.raises(ValueError, match="3 vectors but 2 lexicons"):
        lens.lens_test(model, vectors, lexicons[:2], n_random=10, seed=1)
