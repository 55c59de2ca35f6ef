"""How causal effects are measured (``steering.measures``) and the vectors later chapters use
(``settled_vectors``): option probabilities map letters back to options under every rotation;
next-token log-probabilities equal transformers' own; conditions at strength 0 equal the
baseline; the random-direction control's numbers; perplexity equals a direct computation; the
NDIF simulation gives the same probabilities; the settled recipe comes from chapter 01's record."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from tiny import FAMILIES, tiny_model

from emotion_concepts.errors import ParameterError
from emotion_concepts.findings.emotion_vectors import settled_recipe, settled_vectors
from emotion_concepts.models import simulated
from emotion_concepts.readout.activations import encode_texts
from emotion_concepts.steering import measures as M
from emotion_concepts.steering import steered_logprobs

ITEMS = [M.ChoiceItem("park", "You can spend the afternoon doing one thing.",
                      {"read": "read a book in the park", "tax": "fill in tax forms", "clean": "clean the garage"}),
         M.ChoiceItem("meal", "Pick a dinner for tonight.", {"soup": "a bowl of soup", "pizza": "a pizza",
                                                              "salad": "a salad"})]


def test_rotations_put_every_option_in_every_position():
    rots = M.rotations(["a", "b", "c", "d"])
    assert len(rots) == 4
    for position in range(4):
        assert sorted(r[position] for r in rots) == ["a", "b", "c", "d"]
    assert M.rotations(["a", "b", "c"], 2) == [("a", "b", "c"), ("b", "c", "a")]
    with pytest.raises(ParameterError):
        M.rotations(["a", "b"], 3)
    with pytest.raises(ParameterError):
        M.ChoiceItem("x", "q", {"a": "only one"})


@pytest.mark.parametrize("family", FAMILIES)
def test_next_token_logprobs_equal_transformers(family):
    """The float32 recomputation from the final norm's output equals the model's own logits."""
    m = tiny_model(family)
    prompts = ["Hello there, how are you today?", "Short."]
    ours = steered_logprobs(m, prompts)
    for i, p in enumerate(prompts):
        ids = torch.tensor([encode_texts(m, [p])[0]])
        with torch.no_grad():
            ref = m.torch_module(ids).logits[0, -1].float().log_softmax(-1)
        torch.testing.assert_close(ours[i], ref, atol=1e-4, rtol=0)


def test_option_probabilities_follow_the_options_not_the_letters(model):
    prompts = M.choice_prompts(model, ITEMS[:1])
    assert [p.order for p in prompts] == M.rotations(["read", "tax", "clean"])
    assert prompts[0].text.endswith("(") and "(B) fill in tax forms" in prompts[0].text
    result = M.option_probabilities(model, prompts)
    letters = M.letter_token_ids(model.tokenizer, 3)
    raw = steered_logprobs(model, [p.text for p in prompts], token_ids=letters).exp()
    by_letter = raw / raw.sum(-1, keepdim=True)
    for row, p in enumerate(prompts):
        for pos, key in enumerate(p.order):
            assert result.probs[row, result.keys.index(key)] == pytest.approx(float(by_letter[row, pos]), abs=1e-6)
    torch.testing.assert_close(result.probs.sum(-1), torch.ones(3))
    assert ((result.letter_mass > 0) & (result.letter_mass <= 1)).all()


def test_conditions_at_strength_zero_equal_the_baseline_and_randoms_are_seeded(model):
    prompts = M.choice_prompts(model, ITEMS, n_rotations=2)
    norms = {10: 100.0, 20: 250.0}
    emotion = M.vector_condition("e", {10: torch.randn(model.d_model), 20: torch.randn(model.d_model)}, 0.0, norms)
    randoms = M.random_conditions(3, [20], model.d_model, 0.3, norms, seed=1)
    again = M.random_conditions(3, [20], model.d_model, -0.3, norms, seed=1)
    assert all(torch.equal(a.edits[0].unit, b.edits[0].unit) for a, b in zip(randoms, again, strict=True))
    assert emotion.layers == (10, 20) and len(emotion.edits) == 2
    eff = M.choice_effects(model, prompts, [M.baseline(), emotion, *randoms], batch_size=5)
    assert len(eff) == 5 * len(prompts)
    base = eff[eff.label == "baseline"]
    zero = eff[eff.label == "e"]
    for key in ("read", "soup"):
        assert np.allclose(base[f"p_{key}"].to_numpy(), zero[f"p_{key}"].to_numpy(), atol=1e-6, equal_nan=True)
    means = M.mean_by_condition(eff, "read")
    assert set(means.kind) == {"baseline", "emotion", "random"}
    # the mean is over items first: both items weigh the same whatever their rotations
    expected = base[base.item == "park"].p_read.mean()
    got = M.mean_by_condition(base.assign(p_read=base.p_read.where(base.item == "park")), "read")
    assert got.p.iloc[0] == pytest.approx(expected)


def test_random_control_numbers():
    randoms = np.linspace(-0.05, 0.05, 21)
    c = M.random_control(0.2, randoms)
    assert c.random_mean == pytest.approx(0.0, abs=1e-12)
    assert c.random_sd == pytest.approx(float(np.std(randoms, ddof=1)))
    assert c.z == pytest.approx(0.2 / c.random_sd)
    assert (c.random_lo, c.random_hi) == pytest.approx(tuple(np.percentile(randoms, [2.5, 97.5])))
    assert c.beyond == "above" and c.replicates("increase") and not c.replicates("decrease")
    assert M.random_control(0.0, randoms).beyond == "inside"
    assert M.random_control(-1.0, randoms).replicates("decrease")
    with pytest.raises(ParameterError):
        M.random_control(0.1, [0.0])


def test_contrast_against_random_uses_pairs_of_random_directions():
    randoms = [0.40, 0.45, 0.50, 0.55, 0.60]
    c = M.contrast_against_random(0.70, 0.30, randoms)
    assert c.effect == pytest.approx(0.40) and c.n_random == 20  # 5 x 4 ordered pairs
    assert c.random_mean == pytest.approx(0.0) and c.random_hi == pytest.approx(np.percentile(
        [a - b for i, a in enumerate(randoms) for j, b in enumerate(randoms) if i != j], 97.5))
    assert c.beyond == "above"
    # two emotions that move the option alike are not specific, however far both moved it
    assert M.contrast_against_random(0.90, 0.88, randoms).beyond == "inside"
    with pytest.raises(ParameterError):
        M.contrast_against_random(0.5, 0.4, [0.5])


def test_perplexity_equals_a_direct_computation(model):
    prompt, completion = model.chat("Name a colour."), "Blue is a calm colour."
    got = M.perplexity(model, [prompt, prompt], [completion, ""])
    assert np.isnan(got[1])
    p_ids, f_ids = encode_texts(model, [prompt])[0], encode_texts(model, [prompt + completion])[0]
    with torch.no_grad():
        logp = model.torch_module(torch.tensor([f_ids])).logits[0].float().log_softmax(-1)
    nll = -torch.stack([logp[t - 1, f_ids[t]] for t in range(len(p_ids), len(f_ids))]).mean()
    assert got[0] == pytest.approx(float(nll.exp()), rel=1e-4)


@pytest.mark.model
def test_option_probabilities_under_the_simulation(model):
    prompts = M.choice_prompts(model, ITEMS[:1], n_rotations=2)
    edits = [(M.vector_condition("e", {20: torch.ones(model.d_model)}, 0.2, {20: 250.0}).edits)] * 2
    local = M.option_probabilities(model, prompts, edits)
    sim = M.option_probabilities(simulated(model), prompts, edits)
    torch.testing.assert_close(sim.probs, local.probs, atol=1e-5, rtol=0)


def test_settled_recipe_reads_chapter_01s_record(model, tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION_BOOK_RESULTS", str(tmp_path))
    recipe, source = settled_recipe(model)
    assert (recipe.layer, recipe.reference, recipe.style) == (model.default_layer, "own", False)
    assert "default" in source
    path = tmp_path / "smollm2-135m-instruct" / "01-emotion-vectors.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"metrics": {"layer": 11, "reference": "train", "style_removed": True},
                                "params": {"neutral_variance": 0.4}, "run": {"overrides": {"n_neutral": 48}}}))
    recipe, source = settled_recipe(model)
    assert (recipe.layer, recipe.reference, recipe.style, recipe.neutral_variance) == (11, "train", True, 0.4)
    assert "partial" in source
    recipe, source = settled_recipe(model, layer=5)
    assert recipe.layer == 5 and "layer set to 5" in source
    with pytest.raises(Exception, match="out of range"):
        settled_recipe(model, layer=99)


def test_settled_vectors_score_sets_of_texts(model_bf16, tmp_path, monkeypatch, isolated_cache):
    monkeypatch.setenv("EMOTION_BOOK_RESULTS", str(tmp_path))
    sv = settled_vectors(model_bf16, layer=12, emotions=["happy", "sad", "afraid"], n_neutral=8)
    assert sv.emotions == ["afraid", "happy", "sad"] and sv.vectors.vectors.shape == (3, model_bf16.d_model)
    acts = torch.randn(4, model_bf16.d_model)
    scores = sv.scores(acts)
    assert scores.shape == (4, 3) and scores.abs().max() <= 1 + 1e-5
    # 'own' centres on the scored set: adding a constant to every activation changes nothing
    torch.testing.assert_close(sv.scores(acts + 5.0), scores, atol=1e-4, rtol=0)
    frame = sv.frame(acts, list("abcd"), reference="neutral")
    assert list(frame.columns) == sv.emotions and list(frame.index) == list("abcd")


class _Tokenizer:
    """A stand-in that writes the given strings as the given tokens."""

    def __init__(self, table: dict[str, list[int]]):
        self.table = table

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return self.table[text]


def test_answer_tokens_follow_the_tokenizer():
    # "(A" as "(" then "A" (SmolLM2): prefill "(" and read the letters
    split = _Tokenizer({"(": [7], "(A": [7, 32], "(B": [7, 33], "(C": [7, 34]})
    assert M.answer_tokens(split, 3) == ("(", [32, 33, 34])
    # "(A" as one token (Qwen2.5): no prefill, read "(A", "(B", "(C" themselves
    merged = _Tokenizer({"(": [7], "(A": [4346], "(B": [5349], "(C": [5812]})
    assert M.answer_tokens(merged, 3) == ("", [4346, 5349, 5812])
    mixed = _Tokenizer({"(": [7], "(A": [4346], "(B": [7, 33]})
    with pytest.raises(ParameterError, match="neither"):
        M.answer_tokens(mixed, 2)
    # and the default model's own tokenizer takes the first way
    assert M.answer_tokens(_default_tokenizer(), 4)[0] == "("


def _default_tokenizer():
    from emotion_concepts.models import load_model

    return load_model().tokenizer
