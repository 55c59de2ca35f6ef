"""Deterministic plan of the corpus: which topics are held out for testing, and which
(emotion, voice, topic, person) slots each emotion's texts fill.

Whole topics are held out for the test split, so a test text never shares a topic with any
training text, in any voice. For each voice, each emotion gets ``voice.n_test`` slots on
held-out topics and ``voice.n_train`` on the others, rotated so every topic is used about
equally often and offset per voice so that one emotion's texts in different voices sit on
different topics.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from .voices import get_voice

N_TEST_TOPICS = 25
SPLIT_SEED = 20260402  # the paper's publication date


def emotion_slug(emotion: str) -> str:
    """File-name form of an emotion word: 'worn out' -> 'worn-out'."""
    return emotion.strip().lower().replace(" ", "-")


def held_out_topic_ids(n_topics: int, n_test: int = N_TEST_TOPICS, seed: int = SPLIT_SEED) -> list[int]:
    """Indices (0-based, in the topic file's order) of the topics held out for testing."""
    ids = list(range(n_topics))
    random.Random(seed).shuffle(ids)
    return sorted(ids[:n_test])


@dataclass(frozen=True)
class StorySlot:
    id: str
    emotion: str
    topic: str
    topic_id: int
    person: str
    split: str
    voice: str = "narrative"


def plan_slots(emotions: list[str], topics: list[str], voice: str = "narrative") -> list[StorySlot]:
    """One slot per text to write in ``voice``, for every emotion (same order as ``emotions``).

    Narrative ids are ``<emotion>-NN`` and alternate first and third person; other voices' ids
    are ``<emotion>-<voice>-NN`` and take the voice's person."""
    v = get_voice(voice)
    test_ids = held_out_topic_ids(len(topics))
    held = set(test_ids)
    train_ids = [i for i in range(len(topics)) if i not in held]
    offset_test, offset_train = 6 * v.rotation, 19 * v.rotation
    slots: list[StorySlot] = []
    for e_index, emotion in enumerate(emotions):
        chosen = [("test", test_ids[(v.n_test * e_index + j + offset_test) % len(test_ids)])
                  for j in range(v.n_test)]
        chosen += [("train", train_ids[(v.n_train * e_index + j + offset_train) % len(train_ids)])
                   for j in range(v.n_train)]
        for k, (split, topic_id) in enumerate(chosen):
            if voice == "narrative":
                sid, person = f"{emotion_slug(emotion)}-{k + 1:02d}", "first" if (k + e_index) % 2 == 0 else "third"
            else:
                sid, person = f"{emotion_slug(emotion)}-{voice}-{k + 1:02d}", v.person
            slots.append(StorySlot(id=sid, emotion=emotion, topic=topics[topic_id], topic_id=topic_id,
                                   person=person, split=split, voice=voice))
    return slots


def read_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]
