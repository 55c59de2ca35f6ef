"""Steering, on tiny random models of each family and on the default model: the edited hidden
state equals the original plus strength x norm x unit vector at the chosen positions and nowhere
else; strength 0 changes nothing; a batch equals its rows alone; greedy generation is
deterministic; the cache key of a steered generation includes the edit; the NDIF simulation
gives the same numbers."""

from __future__ import annotations

import pytest
import torch
from tiny import FAMILIES, tiny_model

from emotion_concepts.models import simulated
from emotion_concepts.models.architecture import resolve
from emotion_concepts.readout.activations import encode_texts, pad_batch, real_token_index
from emotion_concepts.steering import Steer, mean_residual_norm, steered_generate, steered_logprobs

PROMPTS = ["Hello there, how are you today?", "Short.", "A somewhat longer prompt that has more characters in it."]


def _capture_next_block_input(m, layer):
    """Hook the block after ``layer``: its input is the (possibly edited) residual stream."""
    seen = []
    block = resolve(m.torch_module, m.arch.layers)[layer + 1]
    handle = block.register_forward_pre_hook(lambda mod, args, kwargs: seen.append(args[0].detach().clone())
                                             if args else seen.append(kwargs["hidden_states"].detach().clone()),
                                             with_kwargs=True)
    return seen, handle


@pytest.mark.parametrize("family", FAMILIES)
def test_edit_adds_exactly_the_delta_at_the_chosen_positions(family):
    m = tiny_model(family)
    direction = torch.randn(m.d_model, generator=torch.Generator().manual_seed(3))
    edit = Steer(layer=1, direction=direction, strength=0.7, norm=12.5, positions="prompt", start=2, end=6)
    seen, handle = _capture_next_block_input(m, 1)
    try:
        steered_logprobs(m, PROMPTS, [(edit,), (), (edit,)])
        steered_logprobs(m, PROMPTS, None)
    finally:
        handle.remove()
    steered, plain = seen
    mask = pad_batch(encode_texts(m, PROMPTS), m.tokenizer.pad_token_id, "left")["attention_mask"]
    index = real_token_index(mask)
    chosen = (index >= 2) & (index < 6)
    chosen[1] = False  # the middle row has no edit
    expected = plain.clone()
    expected[chosen] += 0.7 * 12.5 * direction / direction.norm()
    real = mask.bool()
    torch.testing.assert_close(steered[real], expected[real], atol=1e-6, rtol=0)
    assert torch.equal(steered[real & ~chosen], plain[real & ~chosen])  # nowhere else


@pytest.mark.parametrize("family", ["llama", "gpt_neox"])
def test_ablation_removes_the_direction_at_the_chosen_positions(family):
    m = tiny_model(family)
    direction = torch.randn(m.d_model, generator=torch.Generator().manual_seed(4))
    unit = direction / direction.norm()
    seen, handle = _capture_next_block_input(m, 2)
    try:
        steered_logprobs(m, PROMPTS, [(Steer(layer=2, direction=direction, operator="ablate"),)] * 3)
        steered_logprobs(m, PROMPTS, None)
    finally:
        handle.remove()
    steered, plain = seen
    real = pad_batch(encode_texts(m, PROMPTS), m.tokenizer.pad_token_id, "left")["attention_mask"].bool()
    expected = plain - (plain @ unit).unsqueeze(-1) * unit
    torch.testing.assert_close(steered[real], expected[real], atol=1e-5, rtol=0)
    assert float((steered[real] @ unit).abs().max()) < 1e-4


@pytest.mark.parametrize("family", FAMILIES)
def test_strength_zero_and_batches_change_nothing(family):
    m = tiny_model(family)
    direction = torch.randn(m.d_model, generator=torch.Generator().manual_seed(5))
    base = steered_logprobs(m, PROMPTS, None)
    zero = steered_logprobs(m, PROMPTS, [(Steer(layer=0, direction=direction, strength=0.0, norm=9.0),)] * 3)
    assert torch.equal(zero, base)
    rows = [(Steer(layer=1, direction=direction, strength=0.5, norm=10.0),), (), (Steer(layer=3, direction=-direction,
                                                                                       strength=0.2, norm=10.0),)]
    together = steered_logprobs(m, PROMPTS, rows)
    alone = torch.cat([steered_logprobs(m, [p], [r]) for p, r in zip(PROMPTS, rows, strict=True)])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=0)
    assert not torch.allclose(together[0], base[0])  # the edit did something
    torch.testing.assert_close(together[1], base[1], atol=1e-5, rtol=0)


