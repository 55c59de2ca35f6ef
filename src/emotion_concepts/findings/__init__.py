"""One module per finding of the paper, each holding its steps, its result type, the paper's
claims it is judged on, its parameters' constraints and its quick test parameters.

``CHAPTERS`` maps each chapter (a notebook in ``notebooks/``) to its declaration."""

from . import (
    blackmail,
    emotion_vectors,
    geometry,
    implicit_scenarios,
    intensity,
    monitoring,
    preferences,
    reward_hacking,
    speakers,
    steering_sanity,
    story_corpus,
    sycophancy,
)
from .base import Chapter, Claim, Param

_MODULES = (story_corpus, emotion_vectors, geometry, implicit_scenarios, intensity, speakers, steering_sanity,
            preferences, blackmail, reward_hacking, sycophancy, monitoring)
CHAPTERS: dict[str, Chapter] = {m.CHAPTER.id: m.CHAPTER for m in _MODULES if m.CHAPTER is not None}

__all__ = ["CHAPTERS", "Chapter", "Claim", "Param", "blackmail", "emotion_vectors", "geometry", "implicit_scenarios",
           "intensity", "monitoring", "preferences", "reward_hacking", "speakers", "steering_sanity", "story_corpus",
           "sycophancy"]
