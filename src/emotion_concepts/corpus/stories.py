"""The story corpus: emotion names, topics, synonyms, and loading the texts.

Records live in ``data/stories/<voice>/<emotion>.jsonl``, one JSON object per line:
``id, emotion, voice, topic, topic_id, person, split ("train"|"test"), text``. Whole topics are
held out for the test split (``corpus.plan``); ``voice`` is one of ``corpus.voices.VOICES``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from ..errors import DataError
from ..paths import data_dir
from .plan import StorySlot, read_lines
from .voices import VOICES


@dataclass(frozen=True)
class Story(StorySlot):
    """A written text: its slot (id, emotion, topic, topic_id, person, split, voice) and its text."""

    text: str = ""


STORY_FIELDS = tuple(f.name for f in fields(Story))


def emotions(root: Path | None = None) -> list[str]:
    """The paper's 171 emotion words, in the paper's (alphabetical) order."""
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


def check_emotion_names(names: Iterable[str], root: Path | None = None) -> list[str]:
    """``names`` as a list, or ``DataError`` naming the ones that are not among the 171."""
    names = list(names)
    unknown = sorted(set(names) - set(emotions(root)))
    if unknown:
        raise DataError(f"unknown emotion(s) {', '.join(unknown)}; the 171 names are in data/emotions.txt")
    return names


def parse_story(line: str, where: str) -> Story:
    try:
        rec = json.loads(line)
        return Story(**{k: rec[k] for k in STORY_FIELDS})
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"{where}: malformed story record ({type(exc).__name__}: {exc})") from exc


def story_files(root: Path | None = None) -> list[Path]:
    folder = (root or data_dir()) / "stories"
    files = sorted(folder.glob("*/*.jsonl"))
    if not files:
        raise DataError(f"no story files (stories/<voice>/*.jsonl) in {folder}")
    return files


def load_stories(root: Path | None = None, emotions_subset: Iterable[str] | None = None,
                 voices: Iterable[str] | None = None) -> list[Story]:
    """Every story (or those of some emotions and voices), in file order."""
    wanted = set(check_emotion_names(emotions_subset, root)) if emotions_subset is not None else None
    wanted_voices = set(voices) if voices is not None else None
    if wanted_voices is not None and wanted_voices - set(VOICES):
        raise DataError(f"unknown voice(s) {', '.join(sorted(wanted_voices - set(VOICES)))}; "
                        f"the voices are {', '.join(VOICES)}")
    stories = []
    for f in story_files(root):
        if wanted_voices is not None and f.parent.name not in wanted_voices:
            continue
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if not line.strip():
                continue
            story = parse_story(line, f"{f}:{n}")
            if story.voice != f.parent.name:
                raise DataError(f"{f}:{n}: story {story.id} has voice {story.voice!r} but lies in the "
                                f"{f.parent.name!r} folder")
            if wanted is None or story.emotion in wanted:
                stories.append(story)
    if wanted is not None:
        empty = sorted(wanted - {s.emotion for s in stories})
        if empty:
            raise DataError(f"no stories for emotion(s) {', '.join(empty)}")
    if wanted_voices is not None:
        empty = sorted(wanted_voices - {s.voice for s in stories})
        if empty:
            raise DataError(f"no stories in voice(s) {', '.join(empty)}")
    return stories


def corpus_hash(stories: Sequence[Story]) -> str:
    """A short content hash of stories (ids, labels, splits, voices and texts), order-free."""
    h = hashlib.sha256()
    for s in sorted(stories, key=lambda s: s.id):
        h.update(json.dumps([s.id, s.emotion, s.split, s.voice, s.text]).encode())
    return h.hexdigest()[:16]


def split_indices(stories: Sequence[Story]) -> tuple[list[int], list[int]]:
    """(train indices, test indices) of ``stories``, by their split (held-out topics are test)."""
    train = [i for i, s in enumerate(stories) if s.split == "train"]
    test = [i for i, s in enumerate(stories) if s.split == "test"]
    return train, test
