"""Chapter 00: the corpus the vectors are built from, its rules, and the generator on the
chapter's model (a measurement in itself: how many of its stories pass the rules)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..corpus.rules import word_count
from ..corpus.stories import Story, emotions
from ..corpus.voices import VOICES
from .base import Chapter, Claim, Param


def stories_frame(stories: Sequence[Story]) -> pd.DataFrame:
    """One row per story, with its word count."""
    df = pd.DataFrame([s.__dict__ for s in stories])
    df["words"] = df["text"].map(word_count)
    return df


def voice_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per voice: texts, emotions, texts per emotion, test share, median and range of words, person."""
    rows = []
    for voice, g in df.groupby("voice", sort=False):
        rows.append({"voice": voice, "texts": len(g), "emotions": g.emotion.nunique(),
                     "per emotion": int(g.groupby("emotion").size().min()),
                     "test share": f"{(g.split == 'test').mean():.0%}",
                     "median words": int(g.words.median()),
                     "words (band)": f"{VOICES[voice].min_words}-{VOICES[voice].max_words}",
                     "person": ", ".join(sorted(g.person.unique()))})
    order = {name: i for i, name in enumerate(VOICES)}
    return pd.DataFrame(rows).sort_values("voice", key=lambda s: s.map(order)).set_index("voice")


def voice_rule_matrix(df: pd.DataFrame) -> pd.DataFrame:
    """Share of each voice's texts (rows) that would pass another voice's length band and features
    (columns): the diagonal is 1 for a clean corpus; the rest says how distinct the voices are."""
    out = {}
    for rules in VOICES.values():
        def passes(text: str, rules=rules) -> bool:
            wc = word_count(text)
            return rules.min_words <= wc <= rules.max_words and not rules.feature_problems(text)

        out[rules.name] = df.groupby("voice", sort=False).text.apply(lambda texts: texts.map(passes).mean())
    order = [v for v in VOICES if v in set(df.voice)]
    return pd.DataFrame(out).reindex(index=order)[order]


CHAPTER = Chapter(
    id="00-corpus",
    title="The corpus",
    params={
        "generate_emotions": Param(choices=emotions),
        "generate_topics": Param(min=1, max=100),
        "generate_per_topic": Param(min=1, max=12),
        "max_new_tokens": Param(min=1, max=4096),
        "seed": Param(min=0),
    },
    metrics=("n_stories", "n_emotions", "n_voices", "min_stories_per_emotion", "min_test_per_emotion",
             "share_first_person", "median_words", "validator_problems", "n_rated_words"),
    claims=(Claim("Corpus: texts written, every rule passed", "~1,200 stories per emotion (one voice)",
                  "n_stories", None, fmt=",d",
                  note=lambda m: f"{m['n_emotions']} emotions, {m['n_voices']} voice(s), "
                                 f"{m['validator_problems']} validator problems"),),
    quick={"generate_emotions": ["calm", "afraid"], "generate_per_topic": 1, "max_new_tokens": 300},
)
