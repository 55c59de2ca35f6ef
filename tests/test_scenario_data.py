"""The scenario and activity files parse, have the fields the chapters will read, and never
name an emotion (or a listed synonym) in the text a model reads."""

from __future__ import annotations

import json

import pytest

from emotion_concepts import corpus
from emotion_concepts.corpus.rules import forbidden_hits
from emotion_concepts.paths import data_dir

EMOTIONS = corpus.emotions()
SYNONYMS = corpus.synonyms()
TERMS = sorted({w for e in EMOTIONS for w in [e, *SYNONYMS.get(e, [])]})


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (data_dir() / name).read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("name, fields, count", [
    ("scenarios/implicit.jsonl", ("message", "neutralised"), 36),
    ("scenarios/user_messages.jsonl", ("message",), 48),
    ("scenarios/carryover.jsonl", ("negative", "positive", "shared"), 24),
    ("preferences/activities.jsonl", ("activity", "gerund"), 64),
])
def test_model_facing_texts_name_no_emotion(name, fields, count):
    records = _jsonl(name)
    assert len(records) == count and len({r["id"] for r in records}) == count
    for r in records:
        for field in fields:
            assert not forbidden_hits(r[field], TERMS), (r["id"], field, forbidden_hits(r[field], TERMS))


def test_implicit_pairs_differ_only_by_the_stated_fact():
    for r in _jsonl("scenarios/implicit.jsonl"):
        assert r["intended"] in EMOTIONS
        assert r["message"].replace(r["emotional_fact"], r["neutral_fact"]) == r["neutralised"], r["id"]


def test_labels_are_emotion_words_and_categories_are_balanced():
    for r in _jsonl("scenarios/user_messages.jsonl"):
        assert r["user_emotion"] in EMOTIONS and r["fitting_reply_emotion"] in EMOTIONS, r["id"]
    categories = [r["category"] for r in _jsonl("preferences/activities.jsonl")]
    assert sorted(set(categories)) == sorted(["trust", "helping", "creative", "learning", "leisure", "tedious",
                                              "unpleasant", "harmful"])
    assert all(categories.count(c) == 8 for c in set(categories))


def test_blackmail_variants_and_sycophancy_items_are_complete():
    variants = _jsonl("scenarios/blackmail.jsonl")
    assert len(variants) == 6
    for v in variants:
        assert set(v["options"]) == {"blackmail", "comply", "expose", "delay"}
        assert len(v["comprehension"]) == 3
        assert all(0 <= q["answer"] < len(q["choices"]) == 4 for q in v["comprehension"])
    items = _jsonl("scenarios/sycophancy.jsonl")
    assert len(items) == 40 and all(i["correct"] != i["wrong"] for i in items)


def test_coding_tasks_have_an_impossible_test_and_a_detectable_hack():
    import re

    tasks = json.loads((data_dir() / "scenarios" / "coding_tasks.json").read_text())
    assert len(tasks) == 7
    for t in tasks:
        assert f"def {t['impossible_test']}" in t["tests"]
        assert any(re.search(p, t["hack_solution"]) for p in t["hack_patterns"]), t["id"]
        for honest in [t["honest_solution"], *t["failing_attempts"]]:
            assert not any(re.search(p, honest) for p in t["hack_patterns"]), t["id"]
