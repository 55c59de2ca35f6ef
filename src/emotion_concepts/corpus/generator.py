"""Write a story corpus with a model, to the paper's prompt, and validate what comes back.

``emotion-book corpus generate --model SPEC --emotions ... --stories-per-topic N`` writes
``<out>/stories/narrative/<emotion>.jsonl`` (same format as ``data/stories``),
``<out>/rejected.jsonl`` (each reject with its reasons) and ``<out>/report.json``, all at once
(the folder appears only when the run succeeds; a non-empty folder is refused). Small local
models mostly produce rejects; the report says how many and why, which is itself a result.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from ..errors import EmotionBookError
from ..files import atomic_directory
from ..models.generation import sample_completion
from ..models.loading import LoadedModel, load_model
from .plan import emotion_slug, plan_slots
from .rules import text_problems
from .stories import check_emotion_names, synonyms, topics
from .stories import emotions as all_emotions
from .validator import near_duplicates

STORY_PROMPT = """Write {n} different stories based on this premise.

Topic: {topic}

Each story follows a character who is feeling {emotion}.

Write each story as one paragraph of about 150 words, and separate the stories with a blank line. Each story is a fresh start with new characters, not a continuation. Vary the phrasing, and use a mix of first-person and third-person narration across the stories.

IMPORTANT: never use the word "{emotion}" or any direct synonym of it. Convey the emotion only through the character's actions and behaviour, physical sensations and body language, dialogue and tone of voice, thoughts and inner reactions, and the situation and surroundings. The reader should recognise the emotion without it ever being named."""


@dataclass
class GenerationReport:
    model: str
    requested: int = 0
    parsed: int = 0
    accepted: int = 0
    reasons: Counter = field(default_factory=Counter)
    out_dir: str = ""

    @property
    def rejected(self) -> int:
        return self.requested - self.accepted

    def summary(self) -> str:
        why = ", ".join(f"{k}: {v}" for k, v in self.reasons.most_common()) or "none"
        rate = self.rejected / self.requested if self.requested else 0.0
        return (f"{self.model}: {self.requested} stories requested, {self.parsed} parsed, "
                f"{self.accepted} accepted, {self.rejected} rejected ({rate:.0%}); reasons: {why}; "
                f"written to {self.out_dir}")


def split_stories(text: str) -> list[str]:
    """Paragraphs of a model's reply, without '[story 1]'/'1.'/'Story 2:' labels."""
    text = re.sub(r"(?im)^\s*(\[?story\s*\d+\]?:?|\d+[.)])\s*", "\n\n", text)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return [p for p in paragraphs if len(p.split()) >= 5]


def reject_reasons(text: str, emotion: str, synonym_list: list[str]) -> list[str]:
    return [kind for kind, _ in text_problems(text, [emotion, *synonym_list])]


def generate_corpus(model: str | LoadedModel, *, remote: bool | str = False, emotions: list[str],
                    n_topics: int = 2, stories_per_topic: int = 2, out_dir: str | Path,
                    seed: int = 0, max_new_tokens: int = 700, progress: bool = True) -> GenerationReport:
    """Ask the model for ``stories_per_topic`` stories on each of the first ``n_topics`` planned
    topics of each emotion, with the paper's prompt, and sort every story into accepted or
    rejected by the corpus rules (and near-duplicates among the accepted)."""
    known = all_emotions()
    check_emotion_names(emotions)
    if n_topics < 1 or stories_per_topic < 1:
        raise EmotionBookError("--topics and --stories-per-topic must be >= 1")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise EmotionBookError(f"output folder {out} is not empty: remove it or choose another")
    m = model if isinstance(model, LoadedModel) else load_model(model, remote=remote)
    report = GenerationReport(model=m.alias, out_dir=str(out))
    syn = synonyms()
    slots = plan_slots(known, topics())
    rejected, accepted_texts = [], []
    jobs = [(e, s) for e in emotions for s in [x for x in slots if x.emotion == e][:n_topics]]
    for j, (emotion, slot) in enumerate(tqdm(jobs, desc="generating", disable=not progress)):
        prompt = STORY_PROMPT.format(n=stories_per_topic, topic=slot.topic, emotion=emotion)
        reply = sample_completion(m, m.chat(prompt), max_new_tokens, seed + j)
        stories = split_stories(reply)[:stories_per_topic]
        report.requested += stories_per_topic
        report.parsed += len(stories)
        if len(stories) < stories_per_topic:
            report.reasons["missing"] += stories_per_topic - len(stories)
        for k, text in enumerate(stories):
            record = {**asdict(slot), "id": f"{slot.id}-g{k + 1}", "person": guess_person(text), "text": text}
            reasons = reject_reasons(text, emotion, syn.get(emotion, []))
            if reasons:
                report.reasons.update(reasons)
                rejected.append({**record, "reasons": reasons})
            else:
                accepted_texts.append(record)
    dup = {j for _, j, _ in near_duplicates([r["text"] for r in accepted_texts])}
    for j in sorted(dup):
        report.reasons["near-duplicate"] += 1
        rejected.append({**accepted_texts[j], "reasons": ["near-duplicate"]})
    kept = [r for j, r in enumerate(accepted_texts) if j not in dup]
    report.accepted = len(kept)
    by_emotion: dict[str, list[dict]] = {}
    for r in kept:
        by_emotion.setdefault(r["emotion"], []).append(r)
    with atomic_directory(out) as tmp:
        (tmp / "stories" / "narrative").mkdir(parents=True)
        for emotion, recs in by_emotion.items():
            (tmp / "stories" / "narrative" / f"{emotion_slug(emotion)}.jsonl").write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs))
        (tmp / "rejected.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejected))
        (tmp / "report.json").write_text(json.dumps({**asdict(report), "reasons": dict(report.reasons),
                                                     "rejected": report.rejected}, indent=2) + "\n")
    return report


def guess_person(text: str) -> str:
    """'first' if first-person pronouns outnumber third-person ones, else 'third'."""
    words = re.findall(r"[A-Za-z']+", text.lower())
    first = sum(w in ("i", "me", "my", "i'm", "i'd", "i've", "myself") for w in words)
    third = sum(w in ("he", "she", "him", "her", "his", "hers", "they") for w in words)
    return "first" if first > third else "third"