def test_steered_generation_is_deterministic_and_cached_by_edit(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION_BOOK_CACHE", str(tmp_path))
    m = tiny_model("llama")
    direction = torch.randn(m.d_model, generator=torch.Generator().manual_seed(6))
    edit = (Steer(layer=1, direction=direction, strength=2.0, norm=10.0),)
    first = steered_generate(m, PROMPTS, [edit] * 3, max_new_tokens=6, cache=False)
    assert first == steered_generate(m, PROMPTS, [edit] * 3, max_new_tokens=6, cache=False)
    assert first != steered_generate(m, PROMPTS, None, max_new_tokens=6, cache=False)
    cached = steered_generate(m, PROMPTS, [edit] * 3, max_new_tokens=6)
    assert cached == first and len(list(tmp_path.glob("steered/*.json"))) == 3
    stronger = (Steer(layer=1, direction=direction, strength=2.5, norm=10.0),)
    steered_generate(m, PROMPTS, [stronger] * 3, max_new_tokens=6)
    assert len(list(tmp_path.glob("steered/*.json"))) == 6  # another strength is another key


def test_generation_edits_generated_tokens_only_when_asked():
    m = tiny_model("qwen2")
    direction = torch.randn(m.d_model, generator=torch.Generator().manual_seed(7))
    plain = steered_generate(m, PROMPTS, None, max_new_tokens=5, cache=False)
    prompt_only = (Steer(layer=1, direction=direction, strength=0.0, norm=10.0, positions="generated"),)
    assert steered_generate(m, PROMPTS, [prompt_only] * 3, max_new_tokens=5, cache=False) == plain
    gen_only = (Steer(layer=1, direction=direction, strength=3.0, norm=10.0, positions="generated"),)
    with pytest.raises(ValueError, match="no generated tokens"):
        steered_logprobs(m, PROMPTS, [gen_only] * 3)
    assert steered_generate(m, PROMPTS, [gen_only] * 3, max_new_tokens=5, cache=False) != plain


def test_bad_edits_are_refused():
    with pytest.raises(ValueError, match="non-zero"):
        Steer(layer=0, direction=torch.zeros(4))
    with pytest.raises(ValueError, match="positions"):
        Steer(layer=0, direction=torch.ones(4), positions="middle")
    m = tiny_model("llama")
    with pytest.raises(ValueError, match="d=32"):
        steered_logprobs(m, PROMPTS[:1], [(Steer(layer=0, direction=torch.ones(7)),)])


@pytest.mark.model
def test_default_model_steering_under_the_simulation(model):
    """Log-probabilities and generations under steering equal the local ones through the NDIF
    simulation, and the mean residual norm excludes the first position."""
    norm = mean_residual_norm(model, ["The kettle clicked off.", "We met at noon by the river."], [20])[20]
    assert 100 < norm < 1000  # SmolLM2 ~250 at layer 20; the first position alone is ~24,000
    direction = torch.randn(model.d_model, generator=torch.Generator().manual_seed(8))
    rows = [(Steer(layer=20, direction=direction, strength=0.3, norm=norm),), ()]
    prompts = [model.chat("How are you feeling today?"), model.chat("Name a colour.")]
    sim = simulated(model)
    torch.testing.assert_close(steered_logprobs(sim, prompts, rows), steered_logprobs(model, prompts, rows),
                               atol=1e-5, rtol=0)
    assert steered_generate(sim, prompts, rows, max_new_tokens=6, cache=False) == \
        steered_generate(model, prompts, rows, max_new_tokens=6, cache=False)
