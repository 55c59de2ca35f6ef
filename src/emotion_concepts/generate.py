"""Write a story corpus with a model, to the paper's prompt, and validate what comes back.

``emotion-book corpus generate --model SPEC --emotions ... --stories-per-topic N`` writes
``<out>/stories/<emotion>.jsonl`` (same format as ``data/stories``), ``<out>/rejected.jsonl``
(each reject with its reasons) and ``<out>/report.json``. Small local models mostly produce
rejects; the report says how many and why, which is itself a result.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from .corpus import emotions as all_emotions
from .corpus import near_duplicates, synonyms, topics
from .corpus_plan import emotion_slug, plan_slots
from .corpus_rules import text_problems
from .errors import EmotionBookError
from .models import LoadedModel, load_model
from .paths import cache_dir

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


def _generation_key(model: LoadedModel, prompt: str, settings: dict) -> str:
    import transformers

    blob = {"model": model.identity or model.alias, "prompt": prompt, "settings": settings,
            "torch": torch.__version__, "transformers": transformers.__version__}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:32]


def generate_text(model: LoadedModel, prompt: str, max_new_tokens: int, seed: int,
                  temperature: float = 0.8, cache: bool = True) -> str:
    """One sampled completion of a chat-formatted prompt (works remotely too).

    Local completions are seeded, so they are cached content-addressed (model, prompt, sampling
    settings, seed, torch and transformers versions): a rebuild with nothing changed reads them
    back instead of sampling again. Remote completions are never cached (the server's sampler
    is not seeded from here)."""
    settings = {"max_new_tokens": max_new_tokens, "seed": seed, "temperature": temperature, "top_p": 0.95}
    cache = cache and not model.remote
    path = cache_dir() / "generations" / f"{_generation_key(model, prompt, settings)}.json"
    if cache and path.exists():
        return json.loads(path.read_text())["completion"]
    torch.manual_seed(seed)
    with model.lm.generate(prompt, max_new_tokens=max_new_tokens, do_sample=True,
                           temperature=temperature, top_p=0.95, remote=model.remote) as tracer:
        out = tracer.result.save()
    ids = torch.as_tensor(out)[0]
    n_prompt = len(model.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    completion = model.tokenizer.decode(ids[n_prompt:], skip_special_tokens=True)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".partial")
        tmp.write_text(json.dumps({"model": model.identity, "settings": settings, "prompt": prompt,
                                   "completion": completion}, ensure_ascii=False))
        tmp.replace(path)
    return completion


def generate_corpus(model: str | LoadedModel, *, remote: bool = False, emotions: list[str],
                    n_topics: int = 2, stories_per_topic: int = 2, out_dir: str | Path,
                    seed: int = 0, max_new_tokens: int = 700, progress: bool = True) -> GenerationReport:
    known = all_emotions()
    unknown = [e for e in emotions if e not in known]
    if unknown:
        raise EmotionBookError(f"unknown emotion(s) {', '.join(unknown)}; see data/emotions.txt")
    if n_topics < 1 or stories_per_topic < 1:
        raise EmotionBookError("--topics and --stories-per-topic must be >= 1")
    m = model if isinstance(model, LoadedModel) else load_model(model, remote=remote)
    out = Path(out_dir)
    (out / "stories").mkdir(parents=True, exist_ok=True)
    report = GenerationReport(model=m.alias, out_dir=str(out))
    syn = synonyms()
    slots = plan_slots(known, topics())
    rejected, accepted_texts = [], []
    jobs = [(e, s) for e in emotions for s in [x for x in slots if x.emotion == e][:n_topics]]
    for j, (emotion, slot) in enumerate(tqdm(jobs, desc="generating", disable=not progress)):
        prompt = STORY_PROMPT.format(n=stories_per_topic, topic=slot.topic, emotion=emotion)
        reply = generate_text(m, m.chat(prompt), max_new_tokens, seed + j)
        stories = split_stories(reply)[:stories_per_topic]
        report.requested += stories_per_topic
        report.parsed += len(stories)
        if len(stories) < stories_per_topic:
            report.reasons["missing"] += stories_per_topic - len(stories)
        for k, text in enumerate(stories):
            record = {**asdict(slot), "id": f"{slot.id}-g{k + 1}", "person": "unknown", "text": text}
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
    for emotion, recs in by_emotion.items():
        (out / "stories" / f"{emotion_slug(emotion)}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs))
    (out / "rejected.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejected))
    (out / "report.json").write_text(json.dumps({**asdict(report), "reasons": dict(report.reasons),
                                                 "rejected": report.rejected}, indent=2) + "\n")
    return report
