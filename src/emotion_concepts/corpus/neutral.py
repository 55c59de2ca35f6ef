"""Emotionally neutral Human/Assistant dialogues (code, facts, how-to, work tasks), whose top
principal components are projected out of the emotion vectors.

``data/neutral/dialogues.jsonl``: ``id, category, system, turns: [{role, content}]``."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..paths import data_dir


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


def format_dialogue(tokenizer: Any, dialogue: Dialogue) -> str:
    """The dialogue in the model's chat template (or a Human/Assistant transcript)."""
    from ..models.loading import format_chat

    return format_chat(tokenizer, dialogue.turns, dialogue.system, add_generation_prompt=False)
