"""The corpus validator behind ``emotion-book corpus check``: every rule a story and the corpus
as a whole must pass, reported as a list of problems (empty: the corpus is clean)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .plan import held_out_topic_ids
from .stories import Story, emotions, load_stories, synonyms, topics
from .voices import VOICES

REQUIRED_VOICES = tuple(VOICES)  # every emotion needs its full set of texts in each of these voices
MIN_TEST_PER_EMOTION = 3
NEAR_DUPLICATE_JACCARD = 0.5
SHINGLE = 5
COMMON_SHINGLE_TEXTS = 50  # a five-word phrase in more texts than this is stock phrasing, not copying


@dataclass(frozen=True)
class Problem:
    kind: str  # forbidden-word, too-short, duplicate, near-duplicate, too-few, unknown-topic, voice-...
    where: str  # a story id or an emotion
    detail: str

    def __str__(self) -> str:
        return f"{self.kind:15s} {self.where}: {self.detail}"


def shingles(text: str, n: int = SHINGLE) -> set[str]:
    words = re.findall(r"[a-z']+", text.lower())
    return {" ".join(words[i:i + n]) for i in range(max(len(words) - n + 1, 1))}


def near_duplicates(texts: Sequence[str], threshold: float = NEAR_DUPLICATE_JACCARD,
                    common: int = COMMON_SHINGLE_TEXTS) -> list[tuple[int, int, float]]:
    """Pairs (i, j, jaccard) of texts whose word 5-gram sets overlap by >= threshold.

    Phrases found in more than ``common`` texts are stock phrasing: they are dropped from both
    sides of the Jaccard ratio (intersection and union). Candidate pairs come from an inverted
    index, so this is fast for thousands of texts."""
    sets = [shingles(t) for t in texts]
    index: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for sh in s:
            index[sh].append(i)
    stock = {sh for sh, members in index.items() if len(members) > common}
    shared: Counter[tuple[int, int]] = Counter()
    for members in index.values():
        if 1 < len(members) <= common:
            for a in range(len(members)):
                for b in range(a + 1, len(members)):
                    shared[(members[a], members[b])] += 1
    out = []
    for (i, j), count in shared.items():
        union = len((sets[i] | sets[j]) - stock)
        jac = count / union if union else 0.0
        if jac >= threshold:
            out.append((i, j, jac))
    return sorted(out)


def check_stories(stories: Sequence[Story], emotion_list: Sequence[str], topic_list: Sequence[str],
                  synonym_map: dict[str, list[str]], required_voices: Sequence[str] = REQUIRED_VOICES,
                  min_test: int = MIN_TEST_PER_EMOTION) -> list[Problem]:
    """Every rule of the corpus; an empty list means the corpus is clean. Every emotion needs its
    voice's full count (``Voice.per_emotion``) in each required voice, and so does every
    emotion in any other voice that has texts."""
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
        if s.voice not in VOICES:
            problems.append(Problem("unknown-voice", s.id, repr(s.voice)))
            continue
        voice = VOICES[s.voice]
        if s.topic not in topic_list:
            problems.append(Problem("unknown-topic", s.id, repr(s.topic[:60])))
        elif topic_list.index(s.topic) != s.topic_id:
            problems.append(Problem("topic-id", s.id, f"topic_id {s.topic_id} does not match the topic"))
        elif s.split != ("test" if s.topic in test_topics else "train"):
            problems.append(Problem("split", s.id, f"split {s.split!r} but the topic is held out as "
                                    f"{'test' if s.topic in test_topics else 'train'}"))
        allowed = ("first", "third") if voice.person == "mixed" else (voice.person,)
        if s.person not in allowed:
            problems.append(Problem("person", s.id, f"{s.person!r}; the {s.voice} voice takes {' or '.join(allowed)}"))
        if s.emotion in known_emotions and s.emotion not in synonym_map:
            problems.append(Problem("no-synonyms", s.emotion, "no synonym list"))
        for kind, detail in voice.text_problems(s.text, [s.emotion, *synonym_map.get(s.emotion, [])]):
            problems.append(Problem(kind, s.id, detail))
        norm = " ".join(s.text.lower().split())
        if norm in seen_text:
            problems.append(Problem("duplicate", s.id, f"same text as {seen_text[norm]}"))
        seen_text.setdefault(norm, s.id)
    for i, j, jac in near_duplicates([s.text for s in stories]):
        problems.append(Problem("near-duplicate", stories[j].id,
                                f"{jac:.0%} of 5-word phrases shared with {stories[i].id}"))
    groups: dict[tuple[str, str], list[Story]] = defaultdict(list)
    for s in stories:
        groups[(s.voice, s.emotion)].append(s)
    voices_present = sorted({s.voice for s in stories if s.voice in VOICES} | set(required_voices))
    for voice_name in voices_present:
        voice = VOICES[voice_name]
        for e in emotion_list:
            group = groups.get((voice_name, e), [])
            where = e if voice_name == "narrative" else f"{e} ({voice_name})"
            if len(group) < voice.per_emotion:
                problems.append(Problem("too-few", where, f"{len(group)} texts, need {voice.per_emotion}"))
            n_test = sum(s.split == "test" for s in group)
            if group and n_test < min(min_test, voice.n_test):
                need = min(min_test, voice.n_test)
                problems.append(Problem("too-few-test", where, f"{n_test} test texts, need {need}"))
            repeats = [t for t, c in Counter(s.topic for s in group).items() if c > 1]
            if repeats:
                problems.append(Problem("repeated-topic", where, f"{len(repeats)} topic(s) used twice"))
    return problems


def check_corpus(root: Path | None = None) -> tuple[list[Story], list[Problem]]:
    stories = load_stories(root)
    return stories, check_stories(stories, emotions(root), topics(root), synonyms(root))
