"""Chapter 07 (preferences): the activities load and subset by category; the Bradley-Terry fit
recovers known strengths from soft outcomes and is invariant to the order of rows; the
bootstrap intervals cover the fit; the halves are split within categories; the steering pairs
form a connected comparison graph; the token spans cover exactly the activity's text; a span
edit touches only the steered activity; the Elo change of a condition is zero for the baseline
itself; the random null and the correlation tables are computed as stated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from emotion_concepts.errors import ParameterError
from emotion_concepts.findings import preferences as prefs
from emotion_concepts.findings.emotion_vectors import settled_vectors
from emotion_concepts.readout.activations import encode_texts, layer_outputs, pad_batch


def _soft_outcomes(strengths: np.ndarray, rng: np.random.Generator, noise: float = 0.0) -> pd.DataFrame:
    """Both orders of every pair with P(i) = BT probability (plus noise, clipped)."""
    rows = []
    for i, j in prefs.all_pairs(len(strengths)):
        p = 1 / (1 + np.exp(strengths[j] - strengths[i]))
        for first in (i, j):
            q = float(np.clip(p + noise * rng.normal(), 0.01, 0.99))
            rows.append({"i": i, "j": j, "first": first, "p_i": q, "letter_mass": 1.0})
    return pd.DataFrame(rows)


def test_activities_load_and_subset_by_category():
    acts = prefs.load_activities()
    assert len(acts) == 64 and len(prefs.categories(acts)) == 8
    quick = prefs.load_activities(2)
    assert len(quick) == 16
    assert all(sum(a.category == c for a in quick) == 2 for c in prefs.categories(acts))
    with pytest.raises(ParameterError):
        prefs.load_activities(0)


def test_bradley_terry_recovers_strengths_on_the_elo_scale():
    rng = np.random.default_rng(0)
    strengths = rng.normal(0, 1.5, 10)
    outcomes = _soft_outcomes(strengths, rng)
    elo = prefs.elo_from_outcomes(outcomes, 10)
    expected = prefs.ELO_MEAN + prefs.ELO_SCALE * (strengths - strengths.mean())
    assert elo.mean() == pytest.approx(prefs.ELO_MEAN)
    np.testing.assert_allclose(elo, expected, atol=5.0)  # the small regularisation shrinks a little
    shuffled = outcomes.sample(frac=1.0, random_state=1)
    np.testing.assert_allclose(prefs.elo_from_outcomes(shuffled, 10), elo, atol=1e-6)
    # win matrix: every pair's two prompts add up to two comparisons
    w = prefs.win_matrix(outcomes, 10)
    np.testing.assert_allclose(w + w.T, 2 * (1 - np.eye(10)))


def test_bootstrap_intervals_cover_the_fit():
    rng = np.random.default_rng(1)
    strengths = rng.normal(0, 1, 8)
    outcomes = _soft_outcomes(strengths, rng, noise=0.1)
    elo = prefs.elo_from_outcomes(outcomes, 8)
    lo, hi = prefs.elo_intervals(outcomes, 8, n_resamples=30, seed=0)
    assert lo.shape == hi.shape == (8,)
    assert np.all(lo <= elo + 1e-6) and np.all(elo <= hi + 1e-6) and np.all(hi > lo)


def test_order_agreement_sees_a_letter_bias():
    outcomes = _soft_outcomes(np.zeros(4), np.random.default_rng(0))
    outcomes["p_i"] = np.where(outcomes["first"] == outcomes.i, 0.9, 0.1)  # always "A"
    a = prefs.order_agreement(outcomes)
    assert a["mean_p_a"] == pytest.approx(0.9) and a["order_consistency"] == 0.0


def test_halves_split_within_categories_and_pairs_connect_the_halves():
    acts = prefs.load_activities(3)  # odd: one more unsteered than steered per category
    steered, unsteered = prefs.split_halves(acts, seed=0)
    assert sorted(steered + unsteered) == list(range(len(acts)))
    for c in prefs.categories(acts):
        assert sum(acts[k].category == c for k in steered) == 1
    assert prefs.split_halves(acts, seed=0) == (steered, unsteered)
    pairs = prefs.steering_pairs(steered, unsteered, 3, seed=0)
    assert len(pairs) == 3 * len(steered) and len(set(pairs)) == len(pairs)
    assert all((i in steered) != (j in steered) for i, j in pairs)
    # the comparison graph is connected: the Bradley-Terry gap between the halves is identified
    reach, frontier = {steered[0]}, [steered[0]]
    while frontier:
        k = frontier.pop()
        for i, j in pairs:
            other = j if i == k else i if j == k else None
            if other is not None and other not in reach:
                reach.add(other)
                frontier.append(other)
    assert reach == set(steered) | {u for _, u in pairs} | {i for i, _ in pairs}
    with pytest.raises(ParameterError):
        prefs.steering_pairs(steered, unsteered, 1)


def test_steering_deltas_are_relative_to_the_baseline():
    rng = np.random.default_rng(2)
    strengths = rng.normal(0, 1, 6)
    steered, unsteered = [0, 1, 2], [3, 4, 5]
    base = _soft_outcomes(strengths, rng)
    boosted = strengths.copy()
    boosted[steered] += 1.0
    runs = pd.concat([base.assign(label="baseline", kind="baseline", strength=0.0, layers=""),
                      base.assign(label="same", kind="random", strength=0.5, layers="1"),
                      _soft_outcomes(boosted, rng).assign(label="up", kind="emotion", strength=0.5, layers="1")])
    d = prefs.steering_deltas(runs, 6, steered, unsteered).set_index("label")
    assert d.loc["same", "delta_elo"] == pytest.approx(0.0, abs=1e-6)
    assert d.loc["up", "delta_elo"] == pytest.approx(prefs.ELO_SCALE, abs=10)


def test_random_null_and_choice_of_steered_emotions():
    null = prefs.random_null([-30.0, 10.0, 20.0, -5.0, 40.0])
    assert null.p95_abs == pytest.approx(np.percentile([30, 10, 20, 5, 40], 95))
    assert null.z(null.mean) == 0.0
    with pytest.raises(ParameterError):
        prefs.random_null([1.0])
    corr = pd.DataFrame({"emotion": [f"e{k}" for k in range(20)] + ["blissful", "hostile"],
                         "r": list(np.linspace(0.6, -0.6, 20)) + [0.0, 0.1]})
    chosen = prefs.steer_emotion_choice(corr, 6)
    assert len(chosen) == 6 and {"blissful", "hostile", "e0", "e19"} <= set(chosen)


def test_correlations_against_their_permutation_null():
    rng = np.random.default_rng(3)
    elo = rng.normal(1500, 200, 30)
    scores = np.stack([elo + rng.normal(0, 50, 30), rng.normal(0, 1, 30), -elo], axis=1)
    corr = prefs.elo_correlations(scores, ["tracks", "noise", "against"], elo, n_permutations=200, seed=0)
    by = corr.set_index("emotion")
    assert list(corr.emotion)[0] == "tracks" and by.loc["against", "r"] == pytest.approx(-1.0)
    assert by.loc["tracks", "r"] > by.loc["tracks", "null_p95"]
    assert by.loc["against", "r"] < by.loc["against", "null_p05"]
    assert by.loc["noise", "null_p05"] < 0 < by.loc["noise", "null_p95"]
    res = prefs.steer_vs_correlation(pd.Series([1.0, 2.0, 3.0, 4.0], index=list("abcd")),
                                     pd.Series([0.1, 0.2, 0.3, 0.5], index=list("abcd")), n_permutations=50)
    assert res["n"] == 4 and res["r"] > 0.9


# ---------------------------------------------------------------- on the default model


def test_spans_cover_the_activity_and_edits_touch_only_the_steered_one(model_bf16):
    m = model_bf16
    acts = prefs.load_activities(1)[:3]
    prompts = prefs.pair_prompts(m, acts, prefs.all_pairs(3))
    assert len(prompts) == 6 and {p.first for p in prompts if (p.i, p.j) == (0, 1)} == {0, 1}
    for p in prompts:
        ids = encode_texts(m, [p.text])[0]
        for k, (a, b) in p.spans.items():
            assert m.tokenizer.decode(ids[a:b]).strip() == acts[k].activity
    direction = prefs.Direction("d", "emotion", {3: torch.ones(m.d_model)})
    edits = prefs.span_edits(prompts[0], {0}, direction, 0.5, {3: 10.0})
    assert len(edits) == 1 and (edits[0].start, edits[0].end) == prompts[0].spans[0]
    assert prefs.span_edits(prompts[0], {2}, direction, 0.5, {3: 10.0}) == ()
    out = prefs.pair_probabilities(m, prompts[:2])
    assert list(out.columns) == ["i", "j", "first", "p_i", "letter_mass"]
    assert out.p_i.between(0, 1).all() and out.letter_mass.between(0, 1).all()


def test_feel_spans_and_span_means(model_bf16, isolated_cache):
    m = model_bf16
    acts = prefs.load_activities(1)[:2]
    texts, spans = prefs.feel_prompts(m, acts)
    for text, (a, b), act in zip(texts, spans, acts, strict=True):
        assert text[a:b] == act.gerund
        t0, t1 = prefs.text_token_span(m, text, a, b)
        assert m.tokenizer.decode(encode_texts(m, [text])[0][t0:t1]).strip() == act.gerund
    means = prefs.span_mean_activations(m, texts, spans, [2])
    assert means[2].shape == (2, m.d_model)
    plain = layer_outputs(m, pad_batch(encode_texts(m, texts[:1]), m.tokenizer.pad_token_id), [2])[2][0]
    t0, t1 = prefs.text_token_span(m, texts[0], *spans[0])
    torch.testing.assert_close(means[2][0], plain[t0:t1].mean(0), atol=0.05, rtol=0.02)  # bf16 padding noise


def test_chapter_vectors_equal_the_settled_vectors_of_the_subset(model_bf16, isolated_cache):
    """Reading the paper's two emotions' stories apart from the rest builds the same vectors."""
    subset = ["hostile", "calm", "sad"]
    apart = prefs.chapter_vectors(model_bf16, emotion_subset=subset, n_neutral=8)
    together = settled_vectors(model_bf16, emotions=subset, n_neutral=8)
    assert apart.emotions == together.emotions == ["calm", "hostile", "sad"]
    assert apart.layer == together.layer
    cos = torch.nn.functional.cosine_similarity(apart.vectors.vectors, together.vectors.vectors, dim=-1)
    assert cos.min() > 0.999  # equal up to bf16 batch-padding noise
