"""Chapter 05's pieces: the template data files are what the templates write and are balanced;
the statistics and their nulls are computed as defined (a bias for one emotion, for the emotion
stated last or for one person scores binding accuracy exactly 0.5; identical profiles beat any
random pairing); the reads pick the positions they say, on the default model."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
import torch

from emotion_concepts.findings import speakers
from emotion_concepts.paths import data_dir
from emotion_concepts.readout.tokens import token_residuals, token_spans


def _jsonl(name):
    return [json.loads(line) for line in (data_dir() / "scenarios" / name).read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------- data


def test_data_files_are_what_the_templates_write():
    assert _jsonl("negation.jsonl") == speakers.negation_items()
    assert _jsonl("binding.jsonl") == speakers.binding_items()


def test_negation_items_differ_only_by_the_inserted_word():
    for r in speakers.negation_items(["happy", "worn out", "hope"]):
        a, n, c = r["affirmative"].split(), r["negated"].split(), r["control"].split()
        assert r["affirmative"].endswith(f"{r['emotion']}.") and "not" in n and "not" not in c
        assert len(c) == len(a) + 1 and len(n) in (len(a) + 1, len(a) + 2)


def test_binding_items_are_balanced_minimal_pairs():
    items = speakers.binding_items()
    for r in items:
        assert r["text"][slice(*r["mention_a"])] == r["person_a"] and r["text"][slice(*r["mention_b"])] == r["person_b"]
        assert r["mention_a"][0] > r["text"].index(".")  # the second mention, after the first sentence
    for twin_a, twin_b in zip(items[::2], items[1::2], strict=True):  # same people, emotions swapped
        assert (twin_a["person_a"], twin_a["person_b"]) == (twin_b["person_a"], twin_b["person_b"])
        assert (twin_a["emotion_a"], twin_a["emotion_b"]) == (twin_b["emotion_b"], twin_b["emotion_a"])
    assert Counter(r["template"] for r in items) == {0: len(items) // 2, 1: len(items) // 2}
    first_again = Counter(r["mention_a"][0] < r["mention_b"][0] for r in items)
    assert first_again[True] == first_again[False]  # half name the first person again first


def test_binding_for_keeps_whole_pairs():
    got = speakers.binding_for(speakers.binding_items(), ["happy", "calm", "sad", "afraid", "bored"], 2, seed=0)
    assert len({r["pair"] for r in got}) == 2 and len(got) == 8
    assert speakers.binding_for(speakers.binding_items(), ["happy", "calm"], 0, 0) == []


# ---------------------------------------------------------------- statistics


def test_profile_correlation_and_its_pairing_null():
    from scipy.stats import pearsonr

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(20, 6)), rng.normal(size=(20, 6))
    assert speakers.profile_correlation(a, b) == pytest.approx(pearsonr(a.ravel(), b.ravel()).statistic)
    same = speakers.shuffled_pairing_test(a, a + 0.1 * b, 200, seed=0)
    assert same.value > 0.9 and same.null_p95 < 0.5 and same.p_value < 0.01
    unrelated = speakers.shuffled_pairing_test(a, b, 200, seed=0)
    assert unrelated.p_value > 0.01


def test_sign_flip_null_is_centred_on_the_offset():
    up = speakers.sign_flip_test(np.full(12, 0.25), 500, seed=0, offset=0.5)
    assert up.value == pytest.approx(0.75) and 0.5 < up.null_p95 < 0.75 and up.p_value < 0.01
    mixed = speakers.sign_flip_test(np.array([0.5, -0.5] * 6), 500, seed=0, offset=0.5)
    assert mixed.value == pytest.approx(0.5) and mixed.p_value > 0.4


def test_valence_negativity_and_flip_rate():
    pleasant, unpleasant = speakers.valence_split(["happy", "sad", "loving", "calm", "afraid"])
    assert pleasant == ["happy", "calm"] and unpleasant == ["sad", "afraid"]  # 'loving' has no rating
    scores = np.array([[0.3, 0.1, 0.0, 0.1, 0.1], [0.0, 0.2, 0.9, 0.0, 0.4]])
    got = speakers.negativity(scores, ["happy", "sad", "loving", "calm", "afraid"], pleasant, unpleasant)
    np.testing.assert_allclose(got, [0.1 - 0.2, 0.3 - 0.0])
    assert speakers.flip_rate(np.array([0.2, 0.2, -0.1, 0.3]), np.array([-0.1, 0.1, -0.2, -0.3])) == 0.5


@pytest.mark.parametrize("bias", ["one emotion", "emotion stated last", "first person's emotion"])
def test_reads_blind_to_the_person_score_binding_at_exactly_chance(bias):
    """A read that favours the same emotion at both mentions of a sentence (one emotion always,
    the emotion stated last, the first person's) scores exactly 0.5, and its sentences score 0
    for the sign-flip null."""
    items = speakers.binding_items()
    names = sorted({r["emotion_a"] for r in items})
    col = {e: i for i, e in enumerate(names)}
    scores = {who: np.zeros((len(items), len(names))) for who in ("a", "b")}
    for i, r in enumerate(items):
        for who in ("a", "b"):
            if bias == "one emotion":
                favoured = min(r["emotion_a"], r["emotion_b"])
            elif bias == "emotion stated last":
                favoured = r["emotion_b"]
            else:
                favoured = r["emotion_a"]
            scores[who][i, col[favoured]] = 1.0
    margins = speakers.binding_margins(scores["a"], scores["b"], items, names)
    assert float((margins > 0).mean()) == 0.5
    np.testing.assert_allclose(speakers.binding_item_scores(margins), 0.0)


# ---------------------------------------------------------------- reads on the default model


def test_reads_pick_the_positions_they_say(model, isolated_cache):
    m, layer = model, 3
    close = {"atol": 1e-4, "rtol": 1e-4}
    messages = [r["message"] for r in speakers.load_scenarios("user_messages.jsonl")[:2]]
    turns = speakers.read_turns(m, messages, [layer], reply_tokens=4)
    assert all(turns.replies) and turns.user[layer].shape == (2, m.d_model)
    full = token_residuals(m, [p + r for p, r in zip(turns.prompts, turns.replies, strict=True)], [layer])
    for i, read in enumerate(full):
        prompt_tokens = len(token_spans(m, turns.prompts[i])[0])
        torch.testing.assert_close(turns.assistant[layer][i], read.residuals[layer][prompt_tokens - 1], **close)
        assert read.pieces[prompt_tokens - 1] == "\n" and read.pieces[prompt_tokens - 2] == "istant"
        user_end = turns.prompts[i].rfind(messages[i]) + len(messages[i])
        torch.testing.assert_close(turns.user[layer][i], read.residuals[layer][read.last_token_in(0, user_end)],
                                   **close)
        torch.testing.assert_close(turns.reply[layer][i], read.residuals[layer][prompt_tokens:].mean(0), **close)

    pairs = speakers.load_scenarios("carryover.jsonl")[:2]
    carry = speakers.read_carryover(m, pairs, [layer])
    assert carry.shared[layer].shape == (4, m.d_model) and len(carry.texts) == 4
    assert pairs[0]["negative"] in carry.texts[0] and pairs[0]["positive"] in carry.texts[2]

    neg_items = speakers.negation_items(["happy"])[:2]
    neg = speakers.read_negation(m, neg_items, [layer])
    read = token_residuals(m, [neg_items[0]["negated"]], [layer])[0]
    torch.testing.assert_close(neg["negated"][layer][0], read.residuals[layer][-2], **close)  # 'happy'
    bind = speakers.read_binding(m, speakers.binding_items()[:2], [layer])
    assert bind["a"][layer].shape == bind["b"][layer].shape == (2, m.d_model)
