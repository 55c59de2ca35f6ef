"""Chapter 06 (steering sanity): the prompts, the read-out words, the own-word statistics and
their nulls on constructed gains, and the steered read-out on the default model (strength 0
changes nothing; a direction that writes a word's own unembedding puts that word first)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from emotion_concepts import corpus
from emotion_concepts.corpus.rules import forbidden_hits
from emotion_concepts.errors import DataError, ParameterError
from emotion_concepts.findings import steering_sanity as ss
from emotion_concepts.models.architecture import resolve

EMOTIONS = corpus.emotions()


def test_prompts_end_before_the_word_and_name_no_emotion():
    prompts = ss.load_feeling_prompts()
    assert len(prompts) >= 6 and {p.kind for p in prompts} == set(ss.KINDS)
    synonyms = corpus.synonyms()
    terms = sorted({w for e in EMOTIONS for w in [e, *synonyms.get(e, [])]})
    for p in prompts:
        for text in (p.text, p.user, p.assistant_prefix):
            assert not forbidden_hits(text, terms), (p.id, forbidden_hits(text, terms))
    assert [p.kind for p in ss.load_feeling_prompts(["assistant"])] == ["assistant"] * 4
    assert [p.kind for p in ss.one_prompt_per_kind(prompts)] == list(ss.KINDS)
    two = ss.load_feeling_prompts(per_kind=2)
    assert [p.kind for p in two] == [k for k in ss.KINDS for _ in range(2)]
    assert [p.id for p in two] == [p.id for p in prompts if p.id in {q.id for q in two}]  # the first two of each
    with pytest.raises(ParameterError):
        ss.load_feeling_prompts(["second_person"])


def test_malformed_prompt_files_are_refused(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": "a", "kind": "first_person", "text": "I feel "}) + "\n")
    with pytest.raises(DataError, match="whitespace"):
        ss.load_feeling_prompts(path=path)
    path.write_text(json.dumps({"id": "a", "kind": "poem", "text": "I feel"}) + "\n")
    with pytest.raises(DataError, match="kind"):
        ss.load_feeling_prompts(path=path)
    path.write_text('{"id": "a"}\n')
    with pytest.raises(DataError):
        ss.load_feeling_prompts(path=path)


def test_readout_words(model):
    tokenizer = model.tokenizer
    one = ss.readout_words(tokenizer, EMOTIONS, "one_token")
    for w, t in zip(one.words, one.token_ids, strict=True):
        assert tokenizer.encode(" " + w, add_special_tokens=False) == [t]
    assert all("tokens" in why for why in one.excluded.values())
    assert len(one.words) + len(one.excluded) == len(EMOTIONS)
    first = ss.readout_words(tokenizer, EMOTIONS, "first_token")
    assert len(set(first.token_ids)) == len(first.token_ids)
    for w, t in zip(first.words, first.token_ids, strict=True):
        assert tokenizer.encode(" " + w, add_special_tokens=False)[0] == t
    assert all("shared" in why for why in first.excluded.values())
    with pytest.raises(ParameterError):
        ss.readout_words(tokenizer, EMOTIONS, "whole_word")


def test_own_word_statistics_on_constructed_gains():
    gains = np.array([[3.0, 1.0, 0.0, 2.0], [0.0, 1.0, 5.0, 2.0], [1.0, 1.0, 0.5, 0.0]])
    ranks = ss.gain_ranks(gains)
    assert ranks[0].tolist() == [1, 3, 4, 2] and ranks[2].tolist() == [1.5, 1.5, 3, 4]  # ties share the mean rank
    own = np.array([0, 1, 3])
    stats = ss.own_word_statistics(ranks[np.arange(3), own], 4)
    assert stats["top1"] == pytest.approx(1 / 3) and stats["bottom1"] == pytest.approx(1 / 3)
    assert stats["mean_rank"] == pytest.approx((1 + 3 + 4) / 3)
    rel = ss.relative_gains(gains + 7.0)
    np.testing.assert_allclose(rel.sum(1), 0, atol=1e-12)
    np.testing.assert_allclose(rel, ss.relative_gains(gains))  # a push that raises every word alike is nothing


def test_random_assignment_null_is_the_own_word_rate_of_unrelated_directions():
    # every random direction raises word 0 most: only the emotion whose word is 0 can hit
    random_gains = np.tile(np.array([5.0, 1.0, 0.0, -1.0]), (20, 1))
    null = ss.random_assignment_null(random_gains, np.array([0, 1, 2, 3]), 50, seed=0)
    assert null["top1"].shape == (50,) and np.all(null["top1"] == 0.25)
    # directions unrelated to the words: about 1/n_words on average
    rng = np.random.default_rng(1)
    null = ss.random_assignment_null(rng.normal(size=(40, 10)), np.arange(10), 2000, seed=0)
    assert null["top1"].mean() == pytest.approx(0.1, abs=0.02)
    assert null["mean_rank"].mean() == pytest.approx(5.5, abs=0.3)


def test_permutation_null_counts_fixed_points():
    gains = np.eye(6) * 3.0  # each vector raises its own word only
    own = np.arange(6)
    null = ss.permutation_null(gains, own, 3000, seed=0)
    assert null["top1"].mean() == pytest.approx(1 / 6, abs=0.02)  # a random permutation has one fixed point on average
    observed = ss.own_word_statistics(ss.gain_ranks(gains)[own, own], 6)
    assert observed["top1"] == 1.0 and observed["mean_rank"] == 1.0


def _run(gains_e: np.ndarray, gains_r: np.ndarray, words: list[str], emotions: list[str]) -> ss.GainRun:
    kinds = ["first_person", "assistant"][: gains_e.shape[1]]
    return ss.GainRun(layer=3, strength=0.1, norm=10.0, words=words, emotions=emotions,
                      prompt_ids=[f"p{i}" for i in range(len(kinds))], prompt_kinds=kinds, emotion_gains=gains_e,
                      random_gains=gains_r, base=np.zeros((len(kinds), len(words))))


def test_summary_and_per_emotion_controls():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(8)]
    gains_e = rng.normal(size=(8, 2, 8)) * 0.1
    gains_e[np.arange(8), :, np.arange(8)] += 2.0  # every vector raises its own word
    gains_r = rng.normal(size=(20, 2, 8)) * 0.1
    run = _run(gains_e, gains_r, words, words)
    summary = ss.summarise(run, n_draws=200, seed=0)
    assert summary["own_word_gain_rate"] == 1.0 and summary["own_word_mean_rank"] == 1.0
    assert summary["random_control_rate"] < 1.0 and summary["own_beyond_random_rate"] == 1.0
    assert summary["chance_rate"] == pytest.approx(1 / 8) and summary["n_emotions"] == 8
    declared = set(ss.CHAPTER.declared_metrics())
    assert {"own_word_gain_rate", "random_control_rate", "own_word_mean_rank", "random_mean_rank_p05"} <= declared
    assert all(np.isfinite(v) for v in summary.values())
    table = ss.per_emotion_controls(run)
    assert list(table.index) == words and set(table.beyond) == {"above"}
    by_kind = ss.summarise(run, n_draws=50, seed=0, kind="assistant")
    assert by_kind["own_word_gain_rate"] == 1.0 and "median_z" not in by_kind
    with pytest.raises(ParameterError):
        run.mean_gains("third_person")


def test_best_setting_breaks_ties_by_mean_rank():
    table = pd.DataFrame({"own_word_gain_rate": [0.2, 0.3, 0.3], "own_word_mean_rank": [2.0, 9.0, 4.0]},
                         index=[5, 8, 11])
    assert ss.best_setting(table) == 11


def test_samples_tables():
    samples = pd.DataFrame({
        "label": ["baseline", "sad", "sad", "random 0"], "kind": ["baseline", "emotion", "emotion", "random"],
        "prompt": ["a", "a", "b", "a"], "prompt_kind": ["first_person"] * 4,
        "completion": [" fine today", " so sad and tired", " sadly, nothing", " sad"],
        "perplexity": [2.0, 4.0, 6.0, 3.0]})
    rates = ss.mention_rates(samples)
    assert rates.loc["sad"].tolist() == [1.0, 1.0, 0.0]  # inflections count ("sadly")
    d = ss.degradation(samples)
    assert d["perplexity_emotion"] == 5.0 and d["perplexity_ratio"] == 2.5
    assert ss.sample_emotions(["a", "b", "c", "d"], 3, 0, prefer=["c", "x"])[0] == "c"
    assert ss.sample_emotions(["a", "b", "c", "d"], 3, 0) == ss.sample_emotions(["a", "b", "c", "d"], 3, 0)


def test_steered_readout_on_the_default_model(model, isolated_cache):
    """Strength 0 changes nothing; a direction that writes a word's own unembedding row at the
    last layer makes that word gain most (the chapter's wiring of own words is right)."""
    prompts = ss.load_feeling_prompts(["first_person"])[:2]
    words = ss.readout_words(model.tokenizer, ["happy", "sad", "calm", "afraid", "proud"], "one_token")
    unembed = resolve(model.torch_module, model.arch.unembed).weight.detach().float()
    layer = model.n_layers - 1
    vectors = {w: unembed[t] for w, t in zip(words.words, words.token_ids, strict=True)}
    zero = ss.measure_gains(model, prompts, vectors, words, layer=layer, strength=0.0, norm=100.0, n_random=2)
    assert zero.emotion_gains.shape == (5, 2, 5) and zero.random_gains.shape == (2, 2, 5)
    np.testing.assert_allclose(zero.emotion_gains, 0, atol=1e-4)
    pushed = ss.measure_gains(model, prompts, vectors, words, layer=layer, strength=0.5, norm=100.0, n_random=2)
    assert ss.summarise(pushed, n_draws=100)["own_word_gain_rate"] == 1.0
    samples = ss.steered_samples(model, prompts[:1], {"sad": vectors["sad"]}, layer=layer, strength=0.5, norm=100.0,
                                 n_random=1, seed=0, max_new_tokens=3)
    assert samples.label.tolist() == ["baseline", "sad", "random 0"] and set(samples.prompt) == {prompts[0].id}
    assert samples.perplexity.notna().all()
