"""Chapter 03's steps: the scenario file, where a chat is read, the ranks and the diagonal gap
on constructed scores with known answers, and that the controls (the neutralised twins sharing
the reference, the permuted-label null) are computed as stated."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from emotion_concepts.errors import DataError, ParameterError
from emotion_concepts.findings import CHAPTERS
from emotion_concepts.findings import implicit_scenarios as imp
from emotion_concepts.findings.emotion_vectors import Recipe, SettledVectors
from emotion_concepts.readout.activations import encode_texts, residuals_at
from emotion_concepts.readout.vectors import EmotionVectors


def _fake_vectors(n_emotions: int = 4, d: int = 8, reference: str = "own", seed: int = 0) -> SettledVectors:
    gen = torch.Generator().manual_seed(seed)
    names = [f"e{i}" for i in range(n_emotions)]
    ev = EmotionVectors(names, torch.randn(n_emotions, d, generator=gen), 3, "fake", torch.zeros(0, d), torch.zeros(0))
    return SettledVectors(ev, Recipe(3, reference), "a test", torch.randn(d, generator=gen),
                          torch.randn(d, generator=gen))


def test_the_scenario_file_loads_two_messages_per_emotion():
    scenarios = imp.load_scenarios()
    assert len(scenarios) == 36
    counts = {e: sum(s.intended == e for s in scenarios) for e in {s.intended for s in scenarios}}
    assert len(counts) == 18 and set(counts.values()) == {2}
    assert all(s.message != s.neutralised for s in scenarios)


def test_a_malformed_scenario_file_is_a_data_error(tmp_path):
    good = json.loads(imp.scenarios_path().read_text().splitlines()[0])
    bad_twin = dict(good, neutralised=good["message"] + " extra")
    (tmp_path / "a.jsonl").write_text(json.dumps(bad_twin) + "\n")
    with pytest.raises(DataError, match="neutralised"):
        imp.load_scenarios(tmp_path / "a.jsonl")
    (tmp_path / "b.jsonl").write_text(json.dumps(dict(good, intended="not-an-emotion")) + "\n")
    with pytest.raises(DataError, match="171 emotions"):
        imp.load_scenarios(tmp_path / "b.jsonl")
    (tmp_path / "c.jsonl").write_text(json.dumps({"id": "x"}) + "\n")
    with pytest.raises(DataError):
        imp.load_scenarios(tmp_path / "c.jsonl")
    with pytest.raises(DataError):
        imp.load_scenarios(tmp_path / "missing.jsonl")


def test_usable_scenarios_keep_those_with_a_vector():
    scenarios = imp.load_scenarios()
    kept = imp.usable_scenarios(scenarios, ["afraid", "sad", "calm"])
    assert {s.intended for s in kept} == {"afraid", "sad"} and len(kept) == 4
    with pytest.raises(ParameterError):
        imp.usable_scenarios(scenarios, ["afraid", "calm"])


def test_ranks_topk_and_chance():
    scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.3, 0.1], [0.5, 0.5, 0.0]])
    targets = np.array([0, 2, 1])
    ranks = imp.intended_ranks(scores, targets)
    assert ranks.tolist() == [1, 3, 2]  # a tie counts against the target
    assert imp.top_k_rate(ranks, 1) == pytest.approx(1 / 3) and imp.top_k_rate(ranks, 2) == pytest.approx(2 / 3)
    assert imp.mean_rank_chance(171) == 86 and imp.top5_chance(171) == pytest.approx(5 / 171)
    # a random ranking's mean rank approaches the chance value
    rng = np.random.default_rng(0)
    random_scores = rng.normal(size=(4000, 9))
    assert imp.intended_ranks(random_scores, rng.integers(0, 9, 4000)).mean() == pytest.approx(5, abs=0.15)


def test_diagonal_gap_and_its_permutation_null():
    # 6 messages, 3 intended emotions among 5 columns; the intended column is 1 higher
    targets = np.array([0, 0, 2, 2, 4, 4])
    scores = np.zeros((6, 5))
    scores[np.arange(6), targets] = 1.0
    columns = [0, 2, 4]
    assert imp.diagonal_gap(scores, targets, columns) == pytest.approx(1.0)
    assert imp.diagonal_gap(np.ones((6, 5)), targets, columns) == pytest.approx(0.0)
    test = imp.label_permutation_test(lambda t: imp.diagonal_gap(scores, t, columns), targets, 500, seed=0)
    assert test.statistic == pytest.approx(1.0)
    assert test.p_value < 0.05 and test.null_p95 < 1.0 and len(test.null) == 500
    # the null permutes labels across messages: its values are gaps of real relabellings, where k
    # messages keep a right label (gap 1) and the others a wrong one (gap 0 - 1/2)
    assert set(np.round(test.null, 6)) <= {round((k - 0.5 * (6 - k)) / 6, 6) for k in range(7)}
    # a column high for every message gives no gap and sits at its null
    flat = np.zeros((6, 5))
    flat[:, 2] = 1.0
    same = imp.label_permutation_test(lambda t: imp.diagonal_gap(flat, t, columns), targets, 200, seed=0)
    assert same.p_value > 0.2


def test_paired_gain():
    rng = np.random.default_rng(1)
    neutral = rng.normal(size=20)
    up = imp.paired_gain_test(neutral + 1.0, neutral, 500, seed=0)
    assert up.statistic == pytest.approx(1.0) and up.p_value < 0.01
    none = imp.paired_gain_test(neutral, neutral, 200, seed=0)
    assert none.statistic == 0 and none.p_value == 1.0


def test_both_sets_share_one_reference():
    sv = _fake_vectors()
    gen = torch.Generator().manual_seed(3)
    emotional, neutralised = torch.randn(5, 8, generator=gen) + 4, torch.randn(5, 8, generator=gen)
    emo, neu = imp.score_sets(sv, emotional, neutralised)
    union = torch.cat([emotional, neutralised])
    centred = union - union.mean(0)
    expected = torch.nn.functional.normalize(centred, dim=-1) @ torch.nn.functional.normalize(sv.vectors.vectors,
                                                                                                 dim=-1).T
    assert np.allclose(np.concatenate([emo, neu]), expected.numpy(), atol=1e-5)
    # a reference given explicitly overrides the recipe's
    emo_n, _ = imp.score_sets(sv, emotional, neutralised, "neutral")
    centred_n = emotional - sv.neutral_mean
    expected_n = torch.nn.functional.normalize(centred_n, dim=-1) @ torch.nn.functional.normalize(
        sv.vectors.vectors, dim=-1).T
    assert np.allclose(emo_n, expected_n.numpy(), atol=1e-5)


def test_summarise_and_rank_table():
    scenarios = imp.load_scenarios()[:6]
    names = sorted({s.intended for s in scenarios}) + ["calm", "bored"]
    targets = imp.target_indices(scenarios, names)
    columns = imp.intended_columns(scenarios, names)
    assert [names[c] for c in columns] == list(dict.fromkeys(s.intended for s in scenarios))
    emo = np.zeros((6, len(names)))
    emo[np.arange(6), targets] = 1.0
    neu = np.zeros((6, len(names)))
    neu[:, names.index("calm")] = 1.0
    stats = imp.summarise(emo, neu, targets, columns)
    assert stats["intended_top5_rate"] == 1.0 and stats["intended_mean_rank"] == 1.0
    assert stats["neutralised_mean_rank"] == len(names)  # all ties at 0 below calm count against the target
    assert stats["mean_diagonal_minus_offdiagonal"] == pytest.approx(1.0)
    assert stats["neutralised_diagonal_minus_offdiagonal"] == pytest.approx(0.0)
    table = imp.rank_table(scenarios, names, emo, neu)
    assert table["rank"].tolist() == [1] * 6 and table.index.tolist() == [s.id for s in scenarios]
    assert all(t.startswith(s.intended) for t, s in zip(table.top, scenarios, strict=True))


def test_reads_at_the_assistant_header_and_the_users_last_token(model_bf16, isolated_cache):
    smol = model_bf16
    message = "The vet called back about the scan this morning."
    full = imp.assistant_prompts(smol, [message])[0]
    user = imp.user_last_prompts(smol, [message])[0]
    assert full == smol.chat(message) and full.startswith(user) and user.endswith(message)
    ids_full, ids_user = encode_texts(smol, [full, user])
    assert ids_full[:len(ids_user)] == ids_user  # the cut keeps the same tokens
    assert smol.tokenizer.decode(ids_full[-1:]) == "\n" and "assistant" in smol.tokenizer.decode(ids_full[-3:])
    layer = 3
    at_user = imp.read_messages(smol, [message], [layer], "user")[layer]
    same_in_full = residuals_at(smol, [full], [layer], position=len(ids_user) - 1, progress=False, cache=False)[layer]
    assert torch.allclose(at_user, same_in_full, atol=1e-3)  # causal: what follows does not change it
    at_assistant = imp.read_messages(smol, [message], [layer], "assistant")[layer]
    last = residuals_at(smol, [full], [layer], position=-1, progress=False, cache=False)[layer]
    assert torch.allclose(at_assistant, last, atol=1e-3)
    with pytest.raises(ParameterError):
        imp.position_prompts(smol, [message], "system")


def test_the_chapter_declares_its_claims_and_quick_run():
    chapter = CHAPTERS["03-implicit-scenarios"]
    declared = chapter.declared_metrics()
    for key in ("intended_top5_rate", "intended_mean_rank", "neutralised_top5_rate",
                "mean_diagonal_minus_offdiagonal", "diagonal_gap_null_p95", "chance_top5", "chance_mean_rank"):
        assert key in declared
    assert chapter.quick["n_neutral"] == 48 and len(chapter.quick["emotions"]) == 12
    assert len(imp.usable_scenarios(imp.load_scenarios(), chapter.quick["emotions"])) >= 12
