"""Deterministic plan of the story corpus: which topic split each topic is in, and which
(emotion, topic, person) slots each emotion's stories fill.

Whole topics are held out for the test split, so a test story never shares a topic with any
training story. Each emotion gets ``N_TEST_PER_EMOTION`` test slots and ``N_TRAIN_PER_EMOTION``
train slots on distinct topics, rotated so every topic is used about equally often, and
alternating first and third person.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path

N_TEST_TOPICS = 25
N_TEST_PER_EMOTION = 4
N_TRAIN_PER_EMOTION = 8
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


def plan_slots(emotions: list[str], topics: list[str]) -> list[StorySlot]:
    """One slot per story to write, for every emotion (same order as ``emotions``)."""
    test_ids = held_out_topic_ids(len(topics))
    train_ids = [i for i in range(len(topics)) if i not in set(test_ids)]
    slots: list[StorySlot] = []
    for e_index, emotion in enumerate(emotions):
        chosen = [("test", test_ids[(N_TEST_PER_EMOTION * e_index + j) % len(test_ids)])
                  for j in range(N_TEST_PER_EMOTION)]
        chosen += [("train", train_ids[(N_TRAIN_PER_EMOTION * e_index + j) % len(train_ids)])
                   for j in range(N_TRAIN_PER_EMOTION)]
        for k, (split, topic_id) in enumerate(chosen):
            slots.append(StorySlot(
                id=f"{emotion_slug(emotion)}-{k + 1:02d}",
                emotion=emotion,
                topic=topics[topic_id],
                topic_id=topic_id,
                person="first" if (k + e_index) % 2 == 0 else "third",
                split=split,
            ))
    return slots


def read_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


if __name__ == "__main__":  # pragma: no cover - used once to hand out writing batches
    import json
    import sys

    root = Path(__file__).resolve().parents[2]
    emotions = read_lines(root / "data" / "emotions.txt")
    topics = read_lines(root / "data" / "topics.txt")
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    n_batches = int(sys.argv[2])
    slots = plan_slots(emotions, topics)
    for b in range(n_batches):
        batch_emotions = emotions[b::n_batches]
        with open(out / f"batch-{b + 1}.jsonl", "w") as f:
            for s in slots:
                if s.emotion in batch_emotions:
                    f.write(json.dumps(asdict(s)) + "\n")
