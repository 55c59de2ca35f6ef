"""The story corpus and the neutral dialogues: loading, and the validator behind
``emotion-book corpus check``.

Story records (``data/stories/<emotion>.jsonl``, one JSON object per line):
``id, emotion, topic, topic_id, person ("first"|"third"), split ("train"|"test"), text``.
Whole topics are held out for the test split (see ``corpus_plan``).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .corpus_plan import StorySlot, held_out_topic_ids, read_lines
from .corpus_rules import text_problems
from .errors import DataError
from .paths import data_dir

MIN_STORIES_PER_EMOTION = 12
MIN_TEST_PER_EMOTION = 3
NEAR_DUPLICATE_JACCARD = 0.5
SHINGLE = 5


@dataclass(frozen=True)
class Story(StorySlot):
    """A written story: its slot (id, emotion, topic, topic_id, person, split) and its text."""

    text: str


def emotions(root: Path | None = None) -> list[str]:
    return _lines((root or data_dir()) / "emotions.txt")


def topics(root: Path | None = None) -> list[str]:
    return _lines((root or data_dir()) / "topics.txt")


def _lines(path: Path) -> list[str]:
    if not path.exists():
        raise DataError(f"missing data file {path}")
    return read_lines(path)


def synonyms(root: Path | None = None) -> dict[str, list[str]]:
    """Direct synonyms per emotion (``data/synonyms/*.json``, merged)."""
    folder = (root or data_dir()) / "synonyms"
    merged: dict[str, list[str]] = {}
    for f in sorted(folder.glob("*.json")):
        merged.update(json.loads(f.read_text()))
    if not merged:
        raise DataError(f"no synonym lists in {folder}")
    return merged


def load_stories(root: Path | None = None, emotions_subset: Iterable[str] | None = None) -> list[Story]:
    folder = (root or data_dir()) / "stories"
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise DataError(f"no story files (*.jsonl) in {folder}")
    wanted = set(emotions_subset) if emotions_subset is not None else None
    if wanted is not None:
        unknown = sorted(wanted - set(emotions(root)))
        if unknown:
            raise DataError(f"unknown emotion(s) {', '.join(unknown)}; the 171 names are in data/emotions.txt")
    stories = []
    for f in files:
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                story = Story(**{k: rec[k] for k in Story.__dataclass_fields__})
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise DataError(f"{f}:{n}: malformed story record ({exc})") from exc
            if wanted is None or story.emotion in wanted:
                stories.append(story)
    if wanted is not None:
        empty = sorted(wanted - {s.emotion for s in stories})
        if empty:
            raise DataError(f"no stories for emotion(s) {', '.join(empty)} in {folder}")
    return stories


def corpus_hash(stories: Sequence[Story]) -> str:
    h = hashlib.sha256()
    for s in sorted(stories, key=lambda s: s.id):
        h.update(json.dumps([s.id, s.emotion, s.split, s.text]).encode())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------- validator


@dataclass(frozen=True)
class Problem:
    kind: str  # forbidden-word, length, duplicate, near-duplicate, too-few, unknown-topic, ...
    where: str  # a story id or an emotion
    detail: str

    def __str__(self) -> str:
        return f"{self.kind:15s} {self.where}: {self.detail}"


def _shingles(text: str, n: int = SHINGLE) -> set[int]:
    words = re.findall(r"[a-z']+", text.lower())
    return {hash(" ".join(words[i:i + n])) for i in range(max(len(words) - n + 1, 1))}


def near_duplicates(texts: Sequence[str], threshold: float = NEAR_DUPLICATE_JACCARD) -> list[tuple[int, int, float]]:
    """Pairs (i, j, jaccard) of texts whose word 5-gram sets overlap by >= threshold.
    Candidate pairs come from an inverted index, so this is fast for thousands of texts."""
    sets = [_shingles(t) for t in texts]
    index: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for sh in s:
            index[sh].append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for members in index.values():
        if 1 < len(members) <= 50:
            for a in range(len(members)):
                for b in range(a + 1, len(members)):
                    shared[(members[a], members[b])] += 1
    out = []
    for (i, j), count in shared.items():
        jac = count / len(sets[i] | sets[j])
        if jac >= threshold:
            out.append((i, j, jac))
    return sorted(out)


def check_stories(stories: Sequence[Story], emotion_list: Sequence[str], topic_list: Sequence[str],
                  synonym_map: dict[str, list[str]], min_per_emotion: int = MIN_STORIES_PER_EMOTION,
                  min_test: int = MIN_TEST_PER_EMOTION) -> list[Problem]:
    """Every rule of the corpus; an empty list means the corpus is clean."""
    problems: list[Problem] = []
    test_topics = {topic_list[i] for i in held_out_topic_ids(len(topic_list))}
    known_emotions = set(emotion_list)
    seen_ids: set[str] = set()
    seen_text: dict[str, str] = {}
    for s in stories:
        if s.id in seen_ids:
            problems.append(Problem("duplicate-id", s.id, "id used twice"))
        seen_ids.add(s.id)
        if s.emotion not in known_emotions:
            problems.append(Problem("unknown-emotion", s.id, repr(s.emotion)))
        if s.topic not in topic_list:
            problems.append(Problem("unknown-topic", s.id, repr(s.topic[:60])))
        elif topic_list.index(s.topic) != s.topic_id:
            problems.append(Problem("topic-id", s.id, f"topic_id {s.topic_id} does not match the topic"))
        elif s.split != ("test" if s.topic in test_topics else "train"):
            problems.append(Problem("split", s.id, f"split {s.split!r} but the topic is held out as "
                                    f"{'test' if s.topic in test_topics else 'train'}"))
        if s.person not in ("first", "third"):
            problems.append(Problem("person", s.id, repr(s.person)))
        if s.emotion in known_emotions and s.emotion not in synonym_map:
            problems.append(Problem("no-synonyms", s.emotion, "no synonym list"))
        for kind, detail in text_problems(s.text, [s.emotion, *synonym_map.get(s.emotion, [])]):
            problems.append(Problem(kind, s.id, detail))
        norm = " ".join(s.text.lower().split())
        if norm in seen_text:
            problems.append(Problem("duplicate", s.id, f"same text as {seen_text[norm]}"))
        seen_text.setdefault(norm, s.id)
    for i, j, jac in near_duplicates([s.text for s in stories]):
        problems.append(Problem("near-duplicate", stories[j].id,
                                f"{jac:.0%} of 5-word phrases shared with {stories[i].id}"))
    by_emotion: dict[str, list[Story]] = defaultdict(list)
    for s in stories:
        by_emotion[s.emotion].append(s)
    for e in emotion_list:
        group = by_emotion.get(e, [])
        if len(group) < min_per_emotion:
            problems.append(Problem("too-few", e, f"{len(group)} stories, need {min_per_emotion}"))
        n_test = sum(s.split == "test" for s in group)
        if group and n_test < min_test:
            problems.append(Problem("too-few-test", e, f"{n_test} test stories, need {min_test}"))
        topic_counts = Counter(s.topic for s in group)
        repeats = [t for t, c in topic_counts.items() if c > 1]
        if repeats:
            problems.append(Problem("repeated-topic", e, f"{len(repeats)} topic(s) used twice"))
    return problems


def check_corpus(root: Path | None = None) -> tuple[list[Story], list[Problem]]:
    stories = load_stories(root)
    return stories, check_stories(stories, emotions(root), topics(root), synonyms(root))


# ---------------------------------------------------------------- neutral dialogues


@dataclass(frozen=True)
class Dialogue:
    id: str
    category: str
    system: str | None
    turns: list[tuple[str, str]]  # (role, text), roles "user" / "assistant"


def load_neutral(root: Path | None = None) -> list[Dialogue]:
    path = (root or data_dir()) / "neutral" / "dialogues.jsonl"
    if not path.exists():
        raise DataError(f"missing neutral dialogues {path}")
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            out.append(Dialogue(rec["id"], rec.get("category", ""), rec.get("system"),
                                [(t["role"], t["content"]) for t in rec["turns"]]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(f"{path}:{n}: malformed dialogue ({exc})") from exc
    return out


def sample_neutral(dialogues: list[Dialogue], n: int, seed: int) -> list[Dialogue]:
    """``n`` dialogues drawn without replacement (seeded), in their file order; ``n <= 0`` or
    ``n >= len(dialogues)``: all of them."""
    if n <= 0 or n >= len(dialogues):
        return list(dialogues)
    keep = set(random.Random(seed).sample(range(len(dialogues)), n))
    return [d for i, d in enumerate(dialogues) if i in keep]


def format_dialogue(tokenizer, dialogue: Dialogue) -> str:
    """The dialogue in the model's chat template (or a Human/Assistant transcript)."""
    from .models import format_chat

    return format_chat(tokenizer, dialogue.turns, dialogue.system, add_generation_prompt=False)
